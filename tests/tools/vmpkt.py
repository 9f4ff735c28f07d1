#!/usr/bin/python3
"""Packets a VM sends, for the hostile-input and fault tests of nfdhcpd (tests/e2e_hostile.rs,
tests/e2e_faults.rs) and the soak benchmark (tests/bench/soak.sh).

Runs inside a VM network namespace (`ip netns exec <vm> /usr/bin/python3 vmpkt.py ...`) and
writes raw Ethernet frames on its interface with an AF_PACKET socket, so any byte sequence can
be sent: the valid requests are built with scapy, the malformed ones byte by byte on top of
them. Every sub-command prints one `DONE key=value ...` line at the end (counts of what it
sent and, where it listens, of the replies it saw; nested keys joined with dots); the ones
that run a while print `STARTED` once their first packet is out. Only documentation
addresses (192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32), link-local and multicast ones are
used; nothing leaves the VM's link.

Sub-commands:
  hostile  --seed N --scale K   the deterministic hostile mix (DHCPv4, DHCPv6, RS, NS: valid,
                                spoofed, truncated, oversized, lying lengths, bad options,
                                random); the summary counts packets per category and per
                                NFQUEUE they are meant for
  flood    --kind dhcp4|rs|ns|dad|dhcp6 --pps R --seconds T   valid requests of one kind at
                                rate R (dad: DAD probes for the VM's link-local); counts the
                                replies (OFFERs, RAs, ...) this VM received
  discover --count N --pps R    DISCOVERs with distinct xids; collects every OFFER's
                                (yiaddr, host name) until all came or --wait passed
  dhcp4    --type T --count N [--eth-src M] [--chaddr M]   N messages of type T (a name or a
                                number), for the counter tests
  loop     --seconds T --pps R  a mix of valid requests of every kind for the soak benchmark
"""

import argparse
import ipaddress
import os
import random
import select
import signal
import socket
import struct
import time


def scapy():
    """scapy's layers, imported on first use (the import takes a second; only the valid
    reference packets of `hostile` need it)."""
    os.environ.setdefault("SCAPY_USE_LIBPCAP", "no")
    import logging
    logging.getLogger("scapy").setLevel(logging.ERROR)
    from scapy.layers import dhcp, dhcp6, inet, inet6, l2
    return dhcp, dhcp6, inet, inet6, l2


ETH_P_ALL = 0x0003
# ENXIO, ENODEV, ENETDOWN: the interface is gone (the test deleted it).
GONE = (6, 19, 100)
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
BROADCAST = b"\xff" * 6
DHCP_MAGIC = b"\x63\x82\x53\x63"
SERVER_IP = "192.0.2.1"
OTHER_SERVER = "198.51.100.1"
SUBNET6_HOST = "2001:db8:aaaa:bbbb::1234"
GATEWAY6 = "2001:db8:aaaa:bbbb::1"
OUTSIDE6 = "2001:db8:ffff::1"

MSG_TYPES = {
    "discover": 1, "offer": 2, "request": 3, "decline": 4, "ack": 5, "nak": 6,
    "release": 7, "inform": 8,
}


def mac_bytes(mac):
    return bytes(int(b, 16) for b in mac.split(":"))


def mac_str(b):
    return ":".join("%02x" % x for x in b)


def link_local(mac):
    m = bytearray(mac_bytes(mac))
    m[0] ^= 0x02
    return str(ipaddress.IPv6Address(b"\xfe\x80" + b"\0" * 6 + bytes(m[:3]) + b"\xff\xfe"
                                     + bytes(m[3:])))


def eui64(prefix, mac):
    m = bytearray(mac_bytes(mac))
    m[0] ^= 0x02
    p = ipaddress.IPv6Address(prefix).packed[:8]
    return str(ipaddress.IPv6Address(p + bytes(m[:3]) + b"\xff\xfe" + bytes(m[3:])))


def solicited_node(addr):
    a = ipaddress.IPv6Address(addr).packed
    return str(ipaddress.IPv6Address(bytes.fromhex("ff02" + "00" * 9 + "01ff") + a[13:]))


def mcast_mac(addr6):
    return b"\x33\x33" + ipaddress.IPv6Address(addr6).packed[12:]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


# ---------------------------------------------------------------------------------------------
# Byte-level builders, for what scapy would "fix".

def eth(dst, src, ethertype, payload):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, options=b"", tot_len=None, frag=0, ttl=64, good_csum=True):
    ihl = 5 + len(options) // 4
    if tot_len is None:
        tot_len = ihl * 4 + len(payload)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot_len, 0x1234, frag, ttl, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst)) + options
    c = csum(hdr) if good_csum else 0xBAD
    hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
    return hdr + payload


def udp4(src, dst, sport, dport, payload, length=None, good_csum=True):
    if length is None:
        length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if good_csum:
        pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
            "!BBH", 0, 17, 8 + len(payload))
        c = csum(pseudo + hdr + payload) or 0xFFFF
        hdr = hdr[:6] + struct.pack("!H", c)
    return hdr + payload


