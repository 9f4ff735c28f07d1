//! Shared fixtures for the policy tests: a binding, its entry, configs, request builders.

use crate::binding::file::{self, Binding};
use crate::binding::table::Entry;
use crate::config::{Ipv6, Ipv6Mode};
use crate::wire::frame::{self, Ipv6Header, ETH_HDR_LEN, IPV6_PAYLOAD_OFFSET};
use crate::wire::MacAddr;
use std::net::Ipv6Addr;
use std::sync::Arc;

pub const VM_MAC: MacAddr = MacAddr([0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44]);
pub const HOST_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);

/// The original's README binding (fixtures/original-binding-tap10), minus the empty keys.
pub fn binding() -> Binding {
    file::parse(
        "tap10",
        "INDEV=tap10\nIP=192.0.2.100\nMAC=aa:6b:39:22:33:44\nHOSTNAME=testing-vm\n\
         SUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nGATEWAY6=2001:db8:aaaa:bbbb::1\n\
         SUBNET6=2001:db8:aaaa:bbbb::/64\nEUI64=2001:db8:aaaa:bbbb:a86b:39ff:fe22:3344\n",
    )
    .expect("valid binding")
}

pub fn entry(b: Binding) -> Entry {
    let fallback_domains = b
        .hostname
        .as_deref()
        .and_then(super::hostname_domain)
        .map(|d| vec![d.to_owned()])
        .unwrap_or_default();
    Entry {
        fallback_domains,
        binding: Arc::new(b),
        ifindex: 7,
        host_mac: Some(HOST_MAC),
        running: true,
    }
}

pub fn v6cfg() -> Ipv6 {
    Ipv6 {
        mode: Ipv6Mode::SlaacDhcpv6,
        ra_period: 300,
        rs_queue: 43,
        ns_queue: 44,
        dhcpv6_queue: Some(45),
        nameservers: vec![
            "2001:db8:100::1".parse().expect("addr"),
            "2001:db8:200::2".parse().expect("addr"),
        ],
        domains: vec!["example.com".into()],
    }
}

pub fn addr(s: &str) -> Ipv6Addr {
    s.parse().expect("test address")
}

/// The VM's link-local address.
pub fn vm_ll() -> Ipv6Addr {
    VM_MAC.link_local()
}

/// An IPv6 packet (from the IP header, as NFQUEUE hands it) carrying the ICMPv6 message
/// that `emit` writes.
pub fn icmpv6_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    emit: impl FnOnce(&mut [u8]) -> usize,
) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let len = emit(&mut buf[IPV6_PAYLOAD_OFFSET..]);
    let hdr = Ipv6Header {
        src_mac: VM_MAC,
        dst_mac: frame::ipv6_multicast_mac(&dst),
        src_ip: src,
        dst_ip: dst,
        hop_limit: 255,
    };
    let total = frame::emit_ipv6_icmpv6(&mut buf, &hdr, len).expect("emit");
    buf[ETH_HDR_LEN..total].to_vec()
}

/// An IPv6/UDP packet from the VM's link-local address.
pub fn udp6_packet(src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let off = frame::IPV6_UDP_PAYLOAD_OFFSET;
    buf[off..off + payload.len()].copy_from_slice(payload);
    let dst = addr("ff02::1:2");
    let hdr = Ipv6Header {
        src_mac: VM_MAC,
        dst_mac: frame::ipv6_multicast_mac(&dst),
        src_ip: vm_ll(),
        dst_ip: dst,
        hop_limit: 1,
    };
    let total =
        frame::emit_ipv6_udp(&mut buf, &hdr, src_port, dst_port, payload.len()).expect("emit");
    buf[ETH_HDR_LEN..total].to_vec()
}
