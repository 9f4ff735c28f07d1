#!/bin/sh
# nfdhcpd firewall rules as plain iptables/ip6tables commands (the same as nfdhcpd.ferm).
# Run once at boot (or translate into your firewall manager). Queue numbers must match
# /etc/nfdhcpd/nfdhcpd.conf.
# By default these queue what the original package's ferm file queued: DHCP from routed and
# bridged taps, RS, NS and DHCPv6 from routed taps only. BRIDGED=no leaves out the bridged
# DHCP rule. BRIDGED_IPV6=yes adds RS, NS and DHCPv6 from bridged taps: opt-in, because on a
# bridged host whose real router is on the bridge nfdhcpd would then answer VMs with a
# SUBNET6 binding would get the host's RAs, and their NS for the real router would be
# queued and dropped. Set it only where nfdhcpd is to answer bridged VMs' IPv6 too.
# --queue-bypass: with no nfdhcpd bound to a queue (stopped, restarting, not installed)
# the packets continue as if these rules did not exist, instead of being dropped.
# Load nfdhcpd.nft alongside (nft -f nfdhcpd.nft): it limits each tap in the kernel
# before these rules and counts what the queues pass on unanswered (iptables' hashlimit
# cannot key on the input interface, and every DHCPDISCOVER comes from 0.0.0.0).
set -e
BRIDGED=${BRIDGED:-yes}
BRIDGED_IPV6=${BRIDGED_IPV6:-no}

iptables  -t mangle -A PREROUTING -i tap+ -p udp --dport 67 -j NFQUEUE --queue-num 42 --queue-bypass
ip6tables -t mangle -A PREROUTING -i tap+ -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43 --queue-bypass
ip6tables -t mangle -A PREROUTING -i tap+ -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44 --queue-bypass
ip6tables -t mangle -A PREROUTING -i tap+ -p udp --dport 547 -j NFQUEUE --queue-num 45 --queue-bypass

if [ "$BRIDGED" = yes ]; then
    iptables  -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p udp --dport 67 -j NFQUEUE --queue-num 42 --queue-bypass
fi

if [ "$BRIDGED_IPV6" = yes ]; then
    ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43 --queue-bypass
    ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44 --queue-bypass
    ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p udp --dport 547 -j NFQUEUE --queue-num 45 --queue-bypass
fi
