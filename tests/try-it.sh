#!/usr/bin/env bash
# Try nfdhcpd in a throwaway sandbox: builds the daemon (release), makes a "host" network
# namespace with the NFQUEUE rules (DHCP; RS, NS and DHCPv6) and a VM namespace joined to it by
# a veth pair (tap0 on the host side, eth0 in the VM), writes a binding file (IPv4 and IPv6)
# and a config derived from the shipped conf/nfdhcpd.conf, runs the daemon, brings the VM's
# link up and runs a real ISC dhclient, and prints what the VM got: its IPv4 lease, and the
# IPv6 address and default route its kernel configured from the daemon's Router Advertisement
# (SLAAC) and the RA's DNS servers as rdisc6 reads them. Everything is removed on exit. Needs
# root, iproute2, iptables, isc-dhcp-client and ndisc6 (installed when missing).
#
#   bash tests/try-it.sh              # exit 0 when the VM got the binding's address
#   KEEP_LOGS=1 bash tests/try-it.sh  # also print the daemon's and dhclient's full logs
#
# As root it runs as it is; as another user it re-runs itself with sudo.
set -euo pipefail
# Needs root (network namespaces, iptables): as another user, re-run through sudo
# (with PATH kept, for cargo).
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "try-it: needs root (network namespaces, iptables): run it as root, or install sudo" >&2
        exit 1
    fi
    exec sudo -E env "PATH=$PATH" bash "$0" "$@"
fi
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"

die() { echo "try-it: $*" >&2; exit 1; }
command -v cargo >/dev/null || die "\`cargo\` not found (install Rust with rustup)"
# A fresh Debian machine may lack the network tools: install them.
PACKAGES="iproute2 iptables isc-dhcp-client ndisc6"
missing=
for t in ip iptables ip6tables dhclient rdisc6; do command -v "$t" >/dev/null || missing="$missing $t"; done
if [ -n "$missing" ]; then
    echo "try-it: installing $PACKAGES (missing:$missing)"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PACKAGES >/dev/null ||
        die "apt-get could not install $PACKAGES"
fi

# Names carry our pid: leftovers of an earlier run that died are those of a dead pid.
PREFIX=nfdtry-
ID="$PREFIX$$"
HOST="$ID-h"
VM="$ID-vm"
VM_MAC=02:00:5e:10:00:01
VM_IP=192.0.2.100
SUBNET6=2001:db8:aaaa:bbbb::/64
GATEWAY6=2001:db8:aaaa:bbbb::1
# The VM's SLAAC address: SUBNET6's prefix + the modified EUI-64 of VM_MAC.
VM_IP6=2001:db8:aaaa:bbbb:0:5eff:fe10:1
for ns in $(ip netns list | awk '{print $1}' | grep "^$PREFIX" || true); do
    pid=${ns#"$PREFIX"}
    pid=${pid%%-*}
    if [ ! -d "/proc/$pid" ]; then
        for p in $(ip netns pids "$ns" 2>/dev/null); do
            case "$(cat "/proc/$p/comm" 2>/dev/null)" in nfdhcpd | dhclient) kill -KILL "$p" ;; esac
        done
        ip netns del "$ns" || true
    fi