def ipv6(src, dst, nh, payload, hlim=255, plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack("!IHBB", 0x60000000, plen, nh, hlim) + \
        ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload


def pseudo6(src, dst, nh, length):
    return ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + \
        struct.pack("!I3xB", length, nh)


def icmp6(src, dst, typ, code, body, good_csum=True):
    msg = struct.pack("!BBH", typ, code, 0) + body
    if good_csum:
        c = csum(pseudo6(src, dst, 58, len(msg)) + msg)
        msg = msg[:2] + struct.pack("!H", c) + msg[4:]
    else:
        msg = msg[:2] + b"\xde\xad" + msg[4:]
    return msg


def udp6(src, dst, sport, dport, payload, length=None, good_csum=True):
    if length is None:
        length = 8 + len(payload)
    hdr = struct.pack("!HHHH", sport, dport, length, 0)
    if good_csum:
        c = csum(pseudo6(src, dst, 17, 8 + len(payload)) + hdr + payload) or 0xFFFF
        hdr = hdr[:6] + struct.pack("!H", c)
    return hdr + payload


def hop_by_hop(nh, inner):
    """A Hop-by-Hop Options header (PadN only) in front of `inner`."""
    return struct.pack("!BB", nh, 0) + b"\x01\x04\0\0\0\0" + inner


# ---------------------------------------------------------------------------------------------
# DHCPv4.

def bootp(chaddr, xid, options, op=1, hlen=6, ciaddr="0.0.0.0", cookie=DHCP_MAGIC,
          sname=b"", file=b"", flags=0):
    fixed = struct.pack("!BBBBIHH4s4s4s4s", op, 1, hlen, 0, xid, 0, flags,
                        socket.inet_aton(ciaddr), b"\0" * 4, b"\0" * 4, b"\0" * 4)
    ch = (chaddr + b"\0" * 16)[:16]
    return fixed + ch + (sname + b"\0" * 64)[:64] + (file + b"\0" * 128)[:128] + cookie + options


def opt(code, value):
    return bytes([code, len(value)]) + value


def dhcp_opts(msg_type, extra=b"", end=True):
    o = opt(53, bytes([msg_type])) + extra
    return o + (b"\xff" if end else b"")


def dhcp4_frame(eth_src, payload, ip_src="0.0.0.0", ip_dst="255.255.255.255", **kw):
    u = udp4(ip_src, ip_dst, 68, 67, payload, length=kw.pop("udp_len", None),
             good_csum=kw.pop("udp_csum", True))
    return eth(BROADCAST, eth_src, 0x0800, ipv4(ip_src, ip_dst, 17, u, **kw))


def scapy_discover(mac, xid):
    """A DISCOVER as scapy builds it: the reference for our own builder."""
    dhcp, _, inet, _, l2 = scapy()
    BOOTP, DHCP, IP, UDP, Ether = dhcp.BOOTP, dhcp.DHCP, inet.IP, inet.UDP, l2.Ether
    return bytes(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
                 / UDP(sport=68, dport=67)
                 / BOOTP(chaddr=mac_bytes(mac), xid=xid, flags=0)
                 / DHCP(options=[("message-type", "discover"),
                                 ("param_req_list", [1, 3, 6, 12, 15, 26]), "end"]))


# ---------------------------------------------------------------------------------------------
# IPv6: RS, NS, DHCPv6.

def rs_frame(eth_src, src, sllao, hlim=255, code=0, body_extra=b"", good_csum=True,
             dst="ff02::2", nh_wrap=None):
    body = b"\0\0\0\0" + (opt_ll(1, sllao) if sllao else b"") + body_extra
    msg = icmp6(src, dst, 133, code, body, good_csum)
    return v6_frame(eth_src, src, dst, 58, msg, hlim, nh_wrap)


def ns_frame(eth_src, src, target, sllao, dst=None, hlim=255, code=0, body_extra=b"",
             good_csum=True, cut=None):
    if dst is None:
        dst = solicited_node(target)
    body = b"\0\0\0\0" + ipaddress.IPv6Address(target).packed + \
        (opt_ll(1, sllao) if sllao else b"") + body_extra
    if cut is not None:
        body = body[:cut]
    msg = icmp6(src, dst, 135, code, body, good_csum)
    return v6_frame(eth_src, src, dst, 58, msg, hlim)


def opt_ll(typ, mac):
    return bytes([typ, 1]) + mac_bytes(mac)


def v6_frame(eth_src, src, dst, nh, payload, hlim=255, nh_wrap=None):
    if nh_wrap == "hbh":
        payload = hop_by_hop(nh, payload)
        nh = 0
    return eth(mcast_mac(dst) if ipaddress.IPv6Address(dst).is_multicast else BROADCAST,
               eth_src, 0x86DD, ipv6(src, dst, nh, payload, hlim))


def dhcp6_msg(msg_type, trid, options):
    return bytes([msg_type]) + trid.to_bytes(3, "big") + options


def opt6(code, value):
    return struct.pack("!HH", code, len(value)) + value


def duid_ll(mac):
    return struct.pack("!HH", 3, 1) + mac_bytes(mac)


def dhcp6_frame(eth_src, src, payload, dst="ff02::1:2", udp_len=None, good_csum=True,
                nh_wrap=None, hlim=1):
    u = udp6(src, dst, 546, 547, payload, udp_len, good_csum)
    return v6_frame(eth_src, src, dst, 17, u, hlim, nh_wrap)


def scapy_inforeq(mac, src, trid):
    _, d6, inet, inet6, l2 = scapy()
    Ether, IPv6, UDP = l2.Ether, inet6.IPv6, inet.UDP
    return bytes(Ether(src=mac, dst="33:33:00:01:00:02") / IPv6(src=src, dst="ff02::1:2", hlim=1)
                 / UDP(sport=546, dport=547) / d6.DHCP6_InfoRequest(trid=trid)
                 / d6.DHCP6OptClientId(duid=d6.DUID_LL(lladdr=mac))
                 / d6.DHCP6OptOptReq(reqopts=[23, 24]))


def scapy_rs(mac, src):
    _, _, _, i6, l2 = scapy()
    return bytes(l2.Ether(src=mac, dst="33:33:00:00:00:02")
                 / i6.IPv6(src=src, dst="ff02::2", hlim=255)
                 / i6.ICMPv6ND_RS() / i6.ICMPv6NDOptSrcLLAddr(lladdr=mac))


def scapy_ns(mac, src, target):
    _, _, _, i6, l2 = scapy()
    dst = solicited_node(target)
    return bytes(l2.Ether(src=mac, dst=mac_str(mcast_mac(dst)))
                 / i6.IPv6(src=src, dst=dst, hlim=255)
                 / i6.ICMPv6ND_NS(tgt=target) / i6.ICMPv6NDOptSrcLLAddr(lladdr=mac))


# ---------------------------------------------------------------------------------------------
# The hostile mix.

class Mix:
    """Frames to send, each with its category and the NFQUEUE it is meant for."""

    def __init__(self):
        self.frames = []

    def add(self, category, queue, frame):
        self.frames.append((category, queue, frame))


def hostile_mix(mac, other_mac, ip4, rnd, scale):
    m = Mix()
    ll = link_local(mac)
    own6 = eui64("2001:db8:aaaa:bbbb::", mac)
    n = lambda k: max(1, k * scale)  # noqa: E731
    xid = lambda: rnd.getrandbits(32)  # noqa: E731
    rbytes = lambda k: bytes(rnd.getrandbits(8) for _ in range(k))  # noqa: E731
    mb, ob = mac_bytes(mac), mac_bytes(other_mac)

    # --- DHCPv4 (udp 67 -> queue 42) ---
    q = "dhcp4"
    for _ in range(n(10)):
        m.add("v4_scapy_discover", q, scapy_discover(mac, xid()))
    for _ in range(n(10)):
        m.add("v4_discover", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1))))
        m.add("v4_request_ok", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(
            3, opt(50, socket.inet_aton(ip4)) + opt(54, socket.inet_aton(SERVER_IP))))))
        m.add("v4_request_wrong_ip", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(
            3, opt(50, socket.inet_aton("192.0.2.250"))))))
        m.add("v4_request_other_server", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(
            3, opt(54, socket.inet_aton(OTHER_SERVER))))))
        m.add("v4_inform", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(8), ciaddr=ip4)))
        # No RELEASE or DECLINE: their outcome has no counter of its own (the `dhcp4` command
        # sends them, for the test of that gap).
        for t in (2, 5, 6, 9, 13, 18, 0, 255):
            m.add("v4_server_or_unknown_type", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(t))))
        m.add("v4_spoof_eth_src", q, dhcp4_frame(ob, bootp(mb, xid(), dhcp_opts(1))))
        m.add("v4_spoof_chaddr", q, dhcp4_frame(mb, bootp(ob, xid(), dhcp_opts(1))))
        m.add("v4_spoof_both", q, dhcp4_frame(ob, bootp(ob, xid(), dhcp_opts(3))))
        m.add("v4_bad_cookie", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1),
                                                        cookie=rbytes(4))))
        m.add("v4_no_cookie", q, dhcp4_frame(mb, bootp(mb, xid(), b"", cookie=b"")))
        m.add("v4_no_type", q, dhcp4_frame(mb, bootp(mb, xid(), opt(12, b"x") + b"\xff")))
        m.add("v4_type_len0", q, dhcp4_frame(mb, bootp(mb, xid(), b"\x35\x00\xff")))
        m.add("v4_type_len2", q, dhcp4_frame(mb, bootp(mb, xid(), b"\x35\x02\x01\x01\xff")))
        m.add("v4_type_twice", q, dhcp4_frame(mb, bootp(mb, xid(), opt(53, b"\x01") * 50 + b"\xff")))
        m.add("v4_hlen_17", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1), hlen=17)))
        m.add("v4_hlen_255", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1), hlen=255)))
        m.add("v4_hlen_0", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1), hlen=0)))
        m.add("v4_op_reply", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1), op=2)))
        m.add("v4_op_junk", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1), op=77)))
        m.add("v4_opt_overrun", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1) [:-1]
                                                         + b"\x0c\xff" + b"ab")))
        m.add("v4_opt_len_at_end", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)[:-1] + b"\x0c")))
        m.add("v4_no_end", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1, end=False))))
        m.add("v4_pad_only", q, dhcp4_frame(mb, bootp(mb, xid(), b"\0" * 300)))
        m.add("v4_requested_ip_len3", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(
            3, b"\x32\x03\xc0\x00\x02"))))
        m.add("v4_server_id_len0", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(3, b"\x36\x00"))))
        m.add("v4_overload_garbage", q, dhcp4_frame(mb, bootp(
            mb, xid(), dhcp_opts(1, opt(52, b"\x03")), sname=rbytes(64), file=rbytes(128))))
        m.add("v4_overload_valid", q, dhcp4_frame(mb, bootp(
            mb, xid(), opt(52, b"\x01") + b"\xff", file=dhcp_opts(1))))
        # Client-supplied strings with terminal escapes and newlines (host name, client id,
        # vendor class): nothing of them may reach the daemon's log raw.
        evil = b"evil\x1b[2J\x1b]0;owned\x07\nINFO fake line\r\n\0"
        m.add("v4_evil_strings", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(
            1, opt(12, evil) + opt(60, evil) + opt(61, b"\x01" + evil) + opt(81, b"\0\0\0" + evil)))))
        full = bootp(mb, xid(), dhcp_opts(1, opt(55, bytes(range(1, 80)))))
        cut = rnd.randrange(0, len(full))
        m.add("v4_truncated", q, dhcp4_frame(mb, full[:cut]))
        m.add("v4_truncated_in_header", q, dhcp4_frame(mb, full[:rnd.randrange(0, 240)]))
        m.add("v4_udp_len_long", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)), udp_len=1400))
        m.add("v4_udp_len_short", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)), udp_len=3))
        m.add("v4_udp_len_header", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)), udp_len=8))
        m.add("v4_udp_bad_csum", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)), udp_csum=False))
        m.add("v4_ip_options", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)),
                                              options=b"\x01" * 4 * rnd.randrange(1, 11)))
        m.add("v4_unicast_dst", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)),
                                               ip_src=ip4, ip_dst=SERVER_IP))
        # Oversized: every byte up to a 1500-byte IP packet, options of random sizes.
        opts = bytearray(dhcp_opts(1, end=False))
        while len(opts) < 1472 - 240 - 2:
            k = rnd.randrange(0, 256)
            opts += bytes([rnd.randrange(1, 255), k]) + rbytes(k)
        m.add("v4_oversized", q, dhcp4_frame(mb, bootp(mb, xid(), bytes(opts[:1472 - 240 - 1])
                                                        + b"\xff")))
        m.add("v4_oversized_pad", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)[:-1]
                                                            + b"\0" * 1200 + b"\xff")))
        m.add("v4_random", q, dhcp4_frame(mb, rbytes(rnd.randrange(0, 1473))))
        m.add("v4_random_after_cookie", q, dhcp4_frame(mb, bootp(mb, xid(), rbytes(
            rnd.randrange(0, 1000)))))
        m.add("v4_first_fragment", q, dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)), frag=0x2000))
    # Dropped by the kernel before mangle/PREROUTING (bad IP header): never queued.
    for _ in range(n(3)):
        m.add("v4_kernel_bad_ip_csum", "none", dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)),
                                                           good_csum=False))
        m.add("v4_kernel_tot_len_long", "none", dhcp4_frame(mb, bootp(mb, xid(), dhcp_opts(1)),
                                                            tot_len=1500))
        m.add("v4_kernel_short_udp", "none", dhcp4_frame(mb, b"")[:14 + 20 + 4])

    # --- DHCPv6 (udp 547 -> queue 45) ---
    q = "dhcp6"
    cid = opt6(1, duid_ll(mac))
    oro = opt6(6, struct.pack("!HH", 23, 24))
    for _ in range(n(10)):
        tr = rnd.getrandbits(24)
        m.add("v6_scapy_inforeq", q, scapy_inforeq(mac, ll, tr))
        m.add("v6_inforeq", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, cid + oro)))
        m.add("v6_inforeq_no_clientid", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, oro)))
        for t in (1, 3, 5, 7, 8, 9, 12, 0, 255):
            m.add("v6_other_types", q, dhcp6_frame(mb, ll, dhcp6_msg(t, tr, cid + oro)))
        m.add("v6_with_ia_na", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, cid + opt6(3, b"\0" * 12))))
        m.add("v6_other_server", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, cid + opt6(
            2, duid_ll(other_mac)))))
        m.add("v6_spoof_eth_src", q, dhcp6_frame(ob, ll, dhcp6_msg(11, tr, cid + oro)))
        m.add("v6_src_unspecified", q, dhcp6_frame(mb, "::", dhcp6_msg(11, tr, cid + oro)))
        m.add("v6_src_global", q, dhcp6_frame(mb, own6, dhcp6_msg(11, tr, cid + oro)))
        m.add("v6_opt_overrun", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, cid + struct.pack(
            "!HH", 23, 4000) + b"ab")))
        m.add("v6_opt_len_odd", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, struct.pack("!HH", 1, 1)
                                                                 + b"\x00" + b"\0\x06")))
        m.add("v6_zero_len_opts", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, opt6(1, b"") * 200)))
        m.add("v6_clientid_huge", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, opt6(1, rbytes(1300)))))
        m.add("v6_evil_strings", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, cid + opt6(
            16, b"\0\0\0\x09" + b"\x00\x10evil\x1b[2J\n\r\x07xx") + opt6(39, b"\0\x04evil\x1b\n"))))
        full = dhcp6_msg(11, tr, cid + oro)
        m.add("v6_truncated", q, dhcp6_frame(mb, ll, full[:rnd.randrange(0, len(full))]))
        m.add("v6_udp_len_long", q, dhcp6_frame(mb, ll, full, udp_len=1000))
        m.add("v6_udp_len_short", q, dhcp6_frame(mb, ll, full, udp_len=5))
        m.add("v6_udp_bad_csum", q, dhcp6_frame(mb, ll, full, good_csum=False))
        m.add("v6_hop_by_hop", q, dhcp6_frame(mb, ll, full, nh_wrap="hbh"))
        m.add("v6_random", q, dhcp6_frame(mb, ll, rbytes(rnd.randrange(0, 1400))))
        m.add("v6_random_opts", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, rbytes(
            rnd.randrange(0, 1300)))))
        opts = bytearray(cid)
        while len(opts) < 1380:
            k = rnd.randrange(0, 60)
            opts += opt6(rnd.randrange(0, 65536), rbytes(k))
        m.add("v6_oversized", q, dhcp6_frame(mb, ll, dhcp6_msg(11, tr, bytes(opts[:1400]))))
        m.add("v6_relay_forw_nested", q, dhcp6_frame(mb, ll, b"\x0c\x00" + b"\0" * 32 + opt6(
            9, b"\x0c\x00" + b"\0" * 32 + opt6(9, full))))
        # Stateful (issue 14): well-formed and malformed identity associations.
        sid = opt6(2, duid_ll(other_mac))  # another server's: dropped or refused by type
        iaaddr = opt6(5, socket.inet_pton(socket.AF_INET6, own6) + struct.pack("!II", 100, 200))
        iaprefix = opt6(26, struct.pack("!IIB", 100, 200, 56)
                        + socket.inet_pton(socket.AF_INET6, "2001:db8:100::"))
        ia_na = opt6(3, struct.pack("!III", 1, 0, 0) + iaaddr)
        ia_pd = opt6(25, struct.pack("!III", 2, 0, 0) + iaprefix)
        for t in (1, 3, 5, 6):
            m.add("v6_stateful", q, dhcp6_frame(mb, ll, dhcp6_msg(t, tr, cid + sid + oro + ia_na
                                                                   + ia_pd)))
        m.add("v6_solicit", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + oro + ia_na + ia_pd)))
        m.add("v6_solicit_rapid", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + opt6(14, b"")
                                                                    + ia_na)))
        m.add("v6_solicit_unicast", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + ia_na),
                                                   dst="fe80::1"))
        m.add("v6_ia_na_short", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + opt6(3, b"\0" * 11))))
        m.add("v6_iaaddr_short", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + opt6(
            3, struct.pack("!III", 1, 0, 0) + opt6(5, rbytes(23))))))
        m.add("v6_iaprefix_len_200", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + opt6(
            25, struct.pack("!III", 2, 0, 0) + opt6(26, struct.pack("!IIB", 1, 1, 200)
                                                   + b"\0" * 16)))))
        m.add("v6_ia_overrun", q, dhcp6_frame(mb, ll, dhcp6_msg(1, tr, cid + opt6(
            3, struct.pack("!III", 1, 0, 0) + struct.pack("!HH", 5, 900) + b"x"))))
        m.add("v6_ia_random", q, dhcp6_frame(mb, ll, dhcp6_msg(rnd.choice((1, 3, 4, 5, 6, 8, 9)),
                                                               tr, cid + opt6(rnd.choice((3, 4, 25)),
                                                                              rbytes(rnd.randrange(0, 200))))))
        m.add("v6_confirm_empty", q, dhcp6_frame(mb, ll, dhcp6_msg(4, tr, cid)))

    # --- Router Solicitation (ICMPv6 133 -> queue 43) ---
    q = "rs"
    for _ in range(n(10)):
        m.add("rs_scapy", q, scapy_rs(mac, ll))
        m.add("rs_valid", q, rs_frame(mb, ll, mac))
        m.add("rs_no_option", q, rs_frame(mb, ll, None))
        m.add("rs_from_unspecified", q, rs_frame(mb, "::", None))
        m.add("rs_unspecified_with_sllao", q, rs_frame(mb, "::", mac))
        m.add("rs_spoof_sllao", q, rs_frame(mb, ll, other_mac))
        m.add("rs_spoof_eth_src", q, rs_frame(ob, ll, mac))
        m.add("rs_opt_len0", q, rs_frame(mb, ll, None, body_extra=b"\x01\x00" + b"\0" * 6))
        m.add("rs_opt_len0_after_valid", q, rs_frame(mb, ll, mac, body_extra=b"\x05\x00\0\0\0\0\0\0"))
        m.add("rs_opt_len_huge", q, rs_frame(mb, ll, None, body_extra=b"\x01\xff" + mb))
        m.add("rs_opt_len_32", q, rs_frame(mb, ll, None, body_extra=b"\x01\x20" + b"\0" * 254))
        m.add("rs_opt_truncated", q, rs_frame(mb, ll, None, body_extra=b"\x01\x01\x02"))
        m.add("rs_sllao_len2", q, rs_frame(mb, ll, None, body_extra=b"\x01\x02" + mb + b"\0" * 8))
        m.add("rs_two_sllao", q, rs_frame(mb, ll, mac, body_extra=opt_ll(1, other_mac)))
        m.add("rs_code_1", q, rs_frame(mb, ll, mac, code=1))
        m.add("rs_hop_limit_64", q, rs_frame(mb, ll, mac, hlim=64))
        m.add("rs_bad_csum", q, rs_frame(mb, ll, mac, good_csum=False))
        m.add("rs_unicast_dst", q, rs_frame(mb, ll, mac, dst="fe80::1"))
        m.add("rs_hop_by_hop", q, rs_frame(mb, ll, mac, nh_wrap="hbh"))
        # 6 bytes: too short for ip6tables' icmpv6 match, which drops it (never queued).
        m.add("rs_kernel_short_body", "none", v6_frame(mb, ll, "ff02::2", 58, icmp6(ll, "ff02::2", 133, 0,
                                                                         b"\0\0")))
        m.add("rs_random_body", q, v6_frame(mb, ll, "ff02::2", 58, icmp6(
            ll, "ff02::2", 133, 0, rbytes(rnd.randrange(4, 1400)))))
        opts = bytearray()
        while len(opts) < 1300:
            k = rnd.randrange(1, 20)
            opts += bytes([rnd.randrange(0, 256), k]) + rbytes(8 * k - 2)
        m.add("rs_oversized", q, rs_frame(mb, ll, mac, body_extra=bytes(opts[:1400])))
        m.add("rs_many_sllao", q, rs_frame(mb, ll, mac, body_extra=opt_ll(1, mac) * 150))

    # --- Neighbor Solicitation (ICMPv6 135 -> queue 44) ---
    q = "ns"
    for _ in range(n(10)):
        m.add("ns_scapy_router", q, scapy_ns(mac, ll, link_local_router()))
        m.add("ns_router_ll", q, ns_frame(mb, ll, link_local_router(), mac))
        m.add("ns_gateway6", q, ns_frame(mb, ll, GATEWAY6, mac))
        m.add("ns_subnet6", q, ns_frame(mb, own6, SUBNET6_HOST, mac))
        m.add("ns_own_address", q, ns_frame(mb, ll, own6, mac))
        m.add("ns_dad", q, ns_frame(mb, "::", SUBNET6_HOST, None))
        m.add("ns_dad_with_sllao", q, ns_frame(mb, "::", SUBNET6_HOST, mac))
        m.add("ns_dad_unicast_dst", q, ns_frame(mb, "::", SUBNET6_HOST, None, dst=GATEWAY6))
        m.add("ns_outside", q, ns_frame(mb, ll, OUTSIDE6, mac))
        m.add("ns_multicast_target", q, ns_frame(mb, ll, "ff02::1", mac))
        m.add("ns_unspecified_target", q, ns_frame(mb, ll, "::", mac))
        m.add("ns_spoof_sllao", q, ns_frame(mb, ll, GATEWAY6, other_mac))
        m.add("ns_spoof_eth_src", q, ns_frame(ob, ll, GATEWAY6, mac))
        m.add("ns_code_1", q, ns_frame(mb, ll, GATEWAY6, mac, code=1))
        m.add("ns_hop_limit_64", q, ns_frame(mb, ll, GATEWAY6, mac, hlim=64))
        m.add("ns_bad_csum", q, ns_frame(mb, ll, GATEWAY6, mac, good_csum=False))
        m.add("ns_unicast_dst", q, ns_frame(mb, ll, GATEWAY6, mac, dst=GATEWAY6))
        m.add("ns_truncated", q, ns_frame(mb, ll, GATEWAY6, mac, cut=rnd.randrange(4, 20)))
        m.add("ns_opt_len0", q, ns_frame(mb, ll, GATEWAY6, None, body_extra=b"\x01\x00" + b"\0" * 6))
        m.add("ns_opt_len_huge", q, ns_frame(mb, ll, GATEWAY6, None, body_extra=b"\x01\xff" + mb))
        m.add("ns_opt_len_32", q, ns_frame(mb, ll, GATEWAY6, None, body_extra=b"\x01\x20" + b"\0" * 254))
        m.add("ns_opt_truncated", q, ns_frame(mb, ll, GATEWAY6, None, body_extra=b"\x01"))
        m.add("ns_random_body", q, v6_frame(mb, ll, solicited_node(GATEWAY6), 58, icmp6(
            ll, solicited_node(GATEWAY6), 135, 0, rbytes(rnd.randrange(4, 1400)))))
        opts = bytearray()
        while len(opts) < 1300:
            k = rnd.randrange(1, 20)
            opts += bytes([rnd.randrange(0, 256), k]) + rbytes(8 * k - 2)
        m.add("ns_oversized", q, ns_frame(mb, ll, GATEWAY6, mac, body_extra=bytes(opts[:1400])))
    # Too short for ip6tables' icmpv6 match (it drops them) and a lying IPv6 payload length
    # (the kernel drops it before PREROUTING): never queued.
    for _ in range(n(3)):
        m.add("v6_kernel_icmp_too_short", "none", v6_frame(mb, ll, "ff02::2", 58, b"\x85\x00"))
        m.add("v6_kernel_plen_long", "none", eth(b"\x33\x33\0\0\0\x02", mb, 0x86DD, ipv6(
            ll, "ff02::2", 58, icmp6(ll, "ff02::2", 133, 0, b"\0" * 4), plen=900)))
    rnd.shuffle(m.frames)
    return m


