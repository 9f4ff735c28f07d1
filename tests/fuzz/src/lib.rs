//! What the fuzz targets share: walks that call every accessor of a parsed packet and check
//! the iterators' contracts, the ICMPv6 checksum fix-up that lets mutated NDP messages get
//! past `parse_icmpv6`, checks that a reply frame parses back with our own parsers, and the
//! fixed bindings, configurations and requests of the policy targets.
//!
//! Everything here panics on a broken promise of the library (that is how libFuzzer learns
//! of it) and never on malformed input, which the library must refuse with an error.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use dhcproto::Decodable;
use nfdhcpd::binding::file::{self, Binding};
use nfdhcpd::binding::snapshot::Entry;
use nfdhcpd::config::{Config, Ipv6Mode};
use nfdhcpd::reply::{NoReply, Outcome, QueueKind, ReplyKind};
use nfdhcpd::testing;
use nfdhcpd::wire::dhcp4::{self, MessageType};
use nfdhcpd::wire::dhcp6;
use nfdhcpd::wire::dns::NameIter;
use nfdhcpd::wire::frame::{self, Icmpv6, Ipv4UdpHeader, Ipv6Header};
use nfdhcpd::wire::ndp::{
    self, NdpOption, NdpOptionIter, NeighborAdvert, NeighborSolicit, OptionType, RaPacket,
    RouterSolicit,
};
use nfdhcpd::wire::{MacAddr, WireError};

/// The largest frame a reply may take: what the sender thread hands to AF_PACKET.
pub const FRAME_CAP: usize = nfdhcpd::sender::FRAME_CAP;

/// Walks `iter` to its end and checks the contract every option and name iterator of the
/// wire modules documents: an error is yielded once and then the iteration is over. The
/// walk is bounded by `max_items` (each item consumes at least one byte of a buffer of that
/// size), so a loop that stops consuming is a failure here rather than a libFuzzer timeout.
/// Returns the good items.
pub fn walk_fused<T, I>(mut iter: I, max_items: usize) -> Vec<T>
where
    I: Iterator<Item = Result<T, WireError>>,
{
    let mut good = Vec::new();
    let mut steps = 0usize;
    while let Some(item) = iter.next() {
        steps += 1;
        assert!(steps <= max_items + 1, "iterator does not advance");
        match item {
            Ok(v) => good.push(v),
            Err(_) => {
                assert!(iter.next().is_none(), "an error must end the iteration");
                break;
            }
        }
    }
    good
}

/// Rewrites the ICMPv6 checksum of an IPv6 packet carrying ICMPv6 (no extension headers)
/// so that it verifies; leaves anything else alone. Returns whether it rewrote one.
pub fn fix_icmpv6_checksum(packet: &mut [u8]) -> bool {
    let (src, dst, len) = match frame::parse_ipv6(packet) {
        Ok(ip) if ip.next_header == frame::IP_PROTO_ICMPV6 => (ip.src, ip.dst, ip.payload.len()),
        _ => return false,
    };
    let Some(icmp) = packet.get_mut(frame::IPV6_HDR_LEN..frame::IPV6_HDR_LEN + len) else {
        return false;
    };
    if icmp.len() < frame::ICMPV6_HDR_LEN {
        return false;
    }
    icmp[2..4].copy_from_slice(&[0, 0]);
    let pseudo = frame::ipv6_pseudo_header_sum(&src, &dst, frame::IP_PROTO_ICMPV6, len as u32);
    let sum = frame::checksum_fold(frame::ones_complement_sum(pseudo, icmp));
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());
    true
}

// ---------------------------------------------------------------------------------------
// DHCPv4

/// Every accessor of the view, the options walk, and `Request::parse`, whose result must
/// agree with the view.
pub fn walk_dhcp4(payload: &[u8]) {
    let Ok(p) = dhcp4::Packet::new_checked(payload) else {
        assert!(dhcp4::Request::parse(payload).is_err());
        return;
    };
    black_box((
        p.op(),
        p.htype(),
        p.hlen(),
        p.hops(),
        p.xid(),
        p.secs(),
        p.flags(),
    ));
    black_box((
        p.broadcast_flag(),
        p.ciaddr(),
        p.yiaddr(),
        p.siaddr(),
        p.giaddr(),
    ));
    assert_eq!(p.chaddr_raw().len(), 16);
    let mac = p.client_mac();
    let options = walk_fused(p.options(), payload.len());
    for o in &options {
        assert!(o.code != dhcp4::option::PAD && o.code != dhcp4::option::END);
        assert!(o.data.len() <= 255);
    }
    if let Ok(req) = dhcp4::Request::parse(payload) {
        assert_eq!(req.op, dhcp4::BOOTREQUEST);
        assert_eq!(Some(req.chaddr), mac);
        assert_eq!(
            (req.xid, req.secs, req.flags),
            (p.xid(), p.secs(), p.flags())
        );
        assert_eq!((req.ciaddr, req.giaddr), (p.ciaddr(), p.giaddr()));
        assert_eq!(req.broadcast_flag(), p.broadcast_flag());
        // The code point survives the enum, including its Unknown arm.
        let code = u8::from(req.message_type);
        assert_eq!(MessageType::from(code), req.message_type);
        let first = |c| options.iter().find(|o| o.code == c).map(|o| o.data);
        assert_eq!(first(dhcp4::option::MESSAGE_TYPE), Some(&[code][..]));
        let ip = |c| first(c).map(|d| Ipv4Addr::from(<[u8; 4]>::try_from(d).unwrap()));
        assert_eq!(req.requested_ip, ip(dhcp4::option::REQUESTED_IP));
        assert_eq!(req.server_id, ip(dhcp4::option::SERVER_ID));
        let id = req.client_id.as_ref().map(dhcp4::ClientId::as_bytes);
        assert_eq!(id, first(dhcp4::option::CLIENT_ID));
        let prl = first(dhcp4::option::PARAM_REQUEST_LIST).unwrap_or_default();
        for c in 0..=255u8 {
            assert_eq!(req.requested.contains(c), prl.contains(&c));
        }
    }
}

