#!/usr/bin/env bash
# Soak benchmark of nfdhcpd (not a CI test): the release build serves four VMs for MINUTES
# minutes (default 10) of sustained requests, on the real kernel path of the end-to-end
# tests (network namespaces, veth taps, the iptables/ip6tables NFQUEUE rules of DESIGN §1).
#
#   vm1, vm2  tests/tools/vmpkt.py `loop`: DHCPDISCOVER, RS, NS and DHCPv6
#             Information-Request round robin, 60 packets/s (15/s per queue: under the
#             default rate limit of 20/s, so every one should be answered)
#   vm3       the real ISC dhclient in a loop: a fresh DISCOVER/OFFER/REQUEST/ACK every
#             ~0.25 s (the script ends each run once it is BOUND)
#   vm4       the same `loop` at 400 packets/s (100/s per queue): most of it is cut by the
#             per-interface rate limit (drop_rate_limited), the rest answered
#
# Meanwhile vm2's binding file is replaced twice a second (temp file + rename, two versions
# with different host names) and the daemon gets a SIGHUP (reload + rescan) every minute.
#
# Every minute it samples the daemon's RSS, open fds and threads (from /proc) and its
# counters (SIGUSR1); at the end it prints the start and end figures, the counters' totals,
# what the clients saw, and checks that the daemon read every packet the NFQUEUE rules
# queued and sent every reply it built. Clients run with nice 10; the machine may be shared.
#
# Usage: bash tests/bench/soak.sh [MINUTES]   (as root, or as a user with sudo: it re-runs
# itself with sudo)
# Needs iproute2, iptables (ip6tables), isc-dhcp-client and /usr/bin/python3. Only the
# documentation ranges 192.0.2.0/24 and 2001:db8::/32 are used, inside namespaces it makes
# (nfds-<pid>-*) and deletes on exit, with everything it started.
set -euo pipefail
# Needs root (network namespaces, iptables): as another user, re-run through sudo
# (with PATH kept, for cargo).
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "soak: needs root (network namespaces, iptables): run it as root, or install sudo" >&2
        exit 1
    fi
    exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
export PATH="$PATH:/usr/sbin:/sbin"
cd "$(dirname "$0")/../.."
ROOT=$PWD
MINUTES=${1:-10}
for t in ip iptables ip6tables dhclient /usr/bin/python3; do
    command -v "$t" >/dev/null || { echo "soak: $t not found" >&2; exit 1; }
done

echo "== cargo build --release --bin nfdhcpd"
cargo build --release --bin nfdhcpd 2>&1 | tail -1
BIN=$ROOT/target/release/nfdhcpd
VMPKT=$ROOT/tests/tools/vmpkt.py

ID=nfds-$$
TMP=$(mktemp -d "/tmp/nfdhcpd-soak-$$-XXXX")
chmod 755 "$TMP" # the daemon runs as nobody: it must reach the state directory
HOST=$ID-h
DAEMON_PID=
CLIENT_PIDS=()

