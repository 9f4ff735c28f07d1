#!/usr/bin/env python3
"""Writes the fuzz seeds (corpus/<target>/seed-*) from the byte fixtures of the unit tests.

The fixtures are the `static NAME: [u8; N] = [...]` arrays in src/wire/*.rs: packets
captured from the Linux kernel and ISC dhclient in a scratch network namespace, and frames
built by scapy (each one's origin is documented beside it in the source). They are read
from the source, not copied, so the seeds follow the fixtures. A few seeds are derived:
a fixture's UDP payload put back into an IPv4 or IPv6 header, an Ethernet frame cut to its
IP packet (NFQUEUE hands packets over from the IP header), and, for pure_path, NSs for
addresses the fixed binding answers for. The text targets get the configuration and binding
file in the original nfdhcpd's formats (tests/fixtures/) and the shipped sample.

Usage: python3 tests/fuzz/seeds.py     (from anywhere; rewrites the seed-* files only)
"""

import ipaddress
import pathlib
import re
import struct
import sys

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
ETH_HDR_LEN = 14


def fixture(path, name):
    """The bytes of `static NAME: [u8; N] = [...];` in src/`path`, checked against N."""
    text = (ROOT / "src" / path).read_text()
    m = re.search(r"static %s: \[u8; ([\d +]+)\] = \[(.*?)\];" % name, text, re.S)
    if not m:
        sys.exit(f"{name} not found in src/{path}")
    body = re.sub(r"//[^\n]*", "", m.group(2))
    out = bytearray()
    for tok in (t.strip() for t in body.split(",")):
        if not tok:
            continue
        if tok.startswith("b'") and tok.endswith("'") and len(tok) == 4:
            out.append(ord(tok[2]))
        else:
            out.append(int(tok, 0))
    if len(out) != sum(int(n) for n in m.group(1).split("+")):
        sys.exit(f"{name}: read {len(out)} bytes, declared {m.group(1)}")
    return bytes(out)


def csum(data):
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s > 0xFFFF:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp(src, dst, sport, dport, payload, tos=0, ttl=64):
    """An IPv4 + UDP packet with both checksums."""
    src, dst = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + udp_len, 0, 0, ttl, 17, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + udp


def ipv6(src, dst, next_header, hop_limit, payload):
    src, dst = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return struct.pack("!IHBB", 0x60000000, len(payload), next_header, hop_limit) + src + dst + payload


def ipv6_udp(src, dst, sport, dport, payload, hop_limit=64):
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    udp_len = 8 + len(payload)
    pseudo = s + d + struct.pack("!I3xB", udp_len, 17)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return ipv6(src, dst, 17, hop_limit, udp)