// ---------------------------------------------------------------------------------------
// DHCPv6

/// The view, the options walk (with the names of any domain list), and `Request::parse`,
/// whose result must agree with the options.
pub fn walk_dhcp6(payload: &[u8]) {
    let Ok(p) = dhcp6::Packet::new_checked(payload) else {
        assert!(dhcp6::Request::parse(payload).is_err());
        return;
    };
    assert!(p.transaction_id() <= dhcp6::MAX_TRANSACTION_ID);
    let options = walk_fused(p.options(), payload.len());
    for o in &options {
        if o.code == dhcp6::option::DOMAIN_LIST {
            walk_names(o.data);
        }
    }
    if let Ok(req) = dhcp6::Request::parse(payload) {
        assert_eq!(
            (req.msg_type, req.transaction_id),
            (p.msg_type(), p.transaction_id())
        );
        assert!(req.msg_type != dhcp6::MessageType::RelayForw);
        assert!(req.msg_type != dhcp6::MessageType::RelayRepl);
        let first = |c| options.iter().find(|o| o.code == c).map(|o| o.data);
        assert_eq!(req.client_id, first(dhcp6::option::CLIENTID));
        assert_eq!(req.server_id, first(dhcp6::option::SERVERID));
        assert_eq!(req.oro, first(dhcp6::option::ORO));
        for id in [req.client_id, req.server_id].into_iter().flatten() {
            assert!((dhcp6::MIN_DUID_LEN..=dhcp6::MAX_DUID_LEN).contains(&id.len()));
        }
        let oro = req.oro.unwrap_or(&[]);
        assert!(oro.len() % 2 == 0);
        for code in [1u16, 23, 24, 32, 0xffff] {
            let listed = oro
                .chunks(2)
                .any(|c| u16::from_be_bytes([c[0], c[1]]) == code);
            assert_eq!(req.requested(code), listed);
        }
    }
}

/// A packed list of uncompressed names: walked, each displayed and split into labels.
pub fn walk_names(list: &[u8]) {
    for name in walk_fused(NameIter::new(list), list.len()) {
        let bytes = name.as_bytes();
        assert!(!bytes.is_empty() && bytes.len() <= 255);
        assert_eq!(bytes.last(), Some(&0));
        for label in name.labels() {
            assert!((1..=63).contains(&label.len()));
        }
        black_box(name.to_string());
    }
}

// ---------------------------------------------------------------------------------------
// NDP

/// Offsets of the options in the ICMPv6 body of RS, NS/NA and RA messages.
const RS_OPTIONS: usize = 4;
const NEIGHBOR_OPTIONS: usize = 20;
const RA_OPTIONS: usize = 12;

/// Every typed accessor on one option, whatever its type: each must refuse, not panic.
fn walk_option(o: &NdpOption<'_>) {
    assert!(o.data.len() >= 6 && (o.data.len() + 2).is_multiple_of(8));
    black_box((o.link_layer_addr().ok(), o.mtu().ok(), o.prefix_info().ok()));
    if let Ok((lifetime, addrs)) = o.rdnss() {
        assert_eq!(addrs.len(), addrs.clone().count());
        black_box((lifetime, addrs.collect::<Vec<_>>()));
    }
    if let Ok((lifetime, names)) = o.dnssl() {
        black_box(lifetime);
        // dnssl() checked every name already.
        for n in names {
            black_box(n.expect("dnssl() accepted the list").to_string());
        }
    }
}

/// The NDP parsers on one ICMPv6 message: RS, NS and NA parsed and, when accepted, emitted
/// again and parsed back to the same value; an RA through its checked view and every
/// accessor; the options walk at each message's options offset.
pub fn walk_ndp(icmp: &Icmpv6<'_>) {
    for offset in [RS_OPTIONS, NEIGHBOR_OPTIONS, RA_OPTIONS] {
        let area = icmp.body.get(offset..).unwrap_or(&[]);
        for o in walk_fused(NdpOptionIter::new(area), area.len()) {
            walk_option(&o);
        }
    }
    if let Ok(rs) = RouterSolicit::parse(icmp) {
        let back = reparse(icmp, rs.buffer_len(), |b| rs.emit(b));
        assert_eq!(RouterSolicit::parse(&back.icmp()), Ok(rs));
    }
    if let Ok(ns) = NeighborSolicit::parse(icmp) {
        assert!(!ns.target.is_multicast());
        let back = reparse(icmp, ns.buffer_len(), |b| ns.emit(b));
        assert_eq!(NeighborSolicit::parse(&back.icmp()), Ok(ns));
    }
    if let Ok(na) = NeighborAdvert::parse(icmp) {
        assert!(!na.target.is_multicast());
        let back = reparse(icmp, na.buffer_len(), |b| na.emit(b));
        assert_eq!(NeighborAdvert::parse(&back.icmp()), Ok(na));
    }
    if let Ok(view) = RaPacket::new_checked(icmp) {
        walk_ra_view(&view);
    }
}