ROUTER_LL = ["fe80::1"]


def link_local_router():
    """The router address the daemon answers for (fe80:: + EUI-64 of INDEV's MAC, which only
    the host knows: --router-ll)."""
    return ROUTER_LL[0]


# ---------------------------------------------------------------------------------------------
# Sockets.

def open_socket(iface):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    try:  # root: past net.core.rmem_max, so a burst of replies waits for us in full
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setblocking(False)
    return s


def drain(s, on_frame):
    """Reads every frame waiting on `s` (not our own outgoing ones)."""
    while True:
        try:
            data, addr = s.recvfrom(65535)
        except OSError:  # nothing waiting, or the interface is gone
            return
        if addr[2] != PACKET_OUTGOING:
            on_frame(data)


class Pacer:
    """Sends at `pps` packets per second on average (busy-free: sleeps between slots)."""

    def __init__(self, pps):
        self.gap = 1.0 / pps if pps > 0 else 0.0
        self.next = time.monotonic()

    def wait(self):
        if self.gap == 0.0:
            return
        self.next += self.gap
        d = self.next - time.monotonic()
        if d > 0.0005:
            time.sleep(d)


def parse_reply(frame):
    """(kind, details) of a reply frame the daemon sends, or None."""
    if len(frame) < 14:
        return None
    et = struct.unpack("!H", frame[12:14])[0]
    if et == 0x0800 and len(frame) >= 14 + 28 and frame[23] == 17:
        ihl = (frame[14] & 0xF) * 4
        u = 14 + ihl
        sport, dport = struct.unpack("!HH", frame[u:u + 4])
        if sport != 67 or dport != 68:
            return None
        b = frame[u + 8:]
        if len(b) < 240 or b[236:240] != DHCP_MAGIC:
            return ("dhcp4?", {})
        xid = struct.unpack("!I", b[4:8])[0]
        yiaddr = socket.inet_ntoa(b[16:20])
        opts, i = {}, 240
        while i < len(b) and b[i] != 255:
            if b[i] == 0:
                i += 1
                continue
            if i + 1 >= len(b):
                break
            opts[b[i]] = b[i + 2:i + 2 + b[i + 1]]
            i += 2 + b[i + 1]
        t = opts.get(53, b"\0")[0]
        kind = {2: "offer", 5: "ack", 6: "nak"}.get(t, "dhcp4_type_%d" % t)
        host = opts.get(12, b"").decode("ascii", "backslashreplace")
        return (kind, {"xid": xid, "yiaddr": yiaddr, "hostname": host})
    if et == 0x86DD and len(frame) >= 14 + 40 + 4:
        nh = frame[20]
        p = 54
        if nh == 58:
            return ({134: "ra", 136: "na"}.get(frame[p], None), {})
        if nh == 17 and struct.unpack("!H", frame[p:p + 2])[0] == 547:
            return ("dhcp6_reply", {})
    return None


