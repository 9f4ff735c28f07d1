#!/bin/sh
# nfdhcpd firewall rules as plain iptables/ip6tables commands (the same as nfdhcpd.ferm).
# Run once at boot (or translate into your firewall manager). Queue numbers must match
# /etc/nfdhcpd/nfdhcpd.conf. Set BRIDGED=no to leave out the physdev rules.
set -e
BRIDGED=${BRIDGED:-yes}

iptables  -t mangle -A PREROUTING -i tap+ -p udp --dport 67 -j NFQUEUE --queue-num 42
ip6tables -t mangle -A PREROUTING -i tap+ -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43
ip6tables -t mangle -A PREROUTING -i tap+ -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44
ip6tables -t mangle -A PREROUTING -i tap+ -p udp --dport 547 -j NFQUEUE --queue-num 45

if [ "$BRIDGED" = yes ]; then
    iptables  -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p udp --dport 67 -j NFQUEUE --queue-num 42
    ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p icmpv6 --icmpv6-type router-solicitation -j NFQUEUE --queue-num 43
    ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p icmpv6 --icmpv6-type neighbour-solicitation -j NFQUEUE --queue-num 44
    ip6tables -t mangle -A PREROUTING -m physdev --physdev-in tap+ -p udp --dport 547 -j NFQUEUE --queue-num 45
fi
