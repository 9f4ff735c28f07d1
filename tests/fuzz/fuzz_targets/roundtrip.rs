//! Emit -> parse round trips from structured input (`arbitrary`): a RouterAdvert, a
//! NeighborAdvert, a NeighborSolicit and a RouterSolicit, a DHCPv4 ReplyWriter message and a
//! DHCPv6 ReplyWriter message are built from arbitrary fields, emitted into a whole frame,
//! parsed back with our own parsers, and every field must come back equal.
//!
//! Where the emitter must refuse (a prefix length over 128, a bad search domain, a PAD
//! option, an option that does not fit), the refusal is predicted from the documented rules
//! by a small model here, and must be the error the emitter returns; nothing may be written
//! past what was reported. Emit buffers are filled with 0xa5 first, so a stray byte shows.
//!
//! No seeds: libFuzzer starts from empty input and grows structured cases.

#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nfdhcpd::wire::dhcp4::{self, MessageType, ReplyHeader};
use nfdhcpd::wire::dhcp6;
use nfdhcpd::wire::dns::NameIter;
use nfdhcpd::wire::frame::{self, Icmpv6, Ipv4UdpHeader, Ipv6Header};
use nfdhcpd::wire::ndp::{
    self, NeighborAdvert, NeighborSolicit, Preference, PrefixInfo, RaPacket, RouterAdvert,
    RouterSolicit,
};
use nfdhcpd::wire::{MacAddr, WireError};
use nfdhcpd_fuzz::{walk_fused, walk_ra_view};
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Arbitrary, Debug)]
enum Case {
    Ra(RaCase),
    Na(NaCase),
    Ns(NsCase),
    Rs(RsCase),
    Dhcp4(Dhcp4Case),
    Dhcp6(Dhcp6Case),
}

fuzz_target!(|case: Case| match case {
    Case::Ra(c) => ra(c),
    Case::Na(c) => na(c),
    Case::Ns(c) => ns(c),
    Case::Rs(c) => rs(c),
    Case::Dhcp4(c) => dhcp4_reply(c),
    Case::Dhcp6(c) => dhcp6_reply(c),
});

// ---------------------------------------------------------------------------------------
// Search domains: a model of the documented rules of `dns::encoded_len`.

/// The wire form of `name` (RFC 1035 §3.1), or the error `dns::encoded_len` documents:
/// `BadOption` for an empty name or label or a byte outside visible ASCII, `ValueTooLong`
/// for a label over 63 bytes or more than 255 bytes in all. One trailing dot is allowed.
fn model_encode(name: &str) -> Result<Vec<u8>, WireError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut out = Vec::new();
    for label in name.as_bytes().split(|&b| b == b'.') {
        if label.is_empty() || !label.iter().all(|b| b.is_ascii_graphic()) {
            return Err(WireError::BadOption);
        }
        if label.len() > 63 {
            return Err(WireError::ValueTooLong);
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
    if out.len() > 255 {
        return Err(WireError::ValueTooLong);
    }
    Ok(out)
}

fn model_encode_list(names: &[String]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::new();
    for n in names {
        out.extend(model_encode(n)?);
    }
    Ok(out)
}

/// The labels of a name as written in the configuration, as the decoder gives them back.
fn labels_of(name: &str) -> Vec<Vec<u8>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.split('.').map(|l| l.as_bytes().to_vec()).collect()
}

/// Decodes a packed name list and checks it holds exactly `names`.
fn assert_names(list: &[u8], names: &[String]) {
    let decoded: Vec<Vec<Vec<u8>>> = NameIter::new(list)
        .map(|n| {
            n.expect("our own list decodes")
                .labels()
                .map(<[u8]>::to_vec)
                .collect()
        })
        .collect();
    let want: Vec<Vec<Vec<u8>>> = names.iter().map(|n| labels_of(n)).collect();
    assert_eq!(decoded, want);
}

// ---------------------------------------------------------------------------------------
// NDP

#[derive(Arbitrary, Debug)]
struct PrefixCase {
    prefix: Ipv6Addr,
    prefix_len: u8,
    on_link: bool,
    autonomous: bool,
    router_address: bool,
    valid_lifetime: u32,
    preferred_lifetime: u32,
}