def send_all(s, frames, pps, summary, count_reply=None):
    pacer = Pacer(pps)
    errors = 0
    for i, f in enumerate(frames):
        try:
            s.send(f)
        except OSError as e:
            errors += 1
            summary.setdefault("send_errors", {}).setdefault(e.strerror, 0)
            summary["send_errors"][e.strerror] += 1
            if e.errno in GONE:
                summary["interface_gone_after"] = i
                break
        if count_reply is not None and i % 32 == 0:
            drain(s, count_reply)
        pacer.wait()
    return errors


def flatten(d, prefix=""):
    """{"a": {"b": 1}} -> [("a.b", 1)]: the summary as `key=value` words (no spaces)."""
    out = []
    for k in sorted(d):
        v = d[k]
        key = (prefix + "." if prefix else "") + str(k).replace(" ", "_")
        if isinstance(v, dict):
            out += flatten(v, key)
        else:
            out.append((key, str(v).replace(" ", "_")))
    return out


def done(summary):
    print("DONE " + " ".join("%s=%s" % kv for kv in flatten(summary)), flush=True)


# ---------------------------------------------------------------------------------------------
# Sub-commands.

def cmd_hostile(a):
    ROUTER_LL[0] = a.router_ll
    mix = hostile_mix(a.mac, a.other_mac, a.ip4, random.Random(a.seed), a.scale)
    s = open_socket(a.iface)
    if a.explain:
        return explain(s, mix, a.explain)
    summary = {"by_category": {}, "by_queue": {}, "total": len(mix.frames)}
    for cat, q, _ in mix.frames:
        summary["by_category"][cat] = summary["by_category"].get(cat, 0) + 1
        summary["by_queue"][q] = summary["by_queue"].get(q, 0) + 1
    print("STARTED", flush=True)
    send_all(s, [f for _, _, f in mix.frames], a.pps, summary)
    done(summary)


