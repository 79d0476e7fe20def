# shellcheck shell=bash
# Sourced by integration tests: an isolated local cluster per test.
#
#   . "$(dirname "$0")/fixture.sh"
#   fixture_up --nodes 2 --slots 2     # scripts/cluster up under a fresh mktemp STATE_DIR
#   gradeq publish ...                 # GRADEQ_URL, GRADEQ_TOKEN, REDIS_URL, KAFKA_BROKERS,
#                                      # GRADEQ_SECRET_FILE, GRADEQ_STATE are exported
#
# On EXIT (and on INT/TERM) the cluster is taken down, so no process outlives the test;
# a watchdog also takes it down if the test is killed with SIGKILL (e.g. a ctest timeout).
# The state directory is removed when the test passed and kept (path printed) when it
# failed, or always with GRADEQ_KEEP_STATE=1. A test that needs its own cleanup defines
# fixture_cleanup(), which runs before the cluster goes down.
# Also exported: GRADEQ_REPO, GRADEQ_CLI (the gradeq binary), and PATH gets its directory.

GRADEQ_REPO=${GRADEQ_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export GRADEQ_REPO

fixture_log() { printf '[fixture] %s\n' "$*" >&2; }

# fixture_up [--nodes N] [--slots S]: returns non-zero (after printing why) on failure.
fixture_up() {
	local state rc
	state=$(mktemp -d "${TMPDIR:-/tmp}/gradeq-it.XXXXXX") || return 1
	export GRADEQ_STATE=$state
	GQ_FIXTURE_STATE=$state
	trap '_fixture_exit' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	_fixture_watchdog
	"$GRADEQ_REPO/scripts/cluster" up "$@" --dir "$state"
	rc=$?
	if [ $rc -ne 0 ]; then
		fixture_log "cluster up failed (rc $rc); logs in $state/logs"
		return $rc
	fi
	local envs
	envs=$("$GRADEQ_REPO/scripts/cluster" env --dir "$state") || return 1
	eval "$envs"
	local bin=${GRADEQ_BIN_DIR:-$GRADEQ_REPO/build}
	if [ -x "$bin/cli/gradeq" ]; then GRADEQ_CLI=$bin/cli/gradeq; else GRADEQ_CLI=$bin/gradeq; fi
	export GRADEQ_CLI
	PATH="$(dirname "$GRADEQ_CLI"):$PATH"
	export PATH
}

# Redis CLI against the fixture's Redis: fixture_redis HGETALL gq:sub:ID
fixture_redis() {
	redis-cli --no-auth-warning -u "$REDIS_URL" "$@"
}

# A background process that outlives a SIGKILLed test: it polls the test's pid and takes
# the cluster down when it is gone. It gets the state dir through its environment, so its
# command line does not name the state dir (scripts/cluster down sweeps those).
_fixture_watchdog() {
	GQ_WD_PID=$$ GQ_WD_STATE=$GQ_FIXTURE_STATE GQ_WD_REPO=$GRADEQ_REPO \
		setsid bash -c 'trap "" HUP INT
		while kill -0 "$GQ_WD_PID" 2>/dev/null; do sleep 1; done
		[ -d "$GQ_WD_STATE/run" ] && "$GQ_WD_REPO/scripts/cluster" down --dir "$GQ_WD_STATE"' \
		</dev/null >>"$GQ_FIXTURE_STATE/watchdog.log" 2>&1 &
	GQ_FIXTURE_WATCHDOG=$!
}

_fixture_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if declare -F fixture_cleanup >/dev/null; then fixture_cleanup || true; fi
	if [ -n "${GQ_FIXTURE_STATE:-}" ] && [ -d "$GQ_FIXTURE_STATE" ]; then
		"$GRADEQ_REPO/scripts/cluster" down --dir "$GQ_FIXTURE_STATE" >>"$GQ_FIXTURE_STATE/down.log" 2>&1 ||
			fixture_log "cluster down failed; see $GQ_FIXTURE_STATE/down.log"
		[ -n "${GQ_FIXTURE_WATCHDOG:-}" ] && kill "$GQ_FIXTURE_WATCHDOG" 2>/dev/null
		if [ "$rc" -eq 0 ] && [ "${GRADEQ_KEEP_STATE:-0}" != 1 ]; then
			rm -rf "$GQ_FIXTURE_STATE"
		else
			fixture_log "state kept in $GQ_FIXTURE_STATE (logs: $GQ_FIXTURE_STATE/logs)"
		fi
	fi
	exit "$rc"
}