/// Every accessor of a checked RA view. `new_checked` validated every option, so the
/// typed accessors must find what the options walk finds.
pub fn walk_ra_view(view: &RaPacket<'_>) {
    black_box((
        view.cur_hop_limit(),
        view.managed(),
        view.other(),
        view.preference(),
    ));
    black_box((
        view.router_lifetime(),
        view.reachable_time(),
        view.retrans_timer(),
    ));
    let options: Vec<_> = view
        .options()
        .map(|o| o.expect("new_checked walked every option"))
        .collect();
    for o in &options {
        walk_option(o);
    }
    let has = |kind| options.iter().any(|o| o.kind == kind);
    assert_eq!(
        view.source_ll().is_some(),
        has(OptionType::SourceLinkLayerAddr)
    );
    assert_eq!(view.mtu().is_some(), has(OptionType::Mtu));
    assert_eq!(view.prefix().is_some(), has(OptionType::PrefixInfo));
    assert_eq!(view.rdnss().is_some(), has(OptionType::Rdnss));
    assert_eq!(view.dnssl().is_some(), has(OptionType::Dnssl));
    for kind in [0u8, 1, 2, 3, 4, 5, 14, 25, 31, 255].map(OptionType::from) {
        assert_eq!(view.option(kind).is_some(), has(kind));
    }
    if let Some(p) = view.prefix() {
        assert!(p.prefix_len <= 128);
    }
    if let Some((_, addrs)) = view.rdnss() {
        assert!(addrs.len() >= 1);
    }
    if let Some((_, names)) = view.dnssl() {
        let names: Vec<_> = names.map(|n| n.expect("checked").to_string()).collect();
        assert!(!names.is_empty());
    }
}

/// An ICMPv6 message re-emitted into an IPv6 packet with the addresses and hop limit of
/// `like`, as bytes that `icmp()` parses again.
pub struct Reemitted(Vec<u8>);

impl Reemitted {
    pub fn icmp(&self) -> Icmpv6<'_> {
        frame::parse_icmpv6(&self.0[frame::ETH_HDR_LEN..]).expect("our own frame verifies")
    }
}

fn reparse(
    like: &Icmpv6<'_>,
    len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, WireError>,
) -> Reemitted {
    let mut buf = vec![0xa5u8; frame::IPV6_PAYLOAD_OFFSET + len + 8];
    let written = emit(&mut buf[frame::IPV6_PAYLOAD_OFFSET..]).expect("room for buffer_len");
    assert_eq!(written, len, "emit wrote other than buffer_len");
    let tail = &buf[frame::IPV6_PAYLOAD_OFFSET + len..];
    assert!(
        tail.iter().all(|&b| b == 0xa5),
        "emit wrote past its length"
    );
    let hdr = Ipv6Header {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr([2, 0, 0, 0, 0, 2]),
        src_ip: like.src,
        dst_ip: like.dst,
        hop_limit: like.hop_limit,
    };
    let total = frame::emit_ipv6_icmpv6(&mut buf, &hdr, len).expect("emit frame");
    buf.truncate(total);
    Reemitted(buf)
}

// ---------------------------------------------------------------------------------------
// Fixed bindings, configurations and requests for the policy targets.