#[derive(Arbitrary, Debug)]
struct RaCase {
    cur_hop_limit: u8,
    managed: bool,
    other: bool,
    /// 0 Low, 1 Medium, 2 High.
    preference: u8,
    router_lifetime: u16,
    reachable_time: u32,
    retrans_timer: u32,
    source_ll: Option<[u8; 6]>,
    mtu: Option<u32>,
    prefix: Option<PrefixCase>,
    rdnss: Option<(u32, Vec<Ipv6Addr>)>,
    dnssl: Option<(u32, Vec<String>)>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

/// The header of the IPv6 frame an NDP message of the case goes out in.
fn ndp_header(src: Ipv6Addr, dst: Ipv6Addr) -> Ipv6Header {
    Ipv6Header {
        src_mac: MacAddr([2, 0, 0x5e, 0x10, 0, 1]),
        dst_mac: frame::ipv6_multicast_mac(&dst),
        src_ip: src,
        dst_ip: dst,
        hop_limit: ndp::HOP_LIMIT,
    }
}

/// Emits an ICMPv6 message of `len` bytes with `emit` into a 0xa5-filled frame buffer,
/// checks that nothing past it was touched, and wraps it in Ethernet + IPv6.
fn ndp_frame(
    hdr: &Ipv6Header,
    len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, WireError>,
) -> Vec<u8> {
    let mut buf = vec![0xa5u8; frame::IPV6_PAYLOAD_OFFSET + len + 16];
    let written = emit(&mut buf[frame::IPV6_PAYLOAD_OFFSET..]).expect("emit into room enough");
    assert_eq!(written, len, "emit wrote other than buffer_len");
    assert!(buf[frame::IPV6_PAYLOAD_OFFSET + len..]
        .iter()
        .all(|&b| b == 0xa5));
    let total = frame::emit_ipv6_icmpv6(&mut buf, hdr, len).expect("emit frame");
    assert_eq!(total, frame::IPV6_PAYLOAD_OFFSET + len);
    buf.truncate(total);
    buf
}

/// Parses an emitted NDP frame back: `None` (after checking the refusal) when the source
/// is multicast, which parse_ipv6 refuses (RFC 4291 §2.7).
fn parse_ndp<'a>(buf: &'a [u8], src: &Ipv6Addr) -> Option<Icmpv6<'a>> {
    let parsed = frame::parse_icmpv6(&buf[frame::ETH_HDR_LEN..]);
    if src.is_multicast() {
        assert_eq!(parsed, Err(WireError::BadAddress));
        return None;
    }
    Some(parsed.expect("our message verifies"))
}

