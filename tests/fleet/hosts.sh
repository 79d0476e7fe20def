#!/usr/bin/env bash
# The fleet test's hosts: Debian 12 systemd-nspawn containers on a private bridge.
#   hosts.sh net STATE              bridge + the registry proxy (tests/fleet/proxy.py)
#   hosts.sh base STATE PUBKEY      one debootstrap root (STATE/base), made once per run
#   hosts.sh up STATE NAME          copy of the base booted as NAME (systemd PID 1, sshd)
#   hosts.sh kill STATE NAME        power cut: SIGKILL to the container's init
#   hosts.sh start STATE NAME       boot NAME again from its disk (after kill)
#   hosts.sh down STATE             stop every host, the proxy and the bridge; remove the
#                                   roots (STATE keeps the logs)
# The hosts and their addresses are in STATE/hosts.list ("name address" per line, written
# by the caller). Each host has: user `deploy` (sudo, the operator's ssh key), this
# machine's CA certificates (the registries are reached through a TLS-intercepting proxy),
# /etc/pip.conf, and proxy settings for apt, pip and Maven pointing at the bridge address.
# Nothing else: the playbook installs what gradeq needs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BRIDGE=${GRADEQ_FLEET_BRIDGE:-gqfleet0}
NET=${GRADEQ_FLEET_NET:-10.231.7}       # /24: .1 is this machine (bridge + proxy)
PROXY_PORT=${GRADEQ_FLEET_PROXY_PORT:-3128}
SUITE=bookworm
MIRROR=${GRADEQ_FLEET_MIRROR:-http://deb.debian.org/debian}
say() { printf '[fleet-hosts] %s\n' "$*" >&2; }
die() { printf '[fleet-hosts] FAIL: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}; state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { sed -n 2,13p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
mkdir -p "$state"
state=$(cd "$state" && pwd)
proxy_url=http://$NET.1:$PROXY_PORT

addr_of() { awk -v n="$1" '$1 == n { print $2 }' "$state/hosts.list"; }

net_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  if [ -f "$state/proxy.pid" ] && kill -0 "$(cat "$state/proxy.pid")" 2>/dev/null; then
    return 0
  fi
  mkdir -p "$state/debcache"
  setsid python3 "$here/proxy.py" "$NET.1" "$PROXY_PORT" "$state/debcache" \
    </dev/null >"$state/proxy.log" 2>&1 &
  echo $! >"$state/proxy.pid"
  for _ in $(seq 50); do
    grep -q listening "$state/proxy.log" 2>/dev/null && return 0
    kill -0 "$(cat "$state/proxy.pid")" 2>/dev/null || break
    sleep 0.1
  done
  cat "$state/proxy.log" >&2
  die "the proxy did not start"
}

# Runs inside the root at build time.
in_root() { chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${@:2}"; }

base() {
  local pub=$1 root=$state/base
  if [ ! -f "$root/.fleet-base" ]; then
    cache=${GRADEQ_FLEET_DEBOOTSTRAP_CACHE:-}   # a debootstrapped root kept by the caller
    if [ -n "$cache" ] && [ -f "$cache/.debootstrapped" ] && [ ! -f "$root/.debootstrapped" ]; then
      rm -rf "$root"
      cp -a "$cache" "$root"
    fi
    if [ ! -f "$root/.debootstrapped" ]; then
      rm -rf "$root"
      say "debootstrap $SUITE into $root"
      debootstrap --variant=minbase \
        --include=systemd,systemd-sysv,dbus,openssh-server,sudo,python3,ca-certificates,iproute2,procps \
        "$SUITE" "$root" "$MIRROR" >"$state/debootstrap.log" 2>&1 \
        || { tail -n 20 "$state/debootstrap.log" >&2; die "debootstrap"; }
      touch "$root/.debootstrapped"
    fi
    # this machine's CA certificates and pip settings: registries are behind a TLS proxy
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
    in_root "$root" update-ca-certificates >/dev/null
    [ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
    # the way out: everything through the proxy on the bridge address
    printf 'Acquire::http::Proxy "%s";\nAcquire::https::Proxy "%s";\n' "$proxy_url" "$proxy_url" \
      >"$root/etc/apt/apt.conf.d/80fleet-proxy"
    python3 - "$root/etc/pip.conf" "$proxy_url" <<'EOF'
import configparser, sys
c = configparser.ConfigParser()
c.read(sys.argv[1])
if not c.has_section("global"):
    c.add_section("global")
c.set("global", "proxy", sys.argv[2])
with open(sys.argv[1], "w") as f:
    c.write(f)
EOF
    printf 'http_proxy=%s\nhttps_proxy=%s\nno_proxy=localhost,127.0.0.1,%s.0/24\n' \
      "$proxy_url" "$proxy_url" "$NET" >>"$root/etc/environment"
    mkdir -p "$root/root/.m2"
    cat >"$root/root/.m2/settings.xml" <<EOF
<settings><proxies><proxy><id>fleet</id><active>true</active><protocol>https</protocol>
<host>$NET.1</host><port>$PROXY_PORT</port></proxy></proxies></settings>
EOF
    # throwaway hosts: dpkg need not fsync every file (as in container images)
    echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/fleet-unsafe-io"
    # the operator's account
    in_root "$root" useradd -m -s /bin/bash -G sudo deploy
    echo 'deploy ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/deploy"
    chmod 0440 "$root/etc/sudoers.d/deploy"
    rm -f "$root"/etc/ssh/ssh_host_*
    # networkd brings up host0 with the address written per host
    in_root "$root" systemctl enable systemd-networkd >/dev/null 2>&1
    # nspawn mounts the cgroup controllers and /proc/sys read-only; a grader host needs
    # to make per-job cgroups and user namespaces as on a real machine
    cat >"$root/usr/local/sbin/fleet-rw" <<'EOF'
#!/bin/sh
for m in $(awk '$2 ~ "^/sys/fs/cgroup" && $4 ~ /(^|,)ro(,|$)/ { print $2 }' /proc/self/mounts); do
  mount -o remount,rw "$m" 2>/dev/null || mount -o remount,bind,rw "$m" || true
done
mount --bind /proc/sys/user /proc/sys/user && mount -o remount,bind,rw /proc/sys/user || true
EOF
    chmod 0755 "$root/usr/local/sbin/fleet-rw"
    cat >"$root/etc/systemd/system/fleet-rw.service" <<'EOF'
[Unit]
Description=Writable cgroup controllers and /proc/sys/user inside the container
DefaultDependencies=no
Before=sysinit.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/fleet-rw
[Install]
WantedBy=sysinit.target
EOF
    in_root "$root" systemctl enable fleet-rw.service >/dev/null 2>&1
    in_root "$root" apt-get clean
    touch "$root/.fleet-base"
  fi
  mkdir -p "$root/home/deploy/.ssh"
  cp "$pub" "$root/home/deploy/.ssh/authorized_keys"
  chmod 0700 "$root/home/deploy/.ssh"
  chmod 0600 "$root/home/deploy/.ssh/authorized_keys"
  chroot "$root" chown -R deploy:deploy /home/deploy/.ssh
}

boot() {
  local name=$1 root=$state/hosts/$1
  if [ -f "$state/hosts/$name.pid" ] && kill -0 "$(cat "$state/hosts/$name.pid")" 2>/dev/null; then
    return 0
  fi
  setsid systemd-nspawn --quiet --boot --register=no --keep-unit --directory="$root" --machine="$name" \
    --network-bridge="$BRIDGE" --console=pipe --capability=all \
    </dev/null >"$state/hosts/$name.log" 2>&1 &
  echo $! >"$state/hosts/$name.pid"
  local a; a=$(addr_of "$name")
  for _ in $(seq 120); do
    if (exec 3<>"/dev/tcp/$a/22") 2>/dev/null; then return 0; fi
    kill -0 "$(cat "$state/hosts/$name.pid")" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 30 "$state/hosts/$name.log" >&2
  die "$name ($a) did not come up with sshd"
}

up() {
  local name=$1 root=$state/hosts/$1 a
  a=$(addr_of "$name")
  [ -n "$a" ] || die "$name is not in $state/hosts.list"
  [ -f "$state/base/.fleet-base" ] || die "no base root; run: hosts.sh base $state PUBKEY"
  if [ ! -d "$root" ]; then
    mkdir -p "$state/hosts"
    cp -a --reflink=auto "$state/base" "$root.tmp"
    echo "$name" >"$root.tmp/etc/hostname"
    : >"$root.tmp/etc/machine-id"
    { echo "127.0.0.1 localhost"; echo "127.0.1.1 $name";
      awk '{ print $2, $1 }' "$state/hosts.list"; } >"$root.tmp/etc/hosts"
    printf '[Match]\nName=host0\n[Network]\nAddress=%s/24\nLinkLocalAddressing=no\n' "$a" \
      >"$root.tmp/etc/systemd/network/80-container-host0.network"
    ssh-keygen -q -A -f "$root.tmp"
    mv "$root.tmp" "$root"
  fi
  boot "$name"
}

# The container's init: the child of systemd-nspawn that is PID 1 in its own namespace.
init_pid() {
  local np=$1 p
  for p in $(pgrep -P "$np"); do
    if awk '/^NSpid:/ { exit !($NF == 1) }' "/proc/$p/status" 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

kill_host() {
  local name=$1 pf=$state/hosts/$1.pid np ip
  [ -f "$pf" ] || return 0
  np=$(cat "$pf")
  if ip=$(init_pid "$np"); then kill -KILL "$ip" 2>/dev/null || true; fi
  for _ in $(seq 100); do kill -0 "$np" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$np" 2>/dev/null || true
  rm -f "$pf"
}

stop_host() {
  local name=$1 pf=$state/hosts/$1.pid np
  [ -f "$pf" ] || return 0
  np=$(cat "$pf")
  kill -TERM "$np" 2>/dev/null || true   # nspawn asks the container's systemd to power off
  for _ in $(seq 100); do kill -0 "$np" 2>/dev/null || break; sleep 0.2; done
  kill_host "$name"
}

down() {
  local pf
  for pf in "$state"/hosts/*.pid; do
    [ -f "$pf" ] && stop_host "$(basename "$pf" .pid)" &
  done
  wait
  if [ -f "$state/proxy.pid" ]; then
    kill "$(cat "$state/proxy.pid")" 2>/dev/null || true
    rm -f "$state/proxy.pid"
  fi
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE"
  # the roots and caches go (deleted in the background: millions of small files); the
  # logs stay for a look after a failure
  local trash
  cp "$state"/hosts/*.log "$state/" 2>/dev/null || true
  trash=$(mktemp -d "$(dirname "$state")/.gradeq-fleet-trash.XXXXXX")
  for d in hosts base debcache; do
    [ -e "$state/$d" ] && mv "$state/$d" "$trash/"
  done
  setsid nice ionice -c3 rm -rf "$trash" </dev/null >/dev/null 2>&1 &
}

case "$cmd" in
  net) net_up ;;
  base) base "${3:?PUBKEY}" ;;
  up) up "${3:?NAME}" ;;
  start) boot "${3:?NAME}" ;;
  kill) kill_host "${3:?NAME}" ;;
  down) down ;;
  *) die "unknown command $cmd" ;;
esac
