#!/usr/bin/env bash
# The sysvinit script, for real: init/nfdhcpd.init starts the daemon (built from this tree)
# in a private network namespace with a throwaway config, defaults file, pid directory and
# binding directory, then we check status, start-when-running, reload (SIGHUP), restart,
# stop, RUN=no, a broken config (start must fail with the daemon's reason) and a stale pid
# file. Needs root (network namespace, privilege drop to nobody). The last line counts
# checks: `N passed, M failed`.
#
#   bash tests/initscript.sh
#   NFDHCPD_BIN=target/debug/nfdhcpd bash tests/initscript.sh   # another binary
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

passed=0
failed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }
not_ok() { echo "FAIL - $*"; failed=$((failed + 1)); }
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}
die() {
    echo "initscript: $*" >&2
    not_ok "$*"
    echo "$passed passed, $failed failed"
    exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (network namespace, privilege drop)"
for t in ip start-stop-daemon getent; do
    command -v "$t" >/dev/null || die "\`$t\` not found"
done
getent passwd nobody >/dev/null || die "no user nobody"

# Names carry our pid: leftovers of an earlier run are those whose pid is dead. Only
# nfdhcpd processes inside such a namespace are killed, by pid.
PREFIX=nfdinit-
NS="$PREFIX$$"
for ns in $(ip netns list | awk '{print $1}' | grep "^$PREFIX" || true); do
    pid=${ns#"$PREFIX"}
    if [ ! -d "/proc/$pid" ]; then
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = nfdhcpd ] && kill -KILL "$p"
        done
        ip netns del "$ns" 2>/dev/null
    fi
done
for d in /tmp/nfdhcpd-init-*; do
    [ -d "$d" ] || continue
    pid=${d#/tmp/nfdhcpd-init-}
    pid=${pid%%-*}
    [ -d "/proc/$pid" ] || rm -rf "$d"
done

if [ -n "${NFDHCPD_BIN:-}" ]; then
    BIN=$(readlink -f "$NFDHCPD_BIN")
else
    echo "== cargo build --release"
    cargo build --release --quiet || die "cargo build failed"
    BIN=$PWD/target/release/nfdhcpd
fi
[ -x "$BIN" ] || die "no binary at $BIN"

DIR=$(mktemp -d "/tmp/nfdhcpd-init-$$-XXXXXX")
# Daemons we saw (pids from the pid file, checked to be nfdhcpd in our namespace).
STARTED=()
cleanup() {
    # Only the test itself cleans up, never a forked child that inherited the trap.
    [ "$BASHPID" = "$$" ] || return 0
    set +e
    for p in "${STARTED[@]}"; do
        if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = nfdhcpd ]; then
            kill -TERM "$p" 2>/dev/null
            for _ in $(seq 30); do alive "$p" || break; sleep 0.1; done
            kill -KILL "$p" 2>/dev/null
        fi
    done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The daemon drops to nobody, which must reach the config (re-read on SIGHUP) and the
# binding directory; the pid directory does not exist yet: the init script creates it,
# owned by the config's user.
chmod 0755 "$DIR"
mkdir -m 0755 "$DIR/state" "$DIR/log"
PIDFILE=$DIR/run/nfdhcpd.pid
CONF=$DIR/nfdhcpd.conf
write_conf() { # write_conf LEASE_LIFETIME [DHCP_QUEUE]
    cat >"$CONF" <<EOF
[general]
pidfile = $PIDFILE   # read by the init script too
datapath = $DIR/state
logdir = $DIR/log
user = nobody

[dhcp]
dhcp_queue = ${2:-42}
lease_lifetime = $1
server_ip = 192.0.2.1

[ipv6]
enable_ipv6 = no
EOF
    chmod 0644 "$CONF"
}
write_conf 604800
cat >"$DIR/state/tap0" <<EOF
MAC=02:00:5e:10:00:01
IP=192.0.2.100
SUBNET=192.0.2.0/24
GATEWAY=192.0.2.1
HOSTNAME=vm1
EOF
DEFAULTS=$DIR/default
write_defaults() { # write_defaults [EXTRA LINE]
    cat >"$DEFAULTS" <<EOF
DAEMON=$BIN
DAEMON_OPTS="-c $CONF"
NFDHCPD_STATE_DIR=$DIR/state
${1:-}
EOF
}
write_defaults

ip netns add "$NS" || die "cannot create network namespace $NS"
ip -n "$NS" link set lo up

# init ACTION: runs the init script in the namespace; output in $DIR/out, status returned.
init() {
    echo "-- nfdhcpd.init $1"
    ip netns exec "$NS" env NFDHCPD_DEFAULTS="$DEFAULTS" SYSTEMCTL_SKIP_REDIRECT=1 \
        sh init/nfdhcpd.init "$1" >"$DIR/out" 2>&1
    local rc=$?
    sed 's/^/     | /' "$DIR/out"
    return "$rc"
}
LOG=$DIR/log/nfdhcpd.log
show_log() { [ -f "$LOG" ] && sed 's/^/     log| /' "$LOG"; }
# The pid in the pid file, when that process is an nfdhcpd in our namespace.
daemon_pid() {
    local p
    p=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = nfdhcpd ] || return 1
    [ "$(ip netns identify "$p" 2>/dev/null)" = "$NS" ] || return 1
    echo "$p"
}
remember() { local p; p=$(daemon_pid) && STARTED+=("$p"); }
alive() { # alive PID: the process exists and is not a zombie waiting for init to reap it
    local state
    state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}
gone() { # gone PID: waits up to 5 s for the process to end
    for _ in $(seq 50); do alive "$1" || return 0; sleep 0.1; done
    return 1
}

# ---- start -------------------------------------------------------------------------------
init start
rc=$?
remember
check "start exits 0 (the daemon's parent returns once it serves)" [ "$rc" = 0 ]
PID=$(daemon_pid)
check "pid file $PIDFILE names a running nfdhcpd in $NS" [ -n "$PID" ]
if [ -z "$PID" ]; then
    show_log
    ls -la "$DIR" "$DIR/run" 2>&1 | sed 's/^/     | /'
    die "no daemon: cannot go on (daemon mode not implemented yet?)"
fi
check "the init script made the pid directory, owned by nobody" \
    [ "$(stat -c %U "$DIR/run" 2>/dev/null)" = nobody ]
check "daemon runs as nobody" [ "$(awk '/^Uid:/ {print $3}' "/proc/$PID/status")" = "$(id -u nobody)" ]
check "daemon keeps exactly CAP_NET_ADMIN and CAP_NET_RAW" \
    [ "$(awk '/^CapEff:/ {print $2}' "/proc/$PID/status")" = 0000000000003000 ]
check "daemon is detached (its parent is not the init script)" \
    [ "$(awk '/^PPid:/ {print $2}' "/proc/$PID/status")" != "$$" ]

init status
check "status exits 0 while running" [ $? = 0 ]

init start
rc=$?
check "start while running exits 0" [ "$rc" = 0 ]
check "... and says so" grep -q "already running" "$DIR/out"
check "... and keeps the same daemon" [ "$(daemon_pid)" = "$PID" ]

# ---- reload ------------------------------------------------------------------------------
write_conf 86400
init reload
rc=$?
check "reload exits 0" [ "$rc" = 0 ]
sleep 0.5
check "reload keeps the same daemon and pid file" [ "$(daemon_pid)" = "$PID" ]
if [ -f "$LOG" ]; then
    for _ in $(seq 30); do grep -q "reload done" "$LOG" && break; sleep 0.1; done
    check "the daemon logged the reload" grep -q "reload done" "$LOG"
    check "the new lease_lifetime applied live" grep -q "reload: applied dhcp.lease_lifetime" "$LOG"
else
    echo "     (no $LOG: the daemon logs to syslog here; log checks skipped)"
fi

# A second daemon on the same pid file is refused, with a clear message.
ip netns exec "$NS" "$BIN" -c "$CONF" >"$DIR/second" 2>&1
rc=$?
check "a second nfdhcpd on the same pid file exits 1" [ "$rc" = 1 ]
check "... saying another nfdhcpd is running" grep -q "another nfdhcpd is running" "$DIR/second"
check "... and the first one keeps running" [ "$(daemon_pid)" = "$PID" ]

# ---- restart, force-reload ---------------------------------------------------------------
init restart
rc=$?
remember
check "restart exits 0" [ "$rc" = 0 ]
check "restart replaced the daemon" gone "$PID"
NEW=$(daemon_pid)
differs() { [ -n "$1" ] && [ "$1" != "$2" ]; }
check "restart: a new daemon serves" differs "$NEW" "$PID"
PID=$NEW
init force-reload
rc=$?
remember
check "force-reload exits 0" [ "$rc" = 0 ]
serving() { daemon_pid >/dev/null; }
check "force-reload: a daemon serves" serving
PID=$(daemon_pid)

# ---- stop --------------------------------------------------------------------------------
init stop
rc=$?
check "stop exits 0" [ "$rc" = 0 ]
check "the daemon is gone" gone "$PID"
check "the pid file is removed" [ ! -e "$PIDFILE" ]
init status
rc=$?
check "status exits 3 when stopped" [ "$rc" = 3 ]
init stop
check "stop when stopped exits 0" [ $? = 0 ]
init reload
rc=$?
check "reload when stopped fails (exit 7)" [ "$rc" = 7 ]

# ---- a stale pid file --------------------------------------------------------------------
STALE=$(sh -c 'echo $$') # a pid that has just ended
mkdir -p "$(dirname "$PIDFILE")"
echo "$STALE" >"$PIDFILE"
init start
rc=$?
remember
check "start over a stale pid file exits 0" [ "$rc" = 0 ]
PID=$(daemon_pid)
check "... and the pid file names the new daemon" differs "$PID" "$STALE"
init stop
check "stop exits 0" [ $? = 0 ]
check "... and the daemon is gone" gone "$PID"

# ---- RUN=no ------------------------------------------------------------------------------
write_defaults 'RUN="no"'
init start
rc=$?
check "RUN=no: start exits 0" [ "$rc" = 0 ]
check "RUN=no: says the daemon is disabled" grep -q "disabled" "$DIR/out"
check "RUN=no: no daemon" [ -z "$(daemon_pid)" ]
write_defaults

# ---- RUN under systemd: the unit's ExecCondition, run as systemd runs it -----------------
# (systemd turns `$$` into `$` and runs the command with /etc/default/nfdhcpd's variables in
# the environment; a non-zero exit skips the unit.)
COND=$(sed -n 's/^ExecCondition=//p' init/nfdhcpd.service | sed 's/\$\$/$/g')
check "the unit has an ExecCondition" [ -n "$COND" ]
run_cond() { env -i PATH=/usr/bin:/bin "$@" sh -c "exec $COND" >"$DIR/cond" 2>&1; }
run_cond RUN=no
check "ExecCondition: RUN=no skips the unit" [ $? != 0 ]
check "ExecCondition: ... saying why" grep -q "disabled by RUN=no" "$DIR/cond"
run_cond RUN=yes
check "ExecCondition: RUN=yes starts it" [ $? = 0 ]
run_cond
check "ExecCondition: RUN unset starts it" [ $? = 0 ]

# ---- force-stop: TERM, then KILL (as the original's) -------------------------------------
init start
rc=$?
remember
check "start for force-stop exits 0" [ "$rc" = 0 ]
PID=$(daemon_pid)
init force-stop
check "force-stop exits 0" [ $? = 0 ]
check "... and the daemon is gone" gone "$PID"
init force-stop
check "force-stop when stopped exits 0" [ $? = 0 ]

# ---- a broken config: start reports the daemon's failure ---------------------------------
write_conf 604800 not-a-queue
init start
rc=$?
remember
check "bad config: start fails" [ "$rc" != 0 ]
check "bad config: the daemon's reason is shown" grep -q "dhcp_queue" "$DIR/out"
check "bad config: no daemon" [ -z "$(daemon_pid)" ]
check "bad config: no pid file" [ ! -e "$PIDFILE" ]

# A queue held by another process: the daemon fails after detaching, and start still says
# so (the parent waits for the child's verdict).
write_conf 604800
ip netns exec "$NS" "$BIN" -f -c "$CONF" >"$DIR/holder.log" 2>&1 &
HOLDER=$!
STARTED+=("$HOLDER")
for _ in $(seq 50); do [ -f "$PIDFILE" ] && break; sleep 0.1; done
rm -f "$PIDFILE" # the holder's pid file: now only its queue is in the way
init start
rc=$?
remember
check "queue held elsewhere: start fails" [ "$rc" != 0 ]
check "queue held elsewhere: the reason names the queue" grep -qi "queue" "$DIR/out"
kill -TERM "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