fn ra(c: RaCase) {
    let preference = match c.preference % 3 {
        0 => Preference::Low,
        1 => Preference::Medium,
        _ => Preference::High,
    };
    let prefix = c.prefix.map(|p| PrefixInfo {
        prefix: p.prefix,
        prefix_len: p.prefix_len,
        on_link: p.on_link,
        autonomous: p.autonomous,
        router_address: p.router_address,
        valid_lifetime: p.valid_lifetime,
        preferred_lifetime: p.preferred_lifetime,
    });
    let ra = RouterAdvert {
        cur_hop_limit: c.cur_hop_limit,
        managed: c.managed,
        other: c.other,
        preference,
        router_lifetime: c.router_lifetime,
        reachable_time: c.reachable_time,
        retrans_timer: c.retrans_timer,
        source_ll: c.source_ll.map(MacAddr),
        mtu: c.mtu,
        prefix,
        rdnss: c.rdnss.as_ref().map(|(l, a)| (*l, a.into())),
        dnssl: c.dnssl.as_ref().map(|(l, n)| (*l, n.into())),
        routes: ndp::RouteList::NONE,
        pref64: None,
    };
    let addrs: &[Ipv6Addr] = c.rdnss.as_ref().map(|(_, a)| &a[..]).unwrap_or(&[]);
    let names: &[String] = c.dnssl.as_ref().map(|(_, n)| &n[..]).unwrap_or(&[]);

    // What the emitter must refuse, in the order `emit` documents its checks.
    let dnssl_list = model_encode_list(names);
    let dnssl_option_len = dnssl_list
        .as_ref()
        .ok()
        .map(|l| (l.len() + 8).div_ceil(8) * 8);
    let refusal = if prefix.is_some_and(|p| p.prefix_len > 128) {
        Some(WireError::BadOption)
    } else if addrs.len() > ndp::MAX_RDNSS_ADDRS {
        Some(WireError::ValueTooLong)
    } else if let Err(e) = &dnssl_list {
        Some(*e)
    } else if !names.is_empty() && dnssl_option_len.is_some_and(|l| l > 255 * 8) {
        Some(WireError::ValueTooLong)
    } else {
        None
    };
    if let Some(e) = refusal {
        // Checks happen before anything is written, whatever the buffer.
        let mut scratch = vec![0xa5u8; 4096];
        assert_eq!(ra.emit(&mut scratch), Err(e));
        assert!(scratch.iter().all(|&b| b == 0xa5), "written on error");
        return;
    }
    let len = ra.buffer_len().expect("the model says it is valid");
    // One byte short: refused whole.
    let mut short = vec![0xa5u8; len - 1];
    assert_eq!(ra.emit(&mut short), Err(WireError::BufferTooSmall));
    assert!(short.iter().all(|&b| b == 0xa5), "written on error");
    let buf = ndp_frame(&ndp_header(c.src, c.dst), len, |b| ra.emit(b));

    let Some(icmp) = parse_ndp(&buf, &c.src) else {
        return;
    };
    assert_eq!((icmp.src, icmp.dst), (c.src, c.dst));
    let view = RaPacket::new_checked(&icmp).expect("our RA is valid");
    walk_ra_view(&view);
    assert_eq!(view.cur_hop_limit(), ra.cur_hop_limit);
    assert_eq!((view.managed(), view.other()), (ra.managed, ra.other));
    assert_eq!(view.preference(), ra.preference);
    assert_eq!(view.router_lifetime(), ra.router_lifetime);
    assert_eq!(view.reachable_time(), ra.reachable_time);
    assert_eq!(view.retrans_timer(), ra.retrans_timer);
    assert_eq!(view.source_ll(), ra.source_ll);
    assert_eq!(view.mtu(), ra.mtu);
    assert_eq!(view.prefix(), ra.prefix);
    let back_rdnss = view.rdnss().map(|(l, a)| (l, a.collect::<Vec<_>>()));
    let want_rdnss = ra
        .rdnss
        .filter(|(_, a)| !a.is_empty())
        .map(|(l, a)| (l, a.iter().collect::<Vec<_>>()));
    assert_eq!(back_rdnss, want_rdnss);
    match (view.dnssl(), ra.dnssl.filter(|(_, n)| !n.is_empty())) {
        (None, None) => {}
        (Some((l, _)), Some((want_l, _))) => {
            assert_eq!(l, want_l);
            let data = view.option(ndp::OptionType::Dnssl).expect("present").data;
            assert_names(&data[6..], names);
        }
        (got, want) => panic!("DNSSL {got:?}, expected {want:?}"),
    }
}