/// The VM of the captures (dhclient, the kernel's RS and NS): 52:54:00:12:34:56.
pub const VM_MAC: MacAddr = MacAddr([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
/// The host side of the scapy-built replies: 02:00:5e:10:00:01 (fe80::5eff:fe10:1).
pub const HOST_MAC: MacAddr = MacAddr([0x02, 0x00, 0x5e, 0x10, 0x00, 0x01]);

/// A binding for the captured VM that every request kind can be answered from: the address
/// the scapy OFFER gave (192.0.2.50 from 192.0.2.1), a router, IPv6, a host name with a
/// domain, per-VM IPv6 nameservers.
pub fn binding_full() -> Binding {
    file::parse(
        "tap0",
        "MAC=52:54:00:12:34:56\nIP=192.0.2.50\nSUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n\
         HOSTNAME=vm1.example.org\nSUBNET6=2001:db8:1::/64\nGATEWAY6=2001:db8:1::1\n\
         NAMESERVERS6=2001:db8:53::1\n",
    )
    .expect("valid binding")
}

/// The other branches of the policy: MACSPOOF, PRIVATE, an MTU, no gateways, a host name
/// without a domain.
pub fn binding_odd() -> Binding {
    file::parse(
        "tap1",
        "MAC=52:54:00:12:34:56\nIP=192.0.2.50\nSUBNET=192.0.2.0/25\nHOSTNAME=vm1\n\
         SUBNET6=2001:db8:2::/64\nMTU=1450\nPRIVATE=yes\nMACSPOOF=yes\n",
    )
    .expect("valid binding")
}

/// The entry the registry would build for `b` with INDEV present (HOST_MAC) and the tap up.
pub fn entry(b: Binding) -> Entry {
    // The seeds (seeds.py) are built for this host MAC: NSs for its router link-local.
    testing::entry_with_host_mac(b, HOST_MAC)
}

/// The original's sample configuration.
pub fn config() -> Config {
    testing::config().build()
}

/// The other branches: `server_on_link`, no domain, no DNS servers, SLAAC only, no IPv6
/// domains (the host name's domain is used, if any).
pub fn config_odd() -> Config {
    testing::config()
        .dhcp(|d| {
            d.lease_lifetime = 60;
            d.server_ip = None;
            d.server_on_link = true;
            d.nameservers.clear();
            d.domain = None;
        })
        .mode(Ipv6Mode::Slaac)
        .ipv6(|v| {
            v.ra_period = 1;
            v.nameservers.clear();
            v.domains.clear();
        })
        .build()
}

/// The daemon's handler for `kind` (its prologue included) on `ip`, from the IP header.
pub fn handle(
    kind: QueueKind,
    ip: &[u8],
    src: Option<MacAddr>,
    e: &Entry,
    cfg: &Config,
    out: &mut [u8],
) -> Outcome {
    testing::handle(kind, ip, src, e, cfg, out).outcome
}

/// A DHCPDISCOVER from `mac` (options 53 and END), as NFQUEUE hands it: from the IP header.
pub fn discover_packet(mac: MacAddr) -> Vec<u8> {
    let mut buf = vec![0u8; frame::IPV4_UDP_PAYLOAD_OFFSET + dhcp4::MIN_MESSAGE_LEN];
    let msg = &mut buf[frame::IPV4_UDP_PAYLOAD_OFFSET..];
    msg[..4].copy_from_slice(&[dhcp4::BOOTREQUEST, 1, 6, 0]);
    msg[4..8].copy_from_slice(&0x44ca_a730u32.to_be_bytes());
    msg[28..34].copy_from_slice(&mac.octets());
    msg[236..240].copy_from_slice(&dhcp4::MAGIC_COOKIE);
    msg[240..244].copy_from_slice(&[53, 1, 1, 255]);
    let hdr = Ipv4UdpHeader {
        src_mac: mac,
        dst_mac: MacAddr::BROADCAST,
        src_ip: Ipv4Addr::UNSPECIFIED,
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: dhcp4::CLIENT_PORT,
        dst_port: dhcp4::SERVER_PORT,
    };
    let len = frame::emit_ipv4_udp(&mut buf, &hdr, dhcp4::MIN_MESSAGE_LEN).expect("emit");
    buf[frame::ETH_HDR_LEN..len].to_vec()
}

/// A Router Solicitation from `mac`'s link-local address with its SLLA option.
pub fn rs_packet(mac: MacAddr) -> Vec<u8> {
    let rs = RouterSolicit {
        source_ll: Some(mac),
    };
    icmpv6_packet(
        mac,
        "ff02::2".parse().expect("addr"),
        rs.buffer_len(),
        |b| rs.emit(b),
    )
}

/// An Information-Request from `mac`'s link-local address: DUID-LL client id, elapsed time.
pub fn info_request_packet(mac: MacAddr) -> Vec<u8> {
    let mut buf = vec![0u8; 200];
    let off = frame::IPV6_UDP_PAYLOAD_OFFSET;
    let mut w = dhcp6::ReplyWriter::new(
        &mut buf[off..],
        dhcp6::MessageType::InformationRequest,
        0x7b23c6,
    )
    .expect("writer");
    w.option(dhcp6::option::CLIENTID, &dhcp6::duid_ll(mac))
        .expect("fits");
    w.option(dhcp6::option::ELAPSED_TIME, &[0, 0])
        .expect("fits");
    let len = w.finish();
    let dst: Ipv6Addr = "ff02::1:2".parse().expect("addr");
    let hdr = Ipv6Header {
        src_mac: mac,
        dst_mac: frame::ipv6_multicast_mac(&dst),
        src_ip: mac.link_local(),
        dst_ip: dst,
        hop_limit: 1,
    };
    let total = frame::emit_ipv6_udp(&mut buf, &hdr, 546, 547, len).expect("emit");
    buf[frame::ETH_HDR_LEN..total].to_vec()
}

fn icmpv6_packet(
    mac: MacAddr,
    dst: Ipv6Addr,
    len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, WireError>,
) -> Vec<u8> {
    let mut buf = vec![0u8; frame::IPV6_PAYLOAD_OFFSET + len];
    emit(&mut buf[frame::IPV6_PAYLOAD_OFFSET..]).expect("emit");
    let hdr = Ipv6Header {
        src_mac: mac,
        dst_mac: frame::ipv6_multicast_mac(&dst),
        src_ip: mac.link_local(),
        dst_ip: dst,
        hop_limit: ndp::HOP_LIMIT,
    };
    let total = frame::emit_ipv6_icmpv6(&mut buf, &hdr, len).expect("emit");
    buf[frame::ETH_HDR_LEN..total].to_vec()
}

// ---------------------------------------------------------------------------------------
// Replies parsed back.

/// Runs the reply through `check` when there is one; returns the outcome for the caller.
pub fn reply_frame(outcome: Outcome, out: &[u8]) -> Option<(&[u8], ReplyKind)> {
    match outcome {
        Outcome::Reply { len, kind } => {
            assert!(
                len <= out.len() && len > frame::ETH_HDR_LEN,
                "reply length {len}"
            );
            Some((&out[..len], kind))
        }
        Outcome::NoReply(_) => None,
    }
}

/// A DHCPv4 reply frame parses with our own parsers: IPv4/UDP from port 67 to 68 from the
/// host MAC, a BOOTREPLY to the request's xid and chaddr with the message type that `kind`
/// says, and a well-formed options area.
pub fn check_dhcp4_reply(frame_bytes: &[u8], kind: ReplyKind, req: &dhcp4::Request, host: MacAddr) {
    assert_eq!(&frame_bytes[6..12], &host.octets());
    assert_eq!(&frame_bytes[12..14], &frame::ETHERTYPE_IPV4.to_be_bytes());
    let udp = frame::parse_ipv4_udp(&frame_bytes[frame::ETH_HDR_LEN..]).expect("reply parses");
    assert_eq!((udp.src_port, udp.dst_port), (67, 68));
    let p = dhcp4::Packet::new_checked(udp.payload).expect("reply is DHCP");
    assert_eq!((p.op(), p.xid()), (dhcp4::BOOTREPLY, req.xid));
    assert_eq!(p.client_mac(), Some(req.chaddr));
    let options = walk_fused(p.options(), udp.payload.len());
    // finish() wrote END after the last option, so nothing was cut.
    let opts_len: usize = options.iter().map(|o| 2 + o.data.len()).sum();
    assert!(dhcp4::HEADER_LEN + opts_len < udp.payload.len());
    let t = options
        .iter()
        .find(|o| o.code == dhcp4::option::MESSAGE_TYPE)
        .expect("option 53");
    let want = match kind {
        ReplyKind::Offer => MessageType::Offer,
        ReplyKind::Ack => MessageType::Ack,
        ReplyKind::Nak => MessageType::Nak,
        other => panic!("a DHCPv4 handler built {other:?}"),
    };
    assert_eq!(t.data, &[u8::from(want)]);
}

/// An RA frame parses: ICMPv6 with a good checksum, hop limit 255, from the host MAC's
/// link-local address, through the checked view with the SLLA and prefix the policy sends.
pub fn check_ra_reply(frame_bytes: &[u8], host: MacAddr) {
    let icmp = frame::parse_icmpv6(&frame_bytes[frame::ETH_HDR_LEN..]).expect("reply parses");
    assert_eq!(icmp.src, host.link_local());
    let view = RaPacket::new_checked(&icmp).expect("our RA is valid");
    walk_ra_view(&view);
    assert_eq!(view.source_ll(), Some(host));
    assert!(view.prefix().is_some());
}

/// An NA frame parses as a valid Neighbor Advertisement for the solicited target, with the
/// host MAC as the target link-layer address.
pub fn check_na_reply(frame_bytes: &[u8], target: Ipv6Addr, host: MacAddr) {
    let icmp = frame::parse_icmpv6(&frame_bytes[frame::ETH_HDR_LEN..]).expect("reply parses");
    let na = NeighborAdvert::parse(&icmp).expect("our NA is valid");
    assert_eq!((na.target, na.target_ll), (target, Some(host)));
    assert!(na.solicited && na.router);
}

/// A DHCPv6 reply frame is what RFC 8415 and the policy promise for the request `request_ip`
/// (the IPv6 packet answered), on `e` with `cfg`: see [`check_dhcp6_exchange`]. Kept under
/// its old name for pure_path.
pub fn check_dhcp6_reply(
    frame_bytes: &[u8],
    kind: ReplyKind,
    request_ip: &[u8],
    e: &Entry,
    cfg: &Config,
) {
    check_dhcp6_exchange(frame_bytes, kind, request_ip, e, cfg);
}

/// One IA of a message as the oracle sees it: kind, IAID, T1, T2, its IAADDR/IAPREFIX
/// leases and the status code inside it, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeenIa {
    pub code: u16,
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    /// (address or prefix, prefix length (128 for an address), preferred, valid).
    pub leases: Vec<(Ipv6Addr, u8, u32, u32)>,
    pub status: Option<u16>,
}

/// The IAs of a checked message, walked by hand (not through `ias()`), in order.
pub fn seen_ias(payload: &[u8]) -> Vec<SeenIa> {
    let p = dhcp6::Packet::new_checked(payload).expect("checked message");
    let mut out = Vec::new();
    for o in p.options() {
        let o = o.expect("checked message");
        let Some(kind) = dhcp6::IaKind::from_code(o.code) else {
            continue;
        };
        out.push(seen_ia(kind, o.data).expect("checked message: IA well formed"));
    }
    out
}

/// An IA's data read by hand, or None where RFC 8415 §21.4-21.6, §21.21-21.22 and
/// §21.13 make it malformed: short fixed part, a sub-option running past the end, an
/// IAADDR (IA_NA/IA_TA only) under 24 bytes, an IAPREFIX (IA_PD only) under 25 bytes or
/// longer than /128, a Status Code under 2 bytes. The model `Ia::parse` must agree with.
pub fn seen_ia(kind: dhcp6::IaKind, data: &[u8]) -> Option<SeenIa> {
    let be32 = |d: &[u8], at: usize| u32::from_be_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]]);
    let fixed = if kind == dhcp6::IaKind::Ta { 4 } else { 12 };
    if data.len() < fixed {
        return None;
    }
    let (t1, t2) = if kind == dhcp6::IaKind::Ta {
        (0, 0)
    } else {
        (be32(data, 4), be32(data, 8))
    };
    let mut ia = SeenIa {
        code: kind.code(),
        iaid: be32(data, 0),
        t1,
        t2,
        leases: Vec::new(),
        status: None,
    };
    let mut rest = &data[fixed..];
    while !rest.is_empty() {
        if rest.len() < 4 {
            return None;
        }
        let code = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let d = rest.get(4..4 + len)?;
        match code {
            5 => {
                if kind == dhcp6::IaKind::Pd || len < 24 {
                    return None;
                }
                let a: [u8; 16] = d[..16].try_into().unwrap();
                ia.leases
                    .push((Ipv6Addr::from(a), 128, be32(d, 16), be32(d, 20)));
            }
            26 => {
                if kind != dhcp6::IaKind::Pd || len < 25 || d[8] > 128 {
                    return None;
                }
                let a: [u8; 16] = d[9..25].try_into().unwrap();
                ia.leases
                    .push((Ipv6Addr::from(a), d[8], be32(d, 0), be32(d, 4)));
            }
            13 => {
                if len < 2 {
                    return None;
                }
                ia.status.get_or_insert(u16::from_be_bytes([d[0], d[1]]));
            }
            _ => {}
        }
        rest = &rest[4 + len..];
    }
    Some(ia)
}