def explain(s, mix, wait):
    """Sends one category at a time and counts the replies each got (waiting `wait` seconds
    after each): which hostile packets the daemon answers, for a human to judge."""
    by_cat = {}
    for cat, _, f in mix.frames:
        by_cat.setdefault(cat, []).append(f)
    summary = {"sent": {}, "answered": {}}
    for cat in sorted(by_cat):
        got = []
        drain(s, lambda f: None)
        for f in by_cat[cat]:
            s.send(f)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            select.select([s], [], [], 0.02)
            drain(s, lambda f: got.append(parse_reply(f)))
        summary["sent"][cat] = len(by_cat[cat])
        summary["answered"][cat] = ",".join(sorted({r[0] for r in got if r and r[0]})) + \
            ":%d" % sum(1 for r in got if r and r[0])
    done(summary)


def valid_request(kind, mac, rnd):
    mb = mac_bytes(mac)
    if kind == "dhcp4":
        return dhcp4_frame(mb, bootp(mb, rnd.getrandbits(32), dhcp_opts(1)))
    if kind == "rs":
        return rs_frame(mb, link_local(mac), mac)
    if kind == "ns":
        return ns_frame(mb, link_local(mac), GATEWAY6, mac)
    if kind == "dad":  # the probe a kernel sends for its new link-local address
        return ns_frame(mb, "::", link_local(mac), None)
    if kind == "dhcp6":
        return dhcp6_frame(mb, link_local(mac), dhcp6_msg(
            11, rnd.getrandbits(24), opt6(1, duid_ll(mac)) + opt6(6, struct.pack("!HH", 23, 24))))
    raise SystemExit("unknown kind %r" % kind)


