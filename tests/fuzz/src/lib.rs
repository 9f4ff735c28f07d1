//! What the fuzz targets share: walks that call every accessor of a parsed packet and check
//! the iterators' contracts, the ICMPv6 checksum fix-up that lets mutated NDP messages get
//! past `parse_icmpv6`, checks that a reply frame parses back with our own parsers, and the
//! fixed bindings, configurations and requests of the policy targets.
//!
//! Everything here panics on a broken promise of the library (that is how libFuzzer learns
//! of it) and never on malformed input, which the library must refuse with an error.

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

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

/// A DHCPv6 reply frame parses: IPv6/UDP 547 -> the client's port, a REPLY to the request's
/// transaction id that our own Request parser accepts, with our server id and the client's
/// id echoed.
pub fn check_dhcp6_reply(frame_bytes: &[u8], req: &dhcp6::Request<'_>, host: MacAddr) {
    let udp = frame::parse_ipv6_udp(&frame_bytes[frame::ETH_HDR_LEN..]).expect("reply parses");
    assert_eq!(udp.src_port, dhcp6::SERVER_PORT);
    walk_dhcp6(udp.payload);
    let reply = dhcp6::Request::parse(udp.payload).expect("our reply is well-formed");
    assert_eq!(reply.msg_type, dhcp6::MessageType::Reply);
    assert_eq!(reply.transaction_id, req.transaction_id);
    assert_eq!(reply.server_id, Some(&dhcp6::duid_ll(host)[..]));
    assert_eq!(reply.client_id, req.client_id);
    assert!(!reply.has_ia);
}

/// For inputs that were validated (a parsed binding, a parsed configuration): the reply
/// path must not fail on them. Only a refusal that names a missing fact is acceptable.
pub fn assert_not_malformed(outcome: Outcome, what: &str) {
    if let Outcome::NoReply(NoReply::Malformed(e)) = outcome {
        panic!("{what}: a validated input made the reply fail to build: {e:?}");
    }
}
