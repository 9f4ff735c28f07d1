//! DHCPv4 parsing from the IP header on, as NFQUEUE hands a packet over: `parse_ipv4_udp`,
//! then the DHCP view with every accessor and the options walk, and `Request::parse`.
//! The UDP payload also goes straight into the DHCP parsers, so mutations of the message
//! itself are not all spent on getting the IPv4 and UDP headers right.
//!
//! Seeds: corpus/dhcp4/seed-* (dhclient DISCOVER and REQUEST captures, see seeds.py).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nfdhcpd::wire::frame;
use nfdhcpd_fuzz::walk_dhcp4;

fuzz_target!(|data: &[u8]| {
    if let Ok(udp) = frame::parse_ipv4_udp(data) {
        assert!(udp.payload.len() + frame::IPV4_HDR_LEN + frame::UDP_HDR_LEN <= data.len());
        walk_dhcp4(udp.payload);
    }
    walk_dhcp4(
        data.get(frame::IPV4_HDR_LEN + frame::UDP_HDR_LEN..)
            .unwrap_or(&[]),
    );
});