def cmd_flood(a):
    rnd = random.Random(a.seed)
    s = open_socket(a.iface)
    summary = {"sent": 0, "replies": {}, "send_errors": {}}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    def count(frame):
        r = parse_reply(frame)
        if r and r[0]:
            summary["replies"][r[0]] = summary["replies"].get(r[0], 0) + 1

    frames = [valid_request(a.kind, a.mac, rnd) for _ in range(256)]
    pacer = Pacer(a.pps)
    start = time.monotonic()
    first = None
    while not stop and time.monotonic() - start < a.seconds and summary["sent"] < a.max_count:
        try:
            s.send(frames[summary["sent"] % len(frames)])
        except OSError as e:
            summary["send_errors"][e.strerror] = summary["send_errors"].get(e.strerror, 0) + 1
            if e.errno in GONE:
                break
        else:
            summary["sent"] += 1
            if first is None:
                first = time.monotonic()
                print("STARTED", flush=True)
        if summary["sent"] % 16 == 0:
            drain(s, count)
        pacer.wait()
    last = time.monotonic()
    # Replies to the last requests are at most a few milliseconds behind.
    deadline = time.monotonic() + a.linger
    while time.monotonic() < deadline:
        select.select([s], [], [], 0.05)
        drain(s, count)
    summary["seconds"] = round(last - (first or last), 3)
    done(summary)