/// What `ia` (a checked view) yields, in the oracle's terms (no status: the view has none).
pub fn view_ia(ia: &dhcp6::Ia<'_>) -> SeenIa {
    let mut leases: Vec<_> = ia
        .addresses()
        .map(|a| (a.addr, 128, a.preferred, a.valid))
        .collect();
    leases.extend(
        ia.prefixes()
            .map(|p| (p.prefix, p.len, p.preferred, p.valid)),
    );
    SeenIa {
        code: ia.kind.code(),
        iaid: ia.iaid,
        t1: ia.t1,
        t2: ia.t2,
        leases,
        status: None,
    }
}

/// The IAs dhcproto decodes from `m`'s options, sorted (dhcproto sorts options by code).
pub fn dhcproto_ias(m: &dhcproto::v6::Message) -> Vec<SeenIa> {
    use dhcproto::v6::DhcpOption as D;
    let leases = |opts: &dhcproto::v6::DhcpOptions| {
        let mut v = Vec::new();
        let mut status = None;
        for o in opts.iter() {
            match o {
                D::IAAddr(a) => v.push((a.addr, 128, a.preferred_life, a.valid_life)),
                D::IAPrefix(p) => v.push((
                    p.prefix_ip,
                    p.prefix_len,
                    p.preferred_lifetime,
                    p.valid_lifetime,
                )),
                D::StatusCode(s) => {
                    status.get_or_insert(u16::from(s.status));
                }
                _ => {}
            }
        }
        v.sort();
        (v, status)
    };
    let mut out = Vec::new();
    for o in m.opts().iter() {
        let (code, iaid, t1, t2, opts) = match o {
            D::IANA(ia) => (3, ia.id, ia.t1, ia.t2, &ia.opts),
            D::IATA(ia) => (4, ia.id, 0, 0, &ia.opts),
            D::IAPD(ia) => (25, ia.id, ia.t1, ia.t2, &ia.opts),
            _ => continue,
        };
        let (leases, status) = leases(opts);
        out.push(SeenIa {
            code,
            iaid,
            t1,
            t2,
            leases,
            status,
        });
    }
    out.sort();
    out
}

