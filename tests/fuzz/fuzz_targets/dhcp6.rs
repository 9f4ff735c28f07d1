//! DHCPv6 parsing from the IPv6 header on: `parse_ipv6_udp`, then the message view, the
//! options walk (with the names of a domain list) and `Request::parse`. As for dhcp4, the
//! bytes after a 48-byte IPv6 + UDP header also go straight into the DHCPv6 parsers.
//!
//! Seeds: corpus/dhcp6/seed-* (dhclient's Information-Request, see seeds.py).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nfdhcpd::wire::frame;
use nfdhcpd_fuzz::walk_dhcp6;

fuzz_target!(|data: &[u8]| {
    let _ = frame::parse_ipv6(data);
    if let Ok(udp) = frame::parse_ipv6_udp(data) {
        walk_dhcp6(udp.payload);
    }
    walk_dhcp6(
        data.get(frame::IPV6_HDR_LEN + frame::UDP_HDR_LEN..)
            .unwrap_or(&[]),
    );
});