cleanup() {
    set +e
    rm -f "$TMP/running"
    for p in "${CLIENT_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${CLIENT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    # A dhclient run of the loop still going (we started it; its own pid file).
    [ -s "$TMP/dh/pid" ] && kill -TERM "$(cat "$TMP/dh/pid")" 2>/dev/null
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID"
        wait "$DAEMON_PID" 2>/dev/null
    fi
    for ns in "$HOST" "$ID-v1" "$ID-v2" "$ID-v3" "$ID-v4"; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

hns() { ip netns exec "$HOST" "$@"; }

# --- topology ---------------------------------------------------------------------------
ip netns add "$HOST"
hns ip link set lo up
hns iptables -w -t mangle -A PREROUTING -i tap+ -p udp --dport 67 -j NFQUEUE --queue-num 42
hns ip6tables -w -t mangle -A PREROUTING -i tap+ -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43
hns ip6tables -w -t mangle -A PREROUTING -i tap+ -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44
hns ip6tables -w -t mangle -A PREROUTING -i tap+ -p udp --dport 547 -j NFQUEUE --queue-num 45
mkdir -p "$TMP/state"
for k in 1 2 3 4; do
    vm=$ID-v$k
    mac=02:00:5e:30:00:0$k
    ip netns add "$vm"
    ip -n "$vm" link set lo up
    # The VMs' kernels stay quiet (no RS, DAD or router probes): the clients make the load.
    for key in router_solicitations dad_transmits accept_dad accept_ra; do
        ip netns exec "$vm" sh -c "echo 0 > /proc/sys/net/ipv6/conf/default/$key"
    done
    hns ip link add "tap$k" type veth peer name eth0 netns "$vm"
    ip -n "$vm" link set eth0 address "$mac"
    hns ip link set "tap$k" up
    ip -n "$vm" link set eth0 up
    cat > "$TMP/state/tap$k" <<EOF
MAC=$mac
IP=192.0.2.$((10 + k))
SUBNET=192.0.2.0/24
GATEWAY=192.0.2.1
HOSTNAME=soak-vm$k
SUBNET6=2001:db8:aaaa:bbbb::/64
GATEWAY6=2001:db8:aaaa:bbbb::1
EOF
done
cat > "$TMP/nfdhcpd.conf" <<EOF
[general]
pidfile = $TMP/run/nfdhcpd.pid
datapath = $TMP/state
logdir = $TMP
user = nobody
[dhcp]
enable_dhcp = yes
dhcp_queue = 42
server_ip = 192.0.2.1
nameservers = 192.0.2.2, 192.0.2.3
domain = example.com
[ipv6]
enable_ipv6 = yes
rs_queue = 43
ns_queue = 44
dhcpv6_queue = 45
nameservers = 2001:db8:100::1
domains = example.com
EOF

# --- the daemon ------------------------------------------------------------------------
LOG=$TMP/daemon.log
# `ip netns exec` execs the daemon: $! is the daemon's pid.
ip netns exec "$HOST" "$BIN" -f -c "$TMP/nfdhcpd.conf" </dev/null >/dev/null 2>"$LOG" &
DAEMON_PID=$!
for _ in $(seq 100); do grep -q "INFO ready" "$LOG" && break; sleep 0.1; done
grep -q "INFO ready" "$LOG" || { cat "$LOG"; echo "soak: the daemon did not start" >&2; exit 1; }

proc_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON_PID/status"; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }

# The counters line the daemon logs on SIGUSR1 (the newest one after the signal).
counters() {
    local before
    before=$(grep -c "INFO counters" "$LOG" || true)
    kill -USR1 "$DAEMON_PID"
    for _ in $(seq 50); do
        [ "$(grep -c "INFO counters" "$LOG" || true)" -gt "$before" ] && break
        sleep 0.1
    done
    grep "INFO counters" "$LOG" | tail -1 | sed 's/^INFO counters //'
}
ctr() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
replies() {
    local c=$1 s=0 k
    for k in dhcp4_offer dhcp4_ack dhcp4_nak ra_solicited na_sent dhcp6_reply; do
        s=$((s + $(ctr "$c" $k)))
    done
    echo $s
}
packets() { echo $(($(ctr "$1" dhcp4_packets) + $(ctr "$1" rs_packets) + $(ctr "$1" ns_packets) + $(ctr "$1" dhcp6_packets))); }
rules() {
    { hns iptables -w -t mangle -L PREROUTING -v -n -x; hns ip6tables -w -t mangle -L PREROUTING -v -n -x; } |
        awk '/NFQUEUE/ { s += $1 } END { print s + 0 }'
}

RSS0=$(proc_field VmRSS)
FD0=$(fds)
TH0=$(proc_field Threads)
echo "== daemon pid $DAEMON_PID ready: VmRSS ${RSS0} kB, fds $FD0, threads $TH0; load for $MINUTES min"

# --- the clients -----------------------------------------------------------------------
touch "$TMP/running"
SECONDS_TOTAL=$((MINUTES * 60))
loop_client() { # k pps; the subshell becomes the client (exec), so its pid is the client's
    exec ip netns exec "$ID-v$1" nice -n 10 /usr/bin/python3 "$VMPKT" --mac "02:00:5e:30:00:0$1" \
        --seed "$1" --pps "$2" loop --seconds "$SECONDS_TOTAL" >"$TMP/vm$1.out" 2>&1
}
loop_client 1 60 </dev/null &
CLIENT_PIDS+=($!)
loop_client 2 60 </dev/null &
CLIENT_PIDS+=($!)
loop_client 4 400 </dev/null &
CLIENT_PIDS+=($!)

mkdir -p "$TMP/dh"
cat > "$TMP/dh/script.sh" <<'EOF'
#!/bin/sh
# Ends dhclient once it holds a lease; counts the lease.
case "$reason" in
  BOUND|REBOOT|RENEW|REBIND) echo "$new_ip_address $new_host_name" >> "$(dirname "$0")/leases"; kill -TERM "$PPID" ;;
esac
exit 0
EOF
chmod +x "$TMP/dh/script.sh"
printf 'timeout 10;\ninitial-interval 1;\n' > "$TMP/dh/dhclient.conf"
(
    while [ -e "$TMP/running" ]; do
        : > "$TMP/dh/lease"
        echo run >> "$TMP/dh/runs"
        # Ended by its script (SIGTERM) once BOUND, or gives up after its 10 s timeout.
        ip netns exec "$ID-v3" nice -n 10 dhclient -d -1 -q -sf "$TMP/dh/script.sh" \
            -cf "$TMP/dh/dhclient.conf" -lf "$TMP/dh/lease" -pf "$TMP/dh/pid" eth0 \
            </dev/null >/dev/null 2>&1 || true
        sleep 0.25
    done
) 2>/dev/null </dev/null >/dev/null &
CLIENT_PIDS+=($!)