/// `ias` with each IA's leases sorted and the IAs sorted: dhcproto's order.
pub fn sorted_ias(ias: &[SeenIa]) -> Vec<SeenIa> {
    let mut v: Vec<SeenIa> = ias
        .iter()
        .cloned()
        .map(|mut ia| {
            ia.leases.sort();
            ia
        })
        .collect();
    v.sort();
    v
}

/// The first top-level Status Code of a checked message.
fn top_status(payload: &[u8]) -> Option<dhcp6::StatusCode> {
    let p = dhcp6::Packet::new_checked(payload).ok()?;
    let found = p
        .options()
        .filter_map(Result::ok)
        .find(|o| o.code == dhcp6::option::STATUS_CODE)?;
    let code = found.data.get(..2)?;
    Some(dhcp6::StatusCode::from(u16::from_be_bytes([
        code[0], code[1],
    ])))
}

fn has_option(payload: &[u8], code: u16) -> bool {
    dhcp6::Packet::new_checked(payload)
        .map(|p| p.options().filter_map(Result::ok).any(|o| o.code == code))
        .unwrap_or(false)
}

/// Whether RFC 8415 §16 (and the policy: the binding needs SUBNET6) lets a server answer
/// the client message `req` sent to `dst`, on `e`. `Err` names why not.
pub fn dhcp6_answerable(
    req: &dhcp6::Request<'_>,
    dst: Ipv6Addr,
    e: &Entry,
) -> Result<(), &'static str> {
    use dhcp6::MessageType as T;
    if e.binding.subnet6.is_none() {
        return Err("no SUBNET6");
    }
    let ours = dhcp6::duid_ll(e.host_mac);
    let server_ours = req.server_id == Some(&ours[..]);
    match req.msg_type {
        T::InformationRequest => {
            if req.has_ia {
                return Err("Information-Request with an IA (§16.12)");
            }
            if req.server_id.is_some() && !server_ours {
                return Err("Information-Request for another server (§16.12)");
            }
        }
        T::Solicit | T::Rebind | T::Confirm => {
            if req.client_id.is_none() {
                return Err("no client id (§16)");
            }
            if req.server_id.is_some() {
                return Err("Solicit/Rebind/Confirm with a server id (§16.2, 16.5, 16.8)");
            }
            if !dst.is_multicast() {
                return Err("Solicit/Rebind/Confirm to unicast (§16)");
            }
        }
        T::Request | T::Renew | T::Release | T::Decline => {
            if req.client_id.is_none() {
                return Err("no client id (§16)");
            }
            if !server_ours {
                return Err("Request/Renew/Release/Decline not for our server id (§16)");
            }
        }
        _ => return Err("not a client message a server answers"),
    }
    Ok(())
}