def ipv6_icmp(src, dst, icmp, hop_limit=255):
    """An IPv6 packet carrying `icmp` (checksum field zero) with the checksum filled in."""
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    icmp = icmp[:2] + b"\0\0" + icmp[4:]
    c = csum(s + d + struct.pack("!I3xB", len(icmp), 58) + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    return ipv6(src, dst, 58, hop_limit, icmp)


def ns(src, dst, target, slla=None):
    """A Neighbor Solicitation (RFC 4861 §4.3) with an optional SLLA option."""
    body = struct.pack("!BBHI", 135, 0, 0, 0) + ipaddress.IPv6Address(target).packed
    if slla:
        body += bytes([1, 1]) + bytes.fromhex(slla.replace(":", ""))
    return ipv6_icmp(src, dst, body)


def opt6(code, data):
    """A DHCPv6 option (RFC 8415 §21.1)."""
    return struct.pack("!HH", code, len(data)) + data


def ia6(code, iaid, t1, t2, subs=b""):
    """IA_NA (3) or IA_PD (25) with IAID, T1, T2; IA_TA (4) with the IAID only."""
    fixed = struct.pack("!I", iaid) if code == 4 else struct.pack("!III", iaid, t1, t2)
    return opt6(code, fixed + subs)


def iaaddr(addr, preferred, valid):
    return opt6(5, ipaddress.IPv6Address(addr).packed + struct.pack("!II", preferred, valid))


def iaprefix(net, preferred, valid):
    net = ipaddress.IPv6Network(net)
    return opt6(26, struct.pack("!IIB", preferred, valid, net.prefixlen) + net.network_address.packed)


def dhcp6_messages():
    """Stateful client messages as dhclient -6 (-P for prefixes) lays them out, for the VM
    52:54:00:12:34:56 and the server DUID-LL of 02:00:5e:10:00:01; the addresses and
    prefixes are those of stateful_path's binding 19 (IP6 2001:db8:1::10, ::11; DELEGATED6
    2001:db8:100::/56; earlier 2001:db8:1::20 and 2001:db8:300::/56)."""
    client = opt6(1, bytes.fromhex("0003000152540012" "3456"))
    server = opt6(2, bytes.fromhex("00030001" "02005e100001"))
    oro = opt6(6, struct.pack("!HH", 23, 24))
    elapsed = opt6(8, b"\0\0")
    na0 = ia6(3, 0x00123456, 0, 0)
    pd0 = ia6(25, 0x00123456, 0, 0)
    na = ia6(3, 0x00123456, 3600, 7200,
             iaaddr("2001:db8:1::10", 7200, 14400) + iaaddr("2001:db8:1::11", 7200, 14400))
    pd = ia6(25, 0x00123456, 3600, 7200, iaprefix("2001:db8:100::/56", 7200, 14400))
    old_na = ia6(3, 0x00123456, 3600, 7200, iaaddr("2001:db8:1::20", 7200, 14400))
    old_pd = ia6(25, 0x00123456, 3600, 7200, iaprefix("2001:db8:300::/56", 7200, 14400))
    hdr = lambda t, xid: bytes([t]) + xid.to_bytes(3, "big")
    return {
        "solicit-na-pd": hdr(1, 0x2a4e11) + client + oro + elapsed + na0 + pd0,
        "solicit-rapid-na-pd": hdr(1, 0x2a4e12) + client + oro + elapsed + opt6(14, b"") + na0 + pd0,
        "request-na-pd": hdr(3, 0x5d1c01) + client + server + oro + elapsed + na + pd,
        "renew-na-pd": hdr(5, 0x5d1c02) + client + server + oro + elapsed + na + pd,
        "renew-previous": hdr(5, 0x5d1c03) + client + server + elapsed + old_na + old_pd,
        "rebind-na-pd": hdr(6, 0x5d1c04) + client + oro + elapsed + na + pd,
        "confirm-na": hdr(4, 0x5d1c05) + client + elapsed + na,
        "release-na-pd": hdr(8, 0x5d1c06) + client + server + elapsed + na + pd,
        "decline-na": hdr(9, 0x5d1c07) + client + server + elapsed + old_na,
        "solicit-ta": hdr(1, 0x5d1c08) + client + elapsed + ia6(4, 7, 0, 0),
    }


def build():
    dhcp_discover_ip = fixture("wire/frame.rs", "DISCOVER_IP_BYTES")
    scapy_frame = fixture("wire/frame.rs", "SCAPY_FRAME_BYTES")
    discover = fixture("wire/dhcp4.rs", "DISCOVER_BYTES")
    request = fixture("wire/dhcp4.rs", "REQUEST_BYTES")
    offer_options = fixture("wire/dhcp4.rs", "OFFER_OPTIONS_BYTES")
    rs = fixture("wire/frame.rs", "RS_BYTES")
    ns_dad = fixture("wire/frame.rs", "NS_DAD_BYTES")
    ns_capture = fixture("wire/frame.rs", "NS_BYTES")
    mld = fixture("wire/frame.rs", "MLD_REPORT_BYTES")
    info_request = fixture("wire/frame.rs", "INFO_REQUEST_BYTES")
    na_frame = fixture("wire/frame.rs", "NA_FRAME_BYTES")
    udp6_frame = fixture("wire/frame.rs", "UDP_FRAME_BYTES")
    ra_frame = fixture("wire/ndp.rs", "RA_FRAME_BYTES")
    reply6 = fixture("wire/dhcp6/mod.rs", "REPLY_BYTES")
    name_list = fixture("wire/dns.rs", "LIST_BYTES")

    vm_ll, host_ll = "fe80::1bba:bfd7:b741:fbbe", "fe80::5eff:fe10:1"
    # dhclient's raw socket writes TOS 0x10 and TTL 128, as in the DISCOVER capture.
    dhclient = dict(tos=0x10, ttl=128)
    offer = b"\x02" + discover[1:236] + discover[236:240] + offer_options
    offer = offer.ljust(300, b"\0")
    # The Information-Request with a domain list (option 24, the dns.rs fixture) added.
    info_payload = info_request[48:]
    info_with_list = info_payload + struct.pack("!HH", 24, len(name_list)) + name_list

    dhcp4 = {
        "discover-dhclient": dhcp_discover_ip,
        "request-dhclient": ipv4_udp("0.0.0.0", "255.255.255.255", 68, 67, request, **dhclient),
        "offer-rfc2132": ipv4_udp("192.0.2.1", "192.0.2.50", 67, 68, offer),
        "udp-scapy": scapy_frame[ETH_HDR_LEN:],
    }
    dhcp6 = {
        "info-request-dhclient": info_request,
        "info-request-domain-list": ipv6_udp(vm_ll, "ff02::1:2", 546, 547, info_with_list, 1),
        "reply-rfc8415": ipv6_udp(host_ll, vm_ll, 547, 546, reply6),
        "udp-scapy": udp6_frame[ETH_HDR_LEN:],
    }
    ndp = {
        "rs-kernel": rs,
        "ns-kernel": ns_capture,
        "ns-dad-kernel": ns_dad,
        "mld-report-kernel": mld,
        "na-scapy": na_frame[ETH_HDR_LEN:],
        "ra-scapy": ra_frame[ETH_HDR_LEN:],
    }
    # The pure_path binding is the captured VM (52:54:00:12:34:56) with SUBNET6
    # 2001:db8:1::/64 and the host MAC 02:00:5e:10:00:01: NSs it answers.
    vm_mac = "52:54:00:12:34:56"
    pure_path = dict(dhcp4, **dhcp6, **ndp)
    pure_path["ns-router-ll"] = ns(vm_ll, "ff02::1:ff10:1", host_ll, vm_mac)
    pure_path["ns-subnet6"] = ns(vm_ll, "ff02::1:ff00:99", "2001:db8:1::99", vm_mac)

    original_binding = (FIXTURES / "compat-binding-tap10").read_text()
    binding_file = {
        # Layout: the file name on the first line, the file's text after it.
        "original-tap10": "tap10\n" + original_binding,
        "minimal": "tap0\nMAC=52:54:00:12:34:56\n",
        "full-ipv6": "vnet3\nMAC=52:54:00:12:34:56\nIP=192.0.2.50\nSUBNET=192.0.2.0/24\n"
        "GATEWAY=192.0.2.1\nHOSTNAME=vm1.example.org\nSUBNET6=2001:db8:1::/64\n"
        "GATEWAY6=2001:db8:1::1\nMTU=1450\nMACSPOOF=yes\nPRIVATE=no\nINSTANCE=vm-1\n",
        # The per-VM keys of issue 13, on a routed /32 with an off-subnet gateway.
        "per-vm": "tap3\nMAC=52:54:00:12:34:57\nIP=198.51.100.7\nSUBNET=198.51.100.7/32\n"
        "GATEWAY=192.0.2.1\nROUTES=203.0.113.0/25 via 192.0.2.1, 198.51.100.0/24 via 0.0.0.0\n"
        "NAMESERVERS=192.0.2.53, 192.0.2.54\nDOMAIN=tenant.example\n"
        "DOMAIN_SEARCH=vm.tenant.example, tenant.example\nSUBNET6=2001:db8:1::/64\n"
        "NAMESERVERS6=2001:db8:53::1\nHOSTNAME=my_vm5.tenant.example\n",
    }
    config = {
        "original-sample": (FIXTURES / "compat-nfdhcpd.conf").read_text(),
        "shipped-sample": (ROOT / "conf" / "nfdhcpd.conf").read_text(),
    }
    messages = dhcp6_messages()
    dhcp6_stateful = dict(messages)
    dhcp6_stateful["solicit-dhclient"] = fixture("wire/dhcp6/ia.rs", "SOLICIT_BYTES")
    dhcp6_stateful["renew-fixture"] = fixture("wire/dhcp6/ia.rs", "RENEW_BYTES")
    dhcp6_stateful["reply-fixture"] = fixture("wire/dhcp6/ia.rs", "REPLY_BYTES")
    dhcp6_stateful["info-request-dhclient"] = info_payload
    # stateful_path's raw layout: 0 (raw), entry 19, config 0, to ff02::1:2 (0) or to our
    # link-local address (1), then the message.
    stateful_path = {k: bytes([0, 19, 0, 0]) + v for k, v in messages.items()}
    stateful_path["request-unicast"] = bytes([0, 19, 1, 1]) + messages["request-na-pd"]
    stateful_path["solicit-dhclient"] = bytes([0, 0, 0, 0]) + dhcp6_stateful["solicit-dhclient"]
    pure_path["solicit-na-pd"] = ipv6_udp(vm_ll, "ff02::1:2", 546, 547, messages["solicit-na-pd"], 1)
    pure_path["request-na-pd"] = ipv6_udp(vm_ll, "ff02::1:2", 546, 547, messages["request-na-pd"], 1)
    return {
        "dhcp4": dhcp4,
        "dhcp6_stateful": dhcp6_stateful,
        "stateful_path": stateful_path,
        "dhcp6": dhcp6,
        "ndp": ndp,
        "pure_path": pure_path,
        "binding_file": {k: v.encode() for k, v in binding_file.items()},
        "config": {k: v.encode() for k, v in config.items()},
    }


def main():
    for target, seeds in build().items():
        d = FUZZ / "corpus" / target
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("seed-*"):
            old.unlink()
        for name, data in seeds.items():
            (d / f"seed-{name}").write_bytes(data)
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