#[derive(Arbitrary, Debug)]
struct NaCase {
    router: bool,
    solicited: bool,
    override_flag: bool,
    target: Ipv6Addr,
    target_ll: Option<[u8; 6]>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

fn na(c: NaCase) {
    let na = NeighborAdvert {
        router: c.router,
        solicited: c.solicited,
        override_flag: c.override_flag,
        target: c.target,
        target_ll: c.target_ll.map(MacAddr),
    };
    let buf = ndp_frame(&ndp_header(c.src, c.dst), na.buffer_len(), |b| na.emit(b));
    let Some(icmp) = parse_ndp(&buf, &c.src) else {
        return;
    };
    // RFC 4861 §7.1.2, as NeighborAdvert::parse documents it.
    let expected = if c.target.is_multicast() || (c.solicited && c.dst.is_multicast()) {
        Err(WireError::BadOption)
    } else {
        Ok(na)
    };
    assert_eq!(NeighborAdvert::parse(&icmp), expected);
}

#[derive(Arbitrary, Debug)]
struct NsCase {
    target: Ipv6Addr,
    source_ll: Option<[u8; 6]>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

fn is_solicited_node(a: &Ipv6Addr) -> bool {
    a.octets()[..13] == [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff]
}

fn ns(c: NsCase) {
    let ns = NeighborSolicit {
        target: c.target,
        source_ll: c.source_ll.map(MacAddr),
    };
    let buf = ndp_frame(&ndp_header(c.src, c.dst), ns.buffer_len(), |b| ns.emit(b));
    let Some(icmp) = parse_ndp(&buf, &c.src) else {
        return;
    };
    // RFC 4861 §7.1.1, as NeighborSolicit::parse documents it.
    let dad_violation =
        c.src.is_unspecified() && (c.source_ll.is_some() || !is_solicited_node(&c.dst));
    let expected = if c.target.is_multicast() || dad_violation {
        Err(WireError::BadOption)
    } else {
        Ok(ns)
    };
    assert_eq!(NeighborSolicit::parse(&icmp), expected);
}

#[derive(Arbitrary, Debug)]
struct RsCase {
    source_ll: Option<[u8; 6]>,
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

fn rs(c: RsCase) {
    let rs = RouterSolicit {
        source_ll: c.source_ll.map(MacAddr),
    };
    let buf = ndp_frame(&ndp_header(c.src, c.dst), rs.buffer_len(), |b| rs.emit(b));
    let Some(icmp) = parse_ndp(&buf, &c.src) else {
        return;
    };
    let expected = if c.src.is_unspecified() && c.source_ll.is_some() {
        Err(WireError::BadOption)
    } else {
        Ok(rs)
    };
    assert_eq!(RouterSolicit::parse(&icmp), expected);
}

// ---------------------------------------------------------------------------------------
// DHCPv4

#[derive(Arbitrary, Debug)]
enum Opt4 {
    Raw(u8, Vec<u8>),
    MessageType(u8),
    U8(u8, u8),
    U16(u8, u16),
    U32(u8, u32),
    Ipv4(u8, Ipv4Addr),
    Ipv4List(u8, Vec<Ipv4Addr>),
    Str(u8, String),
}

impl Opt4 {
    /// The code and value the writer must put on the wire; `None` when it writes nothing
    /// and succeeds (an empty address list).
    fn expected(&self) -> Option<(u8, Vec<u8>)> {
        Some(match self {
            Opt4::Raw(c, d) => (*c, d.clone()),
            Opt4::MessageType(t) => (dhcp4::option::MESSAGE_TYPE, vec![*t]),
            Opt4::U8(c, v) => (*c, vec![*v]),
            Opt4::U16(c, v) => (*c, v.to_be_bytes().to_vec()),
            Opt4::U32(c, v) => (*c, v.to_be_bytes().to_vec()),
            Opt4::Ipv4(c, a) => (*c, a.octets().to_vec()),
            Opt4::Ipv4List(_, l) if l.is_empty() => return None,
            Opt4::Ipv4List(c, l) => (*c, l.iter().flat_map(|a| a.octets()).collect()),
            Opt4::Str(c, s) => (*c, s.as_bytes().to_vec()),
        })
    }