def cmd_discover(a):
    rnd = random.Random(a.seed)
    s = open_socket(a.iface)
    mb = mac_bytes(a.mac)
    xids = set()
    got = {}
    pairs = {}
    other = {}

    def on(frame):
        r = parse_reply(frame)
        if not r or not r[1]:
            return
        kind, d = r
        if d.get("xid") in xids and kind == "offer":
            if d["xid"] in got:
                other["duplicate"] = other.get("duplicate", 0) + 1
                return
            got[d["xid"]] = 1
            key = "%s|%s" % (d["yiaddr"], d["hostname"])
            pairs[key] = pairs.get(key, 0) + 1
        elif d.get("xid") in xids:
            other[kind] = other.get(kind, 0) + 1

    pacer = Pacer(a.pps)
    print("STARTED", flush=True)
    for _ in range(a.count):
        x = rnd.getrandbits(32)
        while x in xids:
            x = rnd.getrandbits(32)
        xids.add(x)
        s.send(dhcp4_frame(mb, bootp(mb, x, dhcp_opts(1))))
        drain(s, on)
        pacer.wait()
    deadline = time.monotonic() + a.wait
    while len(got) < len(xids) and time.monotonic() < deadline:
        select.select([s], [], [], 0.05)
        drain(s, on)
    done({"sent": len(xids), "offers": len(got), "pairs": pairs, "other": other})


