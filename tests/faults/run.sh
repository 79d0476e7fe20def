#!/usr/bin/env bash
# One fault-injection test on a cluster of its own: sources the integration fixture
# (scripts/cluster up under a fresh mktemp state dir, torn down on exit, a watchdog if the
# test is SIGKILLed), then runs faults.py NAME against it.
#   run.sh NAME [BROKER]   (NAME: node_kill rolling_restart redis_restart kafka_restart
#                           poison regrade; BROKER: redis (default) or kafka)
# Environment: GRADEQ_BIN_DIR (the build tree), GRADEQ_FAULTS_CACHE (oracle scores by
# content, kept across runs), GRADEQ_FAULTS_REPORT (one JSON of measurements per test).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: run.sh NAME [redis|kafka]}
broker=${2:-redis}
# shellcheck source=../integration/fixture.sh
. "$here/../integration/fixture.sh"
# 3 slots a node on a 2-core machine: after a node is killed or while one restarts, the
# other still has enough slots to keep both cores grading
fixture_up --nodes 2 --slots 3 --broker "$broker" || exit 1
# Below ctest's TIMEOUT (900 s): a test that hangs fails here, and the EXIT trap still
# takes its cluster down (a ctest timeout kills this whole process tree, trap included).
timeout --kill-after=10 840 /opt/gradeq/venv/bin/python "$here/faults.py" "$name"
