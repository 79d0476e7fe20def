# Shared by the cluster benchmarks (sourced, not run): their options and paths.
#   bench_args NAME HELP_LINES "$@"   sets students nodes slots exercises (defaults below),
#                                     prints the caller's header comment for --help
# After it: here (the checkout), py (the grading venv's python), bin (the build tree).
# shellcheck shell=bash
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${GRADEQ_PREFIX:-/opt/gradeq}/venv/bin/python
bin=${GRADEQ_BIN_DIR:-$here/build}
students=40 nodes=2 slots=2 exercises=primes,strings

bench_args() {
  local name=$1 lines=$2 script=$3
  shift 3
  while [ $# -gt 0 ]; do
    case "$1" in
      --students) students=$2; shift 2 ;;
      --nodes) nodes=$2; shift 2 ;;
      --slots) slots=$2; shift 2 ;;
      --exercises) exercises=$2; shift 2 ;;
      -h|--help) sed -n "2,${lines}p" "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) echo "$name: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
  done
  case "$students$nodes$slots" in
    *[!0-9]*) echo "$name: --students, --nodes and --slots take whole numbers" >&2; exit 2 ;;
  esac
}