def cmd_dhcp4(a):
    rnd = random.Random(a.seed)
    s = open_socket(a.iface)
    t = MSG_TYPES.get(a.type, None)
    t = int(a.type) if t is None else t
    eth_src = mac_bytes(a.eth_src or a.mac)
    chaddr = mac_bytes(a.chaddr or a.mac)
    extra = opt(50, socket.inet_aton(a.ip4)) if t in (3, 4) else b""
    frames = [dhcp4_frame(eth_src, bootp(chaddr, rnd.getrandbits(32), dhcp_opts(t, extra),
                                         ciaddr=a.ip4 if t in (7, 8) else "0.0.0.0"))
              for _ in range(a.count)]
    summary = {"sent": 0}
    send_all(s, frames, a.pps, summary)
    summary["sent"] = len(frames) - sum(summary.get("send_errors", {}).values())
    done(summary)


def cmd_loop(a):
    """The soak benchmark's client: valid DHCPv4, RS, NS and DHCPv6 requests, round robin,
    at `pps` for `seconds`; counts replies by kind."""
    rnd = random.Random(a.seed)
    s = open_socket(a.iface)
    kinds = a.kinds.split(",")
    summary = {"sent": {}, "replies": {}, "send_errors": {}}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    def count(frame):
        r = parse_reply(frame)
        if r and r[0]:
            summary["replies"][r[0]] = summary["replies"].get(r[0], 0) + 1

    pacer = Pacer(a.pps)
    start = time.monotonic()
    i = 0
    print("STARTED", flush=True)
    while not stop and time.monotonic() - start < a.seconds:
        k = kinds[i % len(kinds)]
        i += 1
        try:
            s.send(valid_request(k, a.mac, rnd))
            summary["sent"][k] = summary["sent"].get(k, 0) + 1
        except OSError as e:
            summary["send_errors"][e.strerror] = summary["send_errors"].get(e.strerror, 0) + 1
        if i % 8 == 0:
            drain(s, count)
        pacer.wait()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        select.select([s], [], [], 0.05)
        drain(s, count)
    done(summary)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iface", default="eth0")
    p.add_argument("--mac", required=True, help="the VM's own MAC (eth0's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pps", type=float, default=0, help="packets per second, 0 = flat out")
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("hostile")
    h.add_argument("--other-mac", required=True, help="a MAC to spoof (another VM's)")
    h.add_argument("--ip4", default="192.0.2.100", help="the IPv4 address of the binding")
    h.add_argument("--scale", type=int, default=1)
    h.add_argument("--router-ll", default="fe80::1", help="the tap's link-local address")
    h.add_argument("--explain", type=float, default=0,
                   help="one category at a time, counting the replies each gets within this "
                        "many seconds (for a human; not used by the tests)")
    f = sub.add_parser("flood")
    f.add_argument("--kind", choices=["dhcp4", "rs", "ns", "dad", "dhcp6"], required=True)
    f.add_argument("--seconds", type=float, default=5)
    f.add_argument("--max-count", type=int, default=20000)
    f.add_argument("--linger", type=float, default=0.5)
    d = sub.add_parser("discover")
    d.add_argument("--count", type=int, required=True)
    d.add_argument("--wait", type=float, default=5)
    c = sub.add_parser("dhcp4")
    c.add_argument("--type", required=True)
    c.add_argument("--count", type=int, default=1)
    c.add_argument("--eth-src")
    c.add_argument("--chaddr")
    c.add_argument("--ip4", default="192.0.2.100")
    lp = sub.add_parser("loop")
    lp.add_argument("--seconds", type=float, required=True)
    lp.add_argument("--kinds", default="dhcp4,rs,ns,dhcp6")
    a = p.parse_args()
    {"hostile": cmd_hostile, "flood": cmd_flood, "discover": cmd_discover, "dhcp4": cmd_dhcp4,
     "loop": cmd_loop}[a.cmd](a)


if __name__ == "__main__":
    main()