(
    n=0
    while [ -e "$TMP/running" ]; do
        n=$((n + 1))
        sed "s/^HOSTNAME=.*/HOSTNAME=soak-vm2-v$((n % 2))/" "$TMP/state/tap2" > "$TMP/state/.tap2.tmp"
        mv "$TMP/state/.tap2.tmp" "$TMP/state/tap2"
        echo "$n" > "$TMP/churn"
        sleep 0.5
    done
) </dev/null >/dev/null 2>&1 &
CLIENT_PIDS+=($!)

printf '%6s %9s %5s %7s %10s %10s %12s\n' time VmRSS_kB fds threads packets replies rate_limited
START=$(date +%s)
for m in $(seq "$MINUTES"); do
    wait_s=$((START + m * 60 - $(date +%s)))
    [ "$wait_s" -gt 0 ] && sleep "$wait_s"
    c=$(counters)
    printf '%5dm %9s %5s %7s %10s %10s %12s\n' "$m" "$(proc_field VmRSS)" "$(fds)" \
        "$(proc_field Threads)" "$(packets "$c")" "$(replies "$c")" "$(ctr "$c" drop_rate_limited)"
    kill -HUP "$DAEMON_PID"
done

C1=$(counters)
RSS1=$(proc_field VmRSS)
HWM=$(proc_field VmHWM)
FD1=$(fds)
TH1=$(proc_field Threads)
rm -f "$TMP/running"
for p in "${CLIENT_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
CLIENT_PIDS=()
# Settle: the daemon has read what the rules queued and sent what it built.
for _ in $(seq 50); do
    CE=$(counters)
    R=$(rules)
    built=$(($(replies "$CE") + $(ctr "$CE" ra_periodic)))
    handled=$(($(ctr "$CE" sent) + $(ctr "$CE" send_errors) + $(ctr "$CE" reply_queue_full)))
    [ "$(packets "$CE")" = "$R" ] && [ "$built" = "$handled" ] && break
    sleep 0.2
done

echo
echo "== after $MINUTES min"
echo "daemon VmRSS: start ${RSS0} kB, end ${RSS1} kB (peak VmHWM ${HWM} kB)"
echo "daemon open fds: start $FD0, end $FD1; threads: start $TH0, end $TH1"
echo "packets read: $(packets "$CE") (NFQUEUE rules queued $R)"
echo "  dhcp4 $(ctr "$CE" dhcp4_packets), rs $(ctr "$CE" rs_packets), ns $(ctr "$CE" ns_packets), dhcp6 $(ctr "$CE" dhcp6_packets)"
echo "replies built: $(replies "$CE") (offer $(ctr "$CE" dhcp4_offer), ack $(ctr "$CE" dhcp4_ack), nak $(ctr "$CE" dhcp4_nak), ra $(ctr "$CE" ra_solicited) + periodic $(ctr "$CE" ra_periodic), na $(ctr "$CE" na_sent), dhcp6 $(ctr "$CE" dhcp6_reply))"
echo "replies sent: $(ctr "$CE" sent); send_errors $(ctr "$CE" send_errors), reply_queue_full $(ctr "$CE" reply_queue_full)"
drops=$(tr ' ' '\n' <<<"$CE" | awk -F= '/^drop_/ && $2 > 0 { printf "%s=%s ", $1, $2 }')
echo "drops: ${drops:-none}"
echo "verdicts: dropped_bound $(ctr "$CE" dropped_bound), accepted_unbound $(ctr "$CE" accepted_unbound); queue_recv_errors $(ctr "$CE" queue_recv_errors), verdict_errors $(ctr "$CE" verdict_errors)"
echo "kernel queues (/proc/net/netfilter/nfnetlink_queue: queue portid waiting mode range queue_dropped user_dropped last_id 1):"
hns cat /proc/net/netfilter/nfnetlink_queue | sed 's/^/  /'
for k in 1 2 4; do echo "vm$k: $(grep DONE "$TMP/vm$k.out" || tail -3 "$TMP/vm$k.out")"; done
echo "vm3 dhclient: $(wc -l < "$TMP/dh/runs") runs, $(wc -l < "$TMP/dh/leases" 2>/dev/null || echo 0) leases"
echo "tap2's binding replaced $(cat "$TMP/churn" 2>/dev/null || echo 0) times; $(grep -c 'INFO reload done' "$LOG" || true) SIGHUP reloads"
echo "daemon log: $(grep -c . "$LOG") lines, $(grep -c '^ERROR' "$LOG" || true) ERROR, $(grep -c '^WARN' "$LOG" || true) WARN"
{ grep -E '^(ERROR|WARN)' "$LOG" || true; } | sort | uniq -c | head -5
ok=1
[ "$(packets "$CE")" = "$R" ] || { echo "soak: FAIL: the daemon read $(packets "$CE") packets, the rules queued $R"; ok=0; }
[ "$built" = "$handled" ] || { echo "soak: FAIL: $built replies built, $handled sent or counted"; ok=0; }
kill -0 "$DAEMON_PID" || { echo "soak: FAIL: the daemon is gone"; ok=0; }
[ $ok = 1 ] && echo "soak: OK"
