# shellcheck shell=bash
# Sourced by scripts/services and scripts/cluster: PID files that name one process, not a
# number the kernel may have given to another since.
#
# A PID file holds "PID STARTTIME": STARTTIME is field 22 of /proc/PID/stat (clock ticks
# since boot), read right after the spawn. pid_of prints the PID only while a process of
# that PID with that start time runs, so a stale file (the process died and its PID was
# reused: an operator's shell, a `tail -f` of a log here) is never signalled. A file
# without a start time (written by an older version) is not trusted either.
# Needs $run (the directory of the PID files) and say().

# Field 22 of /proc/$1/stat (the command name may hold spaces and parentheses: the fields
# are counted after its last ')'), or nothing when there is no such process.
proc_start_time() {
  local st
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  st=${st##*) }
  # shellcheck disable=SC2086
  set -- $st
  [ $# -ge 20 ] && printf '%s\n' "${20}"
}

# Records pid $2 as role $1 (call it right after starting the process).
pid_record() {
  local start
  start=$(proc_start_time "$2")
  printf '%s %s\n' "$2" "${start:-0}" >"$run/$1.pid"
}

# The verified pid of role $1, or nothing.
pid_of() {
  local f="$run/$1.pid" pid start now
  [ -s "$f" ] || return 0
  read -r pid start _ <"$f" || true
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  if [ -z "${start:-}" ]; then
    say "$1: $f has no start time (an older version wrote it): pid $pid is not signalled"
    return 0
  fi
  now=$(proc_start_time "$pid")
  [ -n "$now" ] && [ "$now" = "$start" ] && printf '%s\n' "$pid"
  return 0
}
