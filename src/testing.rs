//! Builders for tests, fuzz targets and benchmarks (the `testing` feature; always on in this
//! crate's unit tests): a configuration, the original's README binding and its entry, and
//! request packets as NFQUEUE hands them. Every config or entry outside the daemon's own
//! start-up is built here, so a new key changes this file and no test crate.

use crate::binding::file::{self, Binding};
use crate::binding::links::Link;
use crate::binding::snapshot::{Entry, Slot};
use crate::config::{self, Config, Dhcp, Ipv6, Ipv6Mode, Limits};
use crate::reply::{self, Ctx, Handled, Packet, QueueKind};
use crate::wire::frame::{self, Ipv6Header, ETH_HDR_LEN, IPV6_PAYLOAD_OFFSET};
use crate::wire::MacAddr;
use std::net::Ipv6Addr;
use std::path::Path;
use std::sync::Arc;

pub const VM_MAC: MacAddr = MacAddr([0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44]);
pub const HOST_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x00, 0x00, 0x01]);
/// The ifindex of [`entry`]'s tap.
pub const IFINDEX: u32 = 7;

/// The original's README binding (tests/fixtures/original-binding-tap10), minus the empty
/// keys.
pub fn binding() -> Binding {
    file::parse(
        "tap10",
        "INDEV=tap10\nIP=192.0.2.100\nMAC=aa:6b:39:22:33:44\nHOSTNAME=testing-vm\n\
         SUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\nGATEWAY6=2001:db8:aaaa:bbbb::1\n\
         SUBNET6=2001:db8:aaaa:bbbb::/64\nEUI64=2001:db8:aaaa:bbbb:a86b:39ff:fe22:3344\n",
    )
    .expect("valid binding")
}

/// `b` on a running tap [`IFINDEX`] whose INDEV has [`HOST_MAC`], through the daemon's own
/// constructor.
pub fn entry(b: Binding) -> Entry {
    entry_with_host_mac(b, HOST_MAC)
}

/// As [`entry`], with INDEV's MAC `host_mac`.
pub fn entry_with_host_mac(b: Binding, host_mac: MacAddr) -> Entry {
    let tap = Link {
        ifindex: IFINDEX,
        name: b.tap.clone(),
        mac: None,
        running: true,
    };
    let indev = Link {
        ifindex: IFINDEX + 1,
        name: b.indev.clone(),
        mac: Some(host_mac),
        running: true,
    };
    match Entry::resolve(&Arc::new(b), &tap, Some(&indev)) {
        Slot::Active(e) => e,
        Slot::Inactive { why, .. } => panic!("test entry inactive: {why:?}"),
    }
}

/// A configuration with the values of the original's sample config (DHCPv4 on queue 42,
/// IPv6 slaac+dhcpv6 on 43-45); change what a test needs with the methods.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    config: Config,
}

/// The original's sample configuration, without its comments and obsolete keys; every other
/// key has its default.
const SAMPLE_CONFIG: &str = "[general]\n\
    [dhcp]\ndhcp_queue = 42\nserver_ip = 192.0.2.1\nnameservers = 192.0.2.2, 192.0.2.3\n\
    domain = example.com\n\
    [ipv6]\nrs_queue = 43\nns_queue = 44\ndhcpv6_queue = 45\n\
    nameservers = 2001:db8:100::1, 2001:db8:200::2\ndomains = example.com\n";

/// Starts from [`SAMPLE_CONFIG`] as the daemon's own parser reads it, so a new key with a
/// default needs nothing here.
pub fn config() -> ConfigBuilder {
    let loaded = config::parse(Path::new("testing.conf"), SAMPLE_CONFIG).expect("sample config");
    ConfigBuilder {
        config: loaded.config,
    }
}

impl ConfigBuilder {
    pub fn limits(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.config.live.general);
        self
    }

    /// Edits the live `[dhcp]` settings (DHCPv4 must be on).
    pub fn dhcp(mut self, f: impl FnOnce(&mut Dhcp)) -> Self {
        f(self.config.live.dhcp.as_mut().expect("dhcp is on"));
        self
    }

    /// Edits the live `[ipv6]` settings (IPv6 must be on).
    pub fn ipv6(mut self, f: impl FnOnce(&mut Ipv6)) -> Self {
        f(self.config.live.ipv6.as_mut().expect("ipv6 is on"));
        self
    }

    /// The IPv6 mode; `Slaac` also drops the DHCPv6 queue, as the config file would.
    pub fn mode(mut self, mode: Ipv6Mode) -> Self {
        let q = self.config.fixed.ipv6.as_mut().expect("ipv6 is on");
        q.mode = mode;
        q.dhcpv6_queue = mode.serves_dhcpv6().then_some(45);
        self
    }

    pub fn no_dhcp(mut self) -> Self {
        (self.config.fixed.dhcp, self.config.live.dhcp) = (None, None);
        self
    }

    pub fn no_ipv6(mut self) -> Self {
        (self.config.fixed.ipv6, self.config.live.ipv6) = (None, None);
        self
    }

    pub fn build(self) -> Config {
        self.config
    }
}

/// The live `[dhcp]` settings of the original's sample config.
pub fn dhcp() -> Dhcp {
    config().build().live.dhcp.expect("dhcp is on")
}

/// The live `[ipv6]` settings of the original's sample config.
pub fn ipv6() -> Ipv6 {
    config().build().live.ipv6.expect("ipv6 is on")
}

/// Runs the daemon's handler for `kind` on `ip` (from the IP header) with the frame source
/// `frame_src`, writing any reply into `out`.
pub fn handle(
    kind: QueueKind,
    ip: &[u8],
    frame_src: Option<MacAddr>,
    entry: &Entry,
    config: &Config,
    out: &mut [u8],
) -> Handled {
    let ctx = Ctx { entry, config, out };
    reply::handle(kind, &Packet { ip, frame_src }, ctx)
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
    udp6_packet_to(addr("ff02::1:2"), src_port, dst_port, payload)
}

/// As [`udp6_packet`], to `dst` (a unicast address, say).
pub fn udp6_packet_to(dst: Ipv6Addr, src_port: u16, dst_port: u16, payload: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let off = frame::IPV6_UDP_PAYLOAD_OFFSET;
    buf[off..off + payload.len()].copy_from_slice(payload);
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