done
for d in /tmp/nfdhcpd-try-*; do
    [ -d "$d" ] || continue
    pid=${d#/tmp/nfdhcpd-try-}
    pid=${pid%%-*}
    [ -d "/proc/$pid" ] || rm -rf "$d"
done

echo "== building the daemon (cargo build --release)"
cargo build --release --quiet
BIN="$PWD/target/release/nfdhcpd"

DIR=$(mktemp -d "/tmp/nfdhcpd-try-$$-XXXXXX")
DAEMON_PID=
DHCLIENT_PID=
cleanup() {
    local rc=$?
    set +e
    # Only the processes we started, by their pid.
    if [ -n "$DHCLIENT_PID" ]; then
        kill -KILL "$DHCLIENT_PID" 2>/dev/null
        wait "$DHCLIENT_PID" 2>/dev/null
    fi
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID"
        for _ in $(seq 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DAEMON_PID" 2>/dev/null
    fi
    wait 2>/dev/null
    ip netns del "$VM" 2>/dev/null
    ip netns del "$HOST" 2>/dev/null
    rm -rf "$DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== sandbox: namespaces $HOST (host) and $VM (VM), files in $DIR"
ip netns add "$HOST"
ip netns add "$VM"
ip -n "$HOST" link set lo up
ip -n "$VM" link set lo up
ip -n "$HOST" link add tap0 type veth peer name eth0 netns "$VM"
ip -n "$VM" link set eth0 address "$VM_MAC"
ip -n "$HOST" link set tap0 up
# The VM's IPv6 as a booting VM has it: it takes RAs and autoconfigures (a fresh namespace's
# defaults, set anyway); its link comes up once the daemon is ready.
ip netns exec "$VM" sysctl -q -w net.ipv6.conf.eth0.accept_ra=1 net.ipv6.conf.eth0.autoconf=1 \
    net.ipv6.conf.eth0.forwarding=0

# The config: the shipped sample with our paths and root (the temp dir is private).
CONF="$DIR/nfdhcpd.conf"
mkdir "$DIR/state"
if [ -f conf/nfdhcpd.conf ]; then
    sed -e "s|^pidfile *=.*|pidfile = $DIR/nfdhcpd.pid|" \
        -e "s|^datapath *=.*|datapath = $DIR/state|" \
        -e "s|^logdir *=.*|logdir = $DIR|" \
        -e "s|^user *=.*|user = root|" \
        conf/nfdhcpd.conf >"$CONF"
    echo "== config: conf/nfdhcpd.conf with datapath, pidfile, logdir and user replaced"
else
    cat >"$CONF" <<EOF
[general]
pidfile = $DIR/nfdhcpd.pid
datapath = $DIR/state
logdir = $DIR
user = root
[dhcp]
enable_dhcp = yes
lease_lifetime = 604800
lease_renewal = 3600
server_ip = 192.0.2.1
server_on_link = no
dhcp_queue = 42
nameservers = 192.0.2.2, 192.0.2.3
domain = example.com
[ipv6]
enable_ipv6 = yes
ra_period = 300
rs_queue = 43
ns_queue = 44
dhcpv6_queue = 45
nameservers = 2001:db8:100::1, 2001:db8:200::2
domains = example.com
EOF
    echo "== config: generated (conf/nfdhcpd.conf not found)"
fi
queue() { # queue KEY DEFAULT: the config's queue number
    local q
    q=$(sed -n "s/^$1 *= *\([0-9]*\).*/\1/p" "$CONF")
    echo "${q:-$2}"
}
QUEUE=$(queue dhcp_queue 42)

# The rules of conf/nfdhcpd-iptables.sh (routed part), in the host namespace.
ip netns exec "$HOST" iptables -w -t mangle -A PREROUTING -i tap+ -p udp --dport 67 \
    -j NFQUEUE --queue-num "$QUEUE" --queue-bypass
ip netns exec "$HOST" ip6tables -w -t mangle -A PREROUTING -i tap+ -p icmpv6 \
    --icmpv6-type router-solicitation -j NFQUEUE --queue-num "$(queue rs_queue 43)" --queue-bypass
ip netns exec "$HOST" ip6tables -w -t mangle -A PREROUTING -i tap+ -p icmpv6 \
    --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num "$(queue ns_queue 44)" --queue-bypass
ip netns exec "$HOST" ip6tables -w -t mangle -A PREROUTING -i tap+ -p udp --dport 547 \
    -j NFQUEUE --queue-num "$(queue dhcpv6_queue 45)" --queue-bypass

cat >"$DIR/state/tap0" <<EOF
INDEV=tap0
IP=$VM_IP
MAC=$VM_MAC
HOSTNAME=testing-vm
SUBNET=192.0.2.0/24
GATEWAY=192.0.2.1
SUBNET6=$SUBNET6
GATEWAY6=$GATEWAY6
EUI64=$VM_IP6
EOF
echo "== binding file $DIR/state/tap0:"
sed 's/^/   /' "$DIR/state/tap0"

echo "== starting: ip netns exec $HOST nfdhcpd -f -d -c $CONF"
ip netns exec "$HOST" "$BIN" -f -d -c "$CONF" 2>"$DIR/daemon.log" &
DAEMON_PID=$!
deadline=$((SECONDS + 20))
until grep -qw 'INFO ready' "$DIR/daemon.log"; do
    kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$DIR/daemon.log" >&2; die "the daemon exited before it was ready"; }
    [ "$SECONDS" -lt "$deadline" ] || { cat "$DIR/daemon.log" >&2; die "the daemon was not ready within 20 s"; }
    sleep 0.1
done

# The VM boots: its link comes up; its kernel solicits a router and configures itself from the
# daemon's RA while dhclient asks for the IPv4 lease.
echo "== the VM's link comes up (IPv6: the kernel's SLAAC)"
ip -n "$VM" link set eth0 up

# dhclient's script: writes the lease's variables and configures eth0; never resolv.conf.
cat >"$DIR/script.sh" <<'EOF'
#!/bin/sh
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|REBOOT|RENEW|REBIND)
    ip -4 addr flush dev "$interface"
    ip -4 addr add "$new_ip_address/$new_subnet_mask" dev "$interface"
    env | grep '^new_' | LC_ALL=C sort >"$(dirname "$0")/lease.tmp"
    mv "$(dirname "$0")/lease.tmp" "$(dirname "$0")/lease.env" ;;
  TIMEOUT) exit 1 ;;
esac
exit 0
EOF
chmod 0755 "$DIR/script.sh"
printf 'timeout 20;\ninitial-interval 1;\nrequest subnet-mask, broadcast-address, routers, domain-name, domain-name-servers, host-name, interface-mtu;\n' >"$DIR/dhclient.conf"

echo "== running dhclient in the VM"
ip netns exec "$VM" dhclient -d -1 -v -sf "$DIR/script.sh" -pf "$DIR/dhclient.pid" \
    -lf "$DIR/dhclient.leases" -cf "$DIR/dhclient.conf" eth0 >"$DIR/dhclient.log" 2>&1 &
DHCLIENT_PID=$!
deadline=$((SECONDS + 30))
until [ -f "$DIR/lease.env" ]; do
    if ! kill -0 "$DHCLIENT_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
        echo "---- dhclient:" >&2; cat "$DIR/dhclient.log" >&2
        echo "---- daemon:" >&2; cat "$DIR/daemon.log" >&2
        die "the VM got no lease"
    fi
    sleep 0.1
done

# IPv6: wait until the global address is past DAD (not tentative) and the default route is there.
echo "== waiting for the VM's IPv6 address (SLAAC) and default route"
deadline=$((SECONDS + 30))
addr6() { ip -n "$VM" -6 addr show dev eth0 scope global; }
route6() { ip -n "$VM" -6 route show default; }
until addr6 | grep -q "inet6 $VM_IP6/64" && ! addr6 | grep -q tentative && [ -n "$(route6)" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "---- ip -6 addr, ip -6 route in the VM:" >&2
        ip -n "$VM" -6 addr show dev eth0 >&2
        ip -n "$VM" -6 route show >&2
        echo "---- daemon:" >&2; cat "$DIR/daemon.log" >&2
        die "the VM got no IPv6 address $VM_IP6 and default route within 30 s"
    fi
    sleep 0.1
done
# The RA's DNS servers (RDNSS) and search list (DNSSL), as rdisc6 in the VM decodes them.
RDISC=$(ip netns exec "$VM" rdisc6 -r 3 -w 1000 eth0 2>&1) || {
    echo "$RDISC" >&2
    die "rdisc6 in the VM got no Router Advertisement"
}
rdisc() { echo "$RDISC" | sed -n "s/^ *$1 *: *//p" | xargs; }

get() { sed -n "s/^$1=//p" "$DIR/lease.env"; }
echo
echo "The VM got:"
printf '  %-12s %s\n' \
    address "$(get new_ip_address)" \
    netmask "$(get new_subnet_mask)" \
    router "$(get new_routers)" \
    DNS "$(get new_domain_name_servers)" \
    hostname "$(get new_host_name)" \
    domain "$(get new_domain_name)" \
    lease "$(get new_dhcp_lease_time) s (renew after $(get new_dhcp_renewal_time) s)" \
    server "$(get new_dhcp_server_identifier)"
echo "  eth0 now:    $(ip -n "$VM" -4 -o addr show dev eth0 | awk '{print $4}')"
echo
echo "The VM got (IPv6, from the daemon's Router Advertisement):"
printf '  %-12s %s\n' \
    address "$(addr6 | awk '/inet6/ {print $2}') (SLAAC)" \
    router "$(route6 | head -n 1)" \
    DNS "$(rdisc 'Recursive DNS server')" \
    search "$(rdisc 'DNS search list')"
echo "  ip -6 addr show dev eth0 scope global:"
addr6 | sed 's/^/    /'
echo "  ip -6 route show default:"
route6 | sed 's/^/    /'
echo "  rdisc6 eth0 (its RDNSS and DNSSL lines):"
echo "$RDISC" | grep -E 'Recursive DNS server|DNS search list|^ *from ' | sed 's/^ */    /'
echo
echo "The daemon said:"
sed 's/^/  /' "$DIR/daemon.log"
if [ -n "${KEEP_LOGS:-}" ]; then
    echo "dhclient said:"
    sed 's/^/  /' "$DIR/dhclient.log"
fi
[ "$(get new_ip_address)" = "$VM_IP" ] || die "expected $VM_IP"
[ -n "$(rdisc 'Recursive DNS server')" ] || die "the RA carried no DNS server (RDNSS)"
echo "try-it: ok"