/// The whole oracle on a DHCPv6 reply to `request_ip` (which the handler answered, so it
/// parses), on entry `e` with config `cfg`:
///
/// - the frame: from the host MAC and its link-local address, UDP 547 back to the request's
///   source address and port;
/// - the message: our own `Request::parse` and dhcproto both accept it and agree on its
///   type, transaction id and IAs; Advertise only for a Solicit without Rapid Commit (and
///   then `kind` is `Dhcp6Advertise`); our server id, the client id echoed;
/// - RFC 8415 §16: the request was one a server may answer ([`dhcp6_answerable`]);
/// - the body per message type: UseMulticast only to unicast Request/Renew/Release/Decline;
///   Confirm Success exactly when every address it names is on the link; Release, Decline
///   Success; Information-Request no IA;
/// - the IAs of a Solicit/Request/Renew/Rebind reply: the request's IAs (kind and IAID, in
///   order, at most 8), or for an Advertise that can assign nothing none and NoAddrsAvail;
///   every lease with a lifetime is one of the binding's current ones, all of them in that
///   IA, at lifetime = lease_lifetime, each in one IA only, with 0 < T1 <= T2 <= lifetime;
///   every lease at lifetime 0 is one the request's IA named (Renew/Rebind only) and not a
///   current one; an IA without a lease has a failure status (IA_TA: NoAddrsAvail).
pub fn check_dhcp6_exchange(
    frame_bytes: &[u8],
    kind: ReplyKind,
    request_ip: &[u8],
    e: &Entry,
    cfg: &Config,
) {
    use dhcp6::MessageType as T;
    let asked = frame::parse_ipv6_udp(request_ip).expect("answered, so it parsed");
    let req = dhcp6::Request::parse(asked.payload).expect("answered, so it parsed");
    let host = e.host_mac;
    assert_eq!(&frame_bytes[6..12], &host.octets(), "source MAC");
    let udp = frame::parse_ipv6_udp(&frame_bytes[frame::ETH_HDR_LEN..]).expect("reply parses");
    assert_eq!(
        (udp.src_port, udp.dst_port),
        (dhcp6::SERVER_PORT, asked.src_port)
    );
    assert_eq!((udp.src, udp.dst), (host.link_local(), asked.src));
    let payload = udp.payload;
    walk_dhcp6(payload);
    let reply = dhcp6::Request::parse(payload).expect("our reply is well-formed");

    // RFC 8415 §16: nothing goes to a message that must be discarded.
    if let Err(why) = dhcp6_answerable(&req, asked.dst, e) {
        panic!("answered a message to discard: {why}: {req:?}");
    }

    let want_type = if req.msg_type == T::Solicit && !req.rapid_commit {
        T::Advertise
    } else {
        T::Reply
    };
    assert_eq!(
        reply.msg_type, want_type,
        "reply type for {:?}",
        req.msg_type
    );
    let want_kind = match want_type {
        T::Advertise => ReplyKind::Dhcp6Advertise,
        _ => ReplyKind::Dhcp6Reply,
    };
    assert_eq!(kind, want_kind);
    assert_eq!(reply.transaction_id, req.transaction_id);
    assert_eq!(
        reply.server_id,
        Some(&dhcp6::duid_ll(host)[..]),
        "server id"
    );
    assert_eq!(reply.client_id, req.client_id, "client id echoed");
    assert_eq!(
        reply.rapid_commit,
        req.msg_type == T::Solicit && req.rapid_commit,
        "Rapid Commit only in a Reply to a Solicit with it (§18.3.1)"
    );

    // Our walk, our view and dhcproto agree on the reply's IAs.
    let ias = seen_ias(payload);
    let views: Vec<SeenIa> = reply.ias().map(|ia| view_ia(&ia)).collect();
    let no_status: Vec<SeenIa> = ias
        .iter()
        .cloned()
        .map(|ia| SeenIa { status: None, ..ia })
        .collect();
    assert_eq!(views, no_status, "ias() yields every IA of the reply");
    let m = dhcproto::v6::Message::from_bytes(payload).expect("dhcproto decodes our reply");
    assert_eq!(u8::from(m.msg_type()), u8::from(reply.msg_type));
    let xid = req.transaction_id.to_be_bytes();
    assert_eq!(m.xid(), [xid[1], xid[2], xid[3]]);
    assert_eq!(
        dhcproto_ias(&m),
        sorted_ias(&ias),
        "dhcproto reads the same IAs"
    );

    let status = top_status(payload);
    let multicast = asked.dst.is_multicast();
    let b = &e.binding;
    match req.msg_type {
        T::Request | T::Renew | T::Release | T::Decline if !multicast => {
            assert!(ias.is_empty(), "UseMulticast carries no IA");
            assert_eq!(status, Some(dhcp6::StatusCode::UseMulticast));
            return;
        }
        T::InformationRequest => {
            assert!(ias.is_empty() && status.is_none());
            assert!(has_option(payload, dhcp6::option::INFORMATION_REFRESH_TIME));
            return;
        }
        T::Release | T::Decline => {
            assert!(ias.is_empty());
            assert_eq!(status, Some(dhcp6::StatusCode::Success));
            return;
        }
        T::Confirm => {
            assert!(ias.is_empty());
            let addrs: Vec<Ipv6Addr> = req
                .ias()
                .filter(|ia| ia.kind != dhcp6::IaKind::Pd)
                .flat_map(|ia| ia.addresses().map(|a| a.addr))
                .collect();
            assert!(
                !addrs.is_empty(),
                "a Confirm naming no address gets no reply"
            );
            let on_link = addrs
                .iter()
                .all(|a| b.ip6.contains(a) || b.subnet6.is_some_and(|n| n.contains(*a)));
            let want = if on_link {
                dhcp6::StatusCode::Success
            } else {
                dhcp6::StatusCode::NotOnLink
            };
            assert_eq!(status, Some(want), "Confirm of {addrs:?}");
            return;
        }
        T::Solicit | T::Request | T::Renew | T::Rebind => {}
        other => unreachable!("dhcp6_answerable let {other:?} through"),
    }
    let v6 = cfg.live.ipv6.as_ref().expect("answered, so IPv6 is on");
    let lifetime = v6.lease_lifetime;
    let extend = matches!(req.msg_type, T::Renew | T::Rebind);
    let asked_ias: Vec<SeenIa> = req.ias().map(|ia| view_ia(&ia)).collect();
    let can_assign = asked_ias.iter().any(|ia| match ia.code {
        3 => !b.ip6.is_empty(),
        25 => !b.delegated6.is_empty(),
        _ => false,
    });
    let ids = |v: &[SeenIa]| v.iter().map(|ia| (ia.code, ia.iaid)).collect::<Vec<_>>();
    if want_type == T::Advertise && !can_assign {
        assert!(
            ias.is_empty(),
            "an Advertise that assigns nothing has no IA"
        );
        assert_eq!(status, Some(dhcp6::StatusCode::NoAddrsAvail));
        return;
    }
    assert!(
        status.is_none(),
        "no top-level status with leases: {status:?}"
    );
    let first8: Vec<SeenIa> = asked_ias.iter().take(8).cloned().collect();
    assert_eq!(ids(&ias), ids(&first8), "an IA for each IA of the request");
    let mut handed: Vec<(Ipv6Addr, u8)> = Vec::new();
    for (ia, asked_ia) in ias.iter().zip(&first8) {
        let current: Vec<(Ipv6Addr, u8)> = match ia.code {
            3 => b.ip6.iter().map(|a| (*a, 128)).collect(),
            25 => b
                .delegated6
                .iter()
                .map(|n| (n.network(), n.prefix()))
                .collect(),
            _ => Vec::new(),
        };
        let mut live = Vec::new();
        for &(addr, len, preferred, valid) in &ia.leases {
            assert!(preferred <= valid, "preferred over valid in {ia:?}");
            if valid == 0 {
                assert_eq!(preferred, 0);
                assert!(extend, "lifetime 0 only in a Renew/Rebind reply: {ia:?}");
                assert!(
                    asked_ia.leases.iter().any(|l| (l.0, l.1) == (addr, len)),
                    "lease at lifetime 0 not named by the request: {addr}/{len} in {ia:?}"
                );
                assert!(
                    !current.contains(&(addr, len)),
                    "a current lease at lifetime 0"
                );
                continue;
            }
            assert_eq!(
                (preferred, valid),
                (lifetime, lifetime),
                "lifetimes of {addr}/{len}"
            );
            assert!(
                current.contains(&(addr, len)),
                "{addr}/{len} is not the binding's: {current:?}"
            );
            assert!(!handed.contains(&(addr, len)), "{addr}/{len} in two IAs");
            handed.push((addr, len));
            live.push((addr, len));
        }
        if live.is_empty() {
            assert!(
                ia.status.is_some_and(|s| s != 0),
                "an IA without a lease says why: {ia:?}"
            );
            assert_eq!((ia.t1, ia.t2), (0, 0));
        } else {
            assert_eq!(live, current, "all of the binding's leases, in its order");
            assert!(ia.status.is_none_or(|s| s == 0), "{ia:?}");
            assert!(
                0 < ia.t1 && ia.t1 <= ia.t2 && ia.t2 <= lifetime,
                "T1/T2 of {ia:?} (lifetime {lifetime})"
            );
        }
        if ia.code == 4 {
            assert_eq!(ia.status, Some(u16::from(dhcp6::StatusCode::NoAddrsAvail)));
        }
    }
}

/// For inputs that were validated (a parsed binding, a parsed configuration): the reply
/// path must not fail on them. Only a refusal that names a missing fact is acceptable.
pub fn assert_not_malformed(outcome: Outcome, what: &str) {
    if let Outcome::NoReply(NoReply::Malformed(e)) = outcome {
        panic!("{what}: a validated input made the reply fail to build: {e:?}");
    }
}