    fn write(&self, w: &mut dhcp4::ReplyWriter<'_>) -> Result<(), WireError> {
        match self {
            Opt4::Raw(c, d) => w.option(*c, d),
            Opt4::MessageType(t) => w.message_type(MessageType::from(*t)),
            Opt4::U8(c, v) => w.option_u8(*c, *v),
            Opt4::U16(c, v) => w.option_u16(*c, *v),
            Opt4::U32(c, v) => w.option_u32(*c, *v),
            Opt4::Ipv4(c, a) => w.option_ipv4(*c, *a),
            Opt4::Ipv4List(c, l) => w.option_ipv4_list(*c, l),
            Opt4::Str(c, s) => w.option_str(*c, s),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Dhcp4Case {
    xid: u32,
    secs: u16,
    flags: u16,
    ciaddr: Ipv4Addr,
    yiaddr: Ipv4Addr,
    siaddr: Ipv4Addr,
    giaddr: Ipv4Addr,
    chaddr: [u8; 6],
    /// The message buffer's size, modulo 1600.
    buf_len: u16,
    options: Vec<Opt4>,
}

fn dhcp4_reply(c: Dhcp4Case) {
    let hdr = ReplyHeader {
        xid: c.xid,
        secs: c.secs,
        flags: c.flags,
        ciaddr: c.ciaddr,
        yiaddr: c.yiaddr,
        siaddr: c.siaddr,
        giaddr: c.giaddr,
        chaddr: MacAddr(c.chaddr),
    };
    let buf_len = usize::from(c.buf_len % 1600);
    let mut frame_buf = vec![0xa5u8; frame::IPV4_UDP_PAYLOAD_OFFSET + buf_len + 16];
    let msg = &mut frame_buf[frame::IPV4_UDP_PAYLOAD_OFFSET..][..buf_len];
    let mut w = match dhcp4::ReplyWriter::new(msg, &hdr) {
        Ok(w) => w,
        Err(e) => {
            assert!(buf_len < dhcp4::MIN_MESSAGE_LEN);
            assert_eq!(e, WireError::BufferTooSmall);
            assert!(frame_buf.iter().all(|&b| b == 0xa5), "written on error");
            return;
        }
    };
    assert!(buf_len >= dhcp4::MIN_MESSAGE_LEN);

    let mut used = dhcp4::HEADER_LEN;
    let mut written: Vec<(u8, Vec<u8>)> = Vec::new();
    for opt in &c.options {
        let want = opt.expected();
        let model = match &want {
            None => match opt {
                Opt4::Ipv4List(..) => Ok(()),
                _ => unreachable!(),
            },
            Some((code, data)) => {
                let too_many =
                    matches!(opt, Opt4::Ipv4List(_, l) if l.len() > dhcp4::MAX_IPV4_LIST);
                if data.len() > 255 || too_many {
                    Err(WireError::ValueTooLong)
                } else if *code == dhcp4::option::PAD || *code == dhcp4::option::END {
                    Err(WireError::BadOption)
                } else if used + 2 + data.len() >= buf_len {
                    // One byte always stays free for END.
                    Err(WireError::BufferTooSmall)
                } else {
                    Ok(())
                }
            }
        };
        assert_eq!(opt.write(&mut w), model, "{opt:?} at {used} of {buf_len}");
        if let (Ok(()), Some((code, data))) = (model, want) {
            used += 2 + data.len();
            written.push((code, data));
        }
    }
    let total = w.finish().expect("room for END is kept");
    assert_eq!(total, (used + 1).max(dhcp4::MIN_MESSAGE_LEN));

    let ip = Ipv4UdpHeader {
        src_mac: MacAddr([2, 0, 0x5e, 0x10, 0, 1]),
        dst_mac: MacAddr(c.chaddr),
        src_ip: c.siaddr,
        dst_ip: c.yiaddr,
        src_port: dhcp4::SERVER_PORT,
        dst_port: dhcp4::CLIENT_PORT,
    };
    let frame_len = frame::emit_ipv4_udp(&mut frame_buf, &ip, total).expect("emit frame");
    assert!(
        frame_buf[frame_len..].iter().all(|&b| b == 0xa5),
        "written past the end"
    );
    let udp = frame::parse_ipv4_udp(&frame_buf[frame::ETH_HDR_LEN..frame_len]).expect("parses");
    assert_eq!((udp.src, udp.dst), (ip.src_ip, ip.dst_ip));
    assert_eq!((udp.src_port, udp.dst_port), (ip.src_port, ip.dst_port));
    assert_eq!(udp.payload.len(), total);

    let p = dhcp4::Packet::new_checked(udp.payload).expect("our message parses");
    assert_eq!(
        (p.op(), p.htype(), p.hlen(), p.hops()),
        (dhcp4::BOOTREPLY, 1, 6, 0)
    );
    assert_eq!((p.xid(), p.secs(), p.flags()), (c.xid, c.secs, c.flags));
    assert_eq!((p.ciaddr(), p.yiaddr()), (c.ciaddr, c.yiaddr));
    assert_eq!((p.siaddr(), p.giaddr()), (c.siaddr, c.giaddr));
    assert_eq!(p.client_mac(), Some(MacAddr(c.chaddr)));
    assert!(p.chaddr_raw()[6..].iter().all(|&b| b == 0));
    let back: Vec<(u8, Vec<u8>)> = walk_fused(p.options(), total)
        .into_iter()
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    assert_eq!(back, written);
    // END, then zero padding up to the minimum length.
    assert_eq!(udp.payload[used], dhcp4::option::END);
    assert!(udp.payload[used + 1..].iter().all(|&b| b == 0));
}

// ---------------------------------------------------------------------------------------
// DHCPv6

#[derive(Arbitrary, Debug)]
enum Opt6 {
    Raw(u16, Vec<u8>),
    U32(u16, u32),
    Ipv6List(u16, Vec<Ipv6Addr>),
    Domains(u16, Vec<String>),
}

impl Opt6 {
    /// The code and data the writer must produce, `Ok(None)` when it writes nothing and
    /// succeeds (an empty list), or the refusal the documented rules predict.
    fn expected(&self) -> Result<Option<(u16, Vec<u8>)>, WireError> {
        let (code, data) = match self {
            Opt6::Raw(c, d) => (*c, d.clone()),
            Opt6::U32(c, v) => (*c, v.to_be_bytes().to_vec()),
            Opt6::Ipv6List(_, l) if l.is_empty() => return Ok(None),
            Opt6::Ipv6List(c, l) => (*c, l.iter().flat_map(|a| a.octets()).collect()),
            Opt6::Domains(_, n) if n.is_empty() => return Ok(None),
            Opt6::Domains(c, n) => (*c, model_encode_list(n)?),
        };
        if data.len() > usize::from(u16::MAX) {
            return Err(WireError::ValueTooLong);
        }
        Ok(Some((code, data)))
    }

    fn write(&self, w: &mut dhcp6::ReplyWriter<'_>) -> Result<(), WireError> {
        match self {
            Opt6::Raw(c, d) => w.option(*c, d),
            Opt6::U32(c, v) => w.option_u32(*c, *v),
            Opt6::Ipv6List(c, l) => w.option_ipv6_list(*c, l),
            Opt6::Domains(c, n) => w.option_domain_list(*c, n),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Dhcp6Case {
    msg_type: u8,
    transaction_id: u32,
    /// The message buffer's size, modulo 1600.
    buf_len: u16,
    options: Vec<Opt6>,
    client: Ipv6Addr,
}

fn dhcp6_reply(c: Dhcp6Case) {
    let buf_len = usize::from(c.buf_len % 1600);
    let mut frame_buf = vec![0xa5u8; frame::IPV6_UDP_PAYLOAD_OFFSET + buf_len + 16];
    let msg = &mut frame_buf[frame::IPV6_UDP_PAYLOAD_OFFSET..][..buf_len];
    let mut w = match dhcp6::ReplyWriter::new(msg, c.msg_type.into(), c.transaction_id) {
        Ok(w) => w,
        Err(e) => {
            let want = if c.transaction_id > dhcp6::MAX_TRANSACTION_ID {
                WireError::ValueTooLong
            } else {
                WireError::BufferTooSmall
            };
            assert_eq!(e, want);
            assert!(frame_buf.iter().all(|&b| b == 0xa5), "written on error");
            return;
        }
    };
    assert!(c.transaction_id <= dhcp6::MAX_TRANSACTION_ID && buf_len >= dhcp6::HEADER_LEN);

    let mut used = dhcp6::HEADER_LEN;
    let mut written: Vec<(u16, Vec<u8>)> = Vec::new();
    // Which written option holds which domain list.
    let mut domain_lists: Vec<(usize, &[String])> = Vec::new();
    for opt in &c.options {
        let want = opt.expected();
        let model = match &want {
            Err(e) => Err(*e),
            Ok(None) => Ok(()),
            Ok(Some((_, data))) if used + 4 + data.len() > buf_len => {
                Err(WireError::BufferTooSmall)
            }
            Ok(Some(_)) => Ok(()),
        };
        assert_eq!(opt.write(&mut w), model, "{opt:?} at {used} of {buf_len}");
        if let (Ok(()), Ok(Some((code, data)))) = (model, want) {
            used += 4 + data.len();
            if let Opt6::Domains(_, names) = opt {
                domain_lists.push((written.len(), names));
            }
            written.push((code, data));
        }
    }
    let total = w.finish();
    assert_eq!(total, used);

    let hdr = Ipv6Header {
        src_mac: MacAddr([2, 0, 0x5e, 0x10, 0, 1]),
        dst_mac: MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
        src_ip: "fe80::5eff:fe10:1".parse().expect("addr"),
        dst_ip: c.client,
        hop_limit: 64,
    };
    let frame_len = frame::emit_ipv6_udp(&mut frame_buf, &hdr, 547, 546, total).expect("emit");
    assert!(
        frame_buf[frame_len..].iter().all(|&b| b == 0xa5),
        "written past the end"
    );
    let udp = frame::parse_ipv6_udp(&frame_buf[frame::ETH_HDR_LEN..frame_len]).expect("parses");
    assert_eq!(
        (udp.src, udp.dst, udp.src_port, udp.dst_port),
        (hdr.src_ip, c.client, 547, 546)
    );
    assert_eq!(udp.payload.len(), total);

    let p = dhcp6::Packet::new_checked(udp.payload).expect("our message parses");
    assert_eq!(
        (p.msg_type(), p.transaction_id()),
        (c.msg_type.into(), c.transaction_id)
    );
    let back: Vec<(u16, Vec<u8>)> = walk_fused(p.options(), total)
        .into_iter()
        .map(|o| (o.code, o.data.to_vec()))
        .collect();
    assert_eq!(back, written);
    for (i, names) in domain_lists {
        assert_names(&back[i].1, names);
    }
}
