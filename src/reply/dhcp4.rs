//! DHCPv4 policy (RFC 2131 §4.3): DISCOVER -> OFFER, REQUEST -> ACK or NAK, INFORM -> ACK.
//!
//! Stateless like the original: the binding is the lease. Option set and NAK rule follow
//! REFERENCE.md §1.6, plus T2 (option 59) and RFC 2131 §4.1 reply addressing (broadcast
//! flag, ciaddr, broadcast NAK), which the original ignored.

use super::{Ctx, Handler, NoReply, Outcome, Packet, ReplyKind, RequestKind};
use crate::binding::file::Binding;
use crate::binding::snapshot::Entry;
use crate::config::{Config, Dhcp};
use crate::wire::dhcp4::{option, MessageType, ReplyHeader, ReplyWriter, Request, Route};
use crate::wire::frame::{self, Ipv4UdpHeader, IPV4_UDP_PAYLOAD_OFFSET};
use crate::wire::{MacAddr, WireError};
use std::net::Ipv4Addr;

/// DHCPv4 from a bound tap: `Packet::ip` starts at the IPv4 header.
pub(super) struct Dhcp4;

impl Handler for Dhcp4 {
    type Request<'p> = Request;
    type Settings<'c> = &'c Dhcp;

    fn settings(config: &Config) -> Option<&Dhcp> {
        config.live.dhcp.as_ref()
    }

    fn parse(ip: &[u8]) -> Result<Request, WireError> {
        frame::parse_ipv4_udp(ip).and_then(|udp| Request::parse(udp.payload))
    }

    fn kind(req: &Request) -> RequestKind {
        RequestKind::Dhcp4(req.message_type)
    }

    fn claimed_mac(req: &Request) -> Option<MacAddr> {
        Some(req.chaddr)
    }

    fn answer(req: &Request, _pkt: &Packet, cfg: &Dhcp, ctx: Ctx) -> Outcome {
        match decide(req, ctx.entry, cfg) {
            Ok(plan) => build(&plan, req, ctx.entry, cfg, ctx.out),
            Err(why) => Outcome::NoReply(why),
        }
    }
}

/// What to answer, decided before any byte is written.
struct Plan {
    kind: ReplyKind,
    server: Ipv4Addr,
    host_mac: MacAddr,
    /// The address the client gets (0.0.0.0 for INFORM, NAK and IPv6-only).
    yiaddr: Ipv4Addr,
    /// Option 108 (RFC 8925) goes out, and nothing of IPv4 configuration.
    ipv6_only: bool,
}

fn decide(req: &Request, entry: &Entry, cfg: &Dhcp) -> Result<Plan, NoReply> {
    let b = &entry.binding;
    let kind = match req.message_type {
        MessageType::Discover => ReplyKind::Offer,
        MessageType::Request | MessageType::Inform => ReplyKind::Ack,
        MessageType::Release | MessageType::Decline => return Err(NoReply::Informational),
        _ => return Err(NoReply::UnexpectedType),
    };
    let ip = b.ip.ok_or(NoReply::NoIp)?;
    let server = server_addr(entry, cfg).ok_or(NoReply::NoServerAddr)?;
    let mut plan = Plan {
        kind,
        server,
        host_mac: entry.host_mac,
        yiaddr: ip,
        ipv6_only: false,
    };
    match req.message_type {
        MessageType::Request if req.server_id.is_some_and(|s| s != server) => {
            return Err(NoReply::OtherServer);
        }
        // RFC 8925 §3.3: "The server MUST NOT include the IPv6-Only Preferred option in the
        // DHCPOFFER or DHCPACK message if the option was not present in the Parameter
        // Request List sent by the client." When it was, and the binding says IPV6ONLY,
        // the server MUST include it, and it SHOULD NOT assign an address: it returns
        // 0.0.0.0 in yiaddr (§3.3; the client, §3.2, then stops asking for V6ONLY_WAIT
        // seconds and does not send a DHCPREQUEST for an offer carrying 108). Same for a
        // REQUEST (INIT-REBOOT, or a client that ignored the OFFER's 108): an ACK with 108
        // and no address, not a NAK, so that it stops at once.
        MessageType::Discover | MessageType::Request
            if b.ipv6only && req.requested.contains(option::IPV6_ONLY_PREFERRED) =>
        {
            plan.ipv6_only = true;
            plan.yiaddr = Ipv4Addr::UNSPECIFIED;
        }
        MessageType::Request if requested_addr(req).is_some_and(|r| r != ip) => {
            plan.kind = ReplyKind::Nak;
            plan.yiaddr = Ipv4Addr::UNSPECIFIED;
        }
        // RFC 2131 §4.3.5: an INFORM client already has its address; yiaddr stays 0.
        MessageType::Inform => plan.yiaddr = Ipv4Addr::UNSPECIFIED,
        _ => {}
    }
    Ok(plan)
}

/// The address a REQUEST asks for: option 50 (SELECTING, INIT-REBOOT), else ciaddr
/// (RENEWING, REBINDING).
fn requested_addr(req: &Request) -> Option<Ipv4Addr> {
    req.requested_ip
        .or(Some(req.ciaddr).filter(|a| !a.is_unspecified()))
}

/// Server identifier and IP source: `server_ip`, or with `server_on_link` an address on the
/// VM's own link (GATEWAY, else the first address of SUBNET) so clients that check it accept.
pub fn server_addr(entry: &Entry, cfg: &Dhcp) -> Option<Ipv4Addr> {
    let b = &entry.binding;
    if cfg.server_on_link {
        b.gateway.or_else(|| {
            b.subnet
                .and_then(|n| u32::from(n.network()).checked_add(1).map(Ipv4Addr::from))
        })
    } else {
        cfg.server_ip
    }
}

fn build(plan: &Plan, req: &Request, entry: &Entry, cfg: &Dhcp, out: &mut [u8]) -> Outcome {
    match write_frame(plan, req, entry, cfg, out) {
        Ok(len) => Outcome::Reply {
            len,
            kind: plan.kind,
        },
        Err(e) => Outcome::NoReply(NoReply::Malformed(e)),
    }
}

fn write_frame(
    plan: &Plan,
    req: &Request,
    entry: &Entry,
    cfg: &Dhcp,
    out: &mut [u8],
) -> Result<usize, WireError> {
    let payload = out
        .get_mut(IPV4_UDP_PAYLOAD_OFFSET..)
        .ok_or(WireError::BufferTooSmall)?;
    let hdr = ReplyHeader {
        xid: req.xid,
        secs: 0,
        flags: req.flags,
        ciaddr: if plan.kind == ReplyKind::Nak {
            Ipv4Addr::UNSPECIFIED
        } else {
            req.ciaddr
        },
        yiaddr: plan.yiaddr,
        siaddr: Ipv4Addr::UNSPECIFIED,
        giaddr: req.giaddr,
        chaddr: req.chaddr,
    };
    // The client's maximum message size (option 57, or 576) bounds the reply: the writer
    // sees no more room than that, and `write_options` leaves out what does not fit.
    let room = payload.len().min(req.max_reply_len());
    let payload = payload.get_mut(..room).ok_or(WireError::BufferTooSmall)?;
    let mut w = ReplyWriter::new(payload, &hdr)?;
    write_options(&mut w, plan, req, entry, cfg)?;
    let payload_len = w.finish()?;
    let (dst_ip, dst_mac) = destination(plan, req);
    let envelope = Ipv4UdpHeader {
        src_mac: plan.host_mac,
        dst_mac,
        src_ip: plan.server,
        dst_ip,
        src_port: crate::wire::dhcp4::SERVER_PORT,
        dst_port: crate::wire::dhcp4::CLIENT_PORT,
    };
    frame::emit_ipv4_udp(out, &envelope, payload_len)
}

/// RFC 2131 §4.1: NAK and broadcast-flag replies are broadcast, and so are replies without
/// an address (IPv6-only) to a client without one; a client with an address (ciaddr) gets
/// unicast there; otherwise unicast to yiaddr at chaddr, which works because
/// clients in INIT receive on raw sockets. Frames go only onto the VM's own tap either way.
fn destination(plan: &Plan, req: &Request) -> (Ipv4Addr, MacAddr) {
    // IPv6-only: no address to unicast to (yiaddr 0.0.0.0) unless the client has one.
    let nowhere = plan.yiaddr.is_unspecified() && req.ciaddr.is_unspecified();
    if plan.kind == ReplyKind::Nak || req.broadcast_flag() || nowhere {
        (Ipv4Addr::BROADCAST, MacAddr::BROADCAST)
    } else if !req.ciaddr.is_unspecified() {
        (req.ciaddr, req.chaddr)
    } else {
        (plan.yiaddr, req.chaddr)
    }
}

fn write_options(
    w: &mut ReplyWriter<'_>,
    plan: &Plan,
    req: &Request,
    entry: &Entry,
    cfg: &Dhcp,
) -> Result<(), WireError> {
    let msg_type = match plan.kind {
        ReplyKind::Offer => MessageType::Offer,
        ReplyKind::Nak => MessageType::Nak,
        // `decide` only plans OFFER, ACK or NAK.
        _ => MessageType::Ack,
    };
    w.option_u8(option::MESSAGE_TYPE, msg_type.into())?;
    w.option_ipv4(option::SERVER_ID, plan.server)?;
    // RFC 6842 §3: the server MUST echo the client identifier, in a NAK too.
    if let Some(id) = &req.client_id {
        w.option(option::CLIENT_ID, id.as_bytes())?;
    }
    if plan.kind == ReplyKind::Nak {
        return Ok(());
    }
    if plan.ipv6_only {
        // 108 alone: with no address there is no lease, mask, router or the like to give.
        return w.option_u32(option::IPV6_ONLY_PREFERRED, cfg.ipv6_only_wait);
    }
    // In order of importance: what comes first must fit (an error otherwise, which only a
    // 255-byte client identifier with 255 bytes of routes in 576 bytes reaches); from
    // option 6 on, each is left out when the reply has no room left for it, so what gives
    // way first is 249 (a copy of 121), then 119, 42, 15, 12 and 6. A more important
    // option is never left out for a less important one; a smaller, less important one may
    // still fit after a larger one was left out. Never left out: 53, 54, 61, 51, 58, 59,
    // 1, 28, 3, 121 and 26.
    if req.message_type != MessageType::Inform {
        write_lease_times(w, cfg)?;
    }
    write_network(w, entry)?;
    let b = &entry.binding;
    w.option_routes(option::CLASSLESS_ROUTES, classless_routes(b))?;
    if let Some(mtu) = b.mtu {
        w.option_u16(option::MTU, mtu)?;
    }
    let nameservers = if b.nameservers.is_empty() {
        &cfg.nameservers
    } else {
        &b.nameservers
    };
    if_room(w.option_ipv4_list(option::DNS, nameservers))?;
    write_names(w, entry, cfg)?;
    if_room(w.option_ipv4_list(option::NTP_SERVERS, &cfg.ntp_servers))?;
    let search = if b.domain_search_119.is_empty() {
        cfg.domain_search.wire()
    } else {
        &b.domain_search_119
    };
    if_room(w.option_long(option::DOMAIN_SEARCH, search))?;
    // The same routes as 249 for a client that asks for it (older Windows).
    if req.requested.contains(option::MS_CLASSLESS_ROUTES) {
        if_room(w.option_routes(option::MS_CLASSLESS_ROUTES, classless_routes(b)))?;
    }
    Ok(())
}

/// Options 51, 58 and 59. T2 is 7/8 of the lease (RFC 2131 §4.4.5), sent only when it
/// comes after T1, as RFC 2131 requires T1 < T2.
fn write_lease_times(w: &mut ReplyWriter<'_>, cfg: &Dhcp) -> Result<(), WireError> {
    let lease = cfg.lease_lifetime;
    let t2 = (u64::from(lease) * 7 / 8) as u32;
    w.option_u32(option::LEASE_TIME, lease)?;
    w.option_u32(option::RENEWAL_TIME, cfg.lease_renewal)?;
    if cfg.lease_renewal < t2 {
        w.option_u32(option::REBINDING_TIME, t2)?;
    }
    Ok(())
}

/// Options 1, 28 and 3 (no router when the binding is PRIVATE).
fn write_network(w: &mut ReplyWriter<'_>, entry: &Entry) -> Result<(), WireError> {
    let b = &entry.binding;
    if let Some(net) = b.subnet {
        w.option_ipv4(option::SUBNET_MASK, net.mask())?;
        w.option_ipv4(option::BROADCAST, net.broadcast())?;
    }
    if let Some(gw) = b.gateway.filter(|_| !b.private) {
        w.option_ipv4(option::ROUTER, gw)?;
    }
    Ok(())
}

/// The classless static routes of a binding (RFC 3442), in the order a client installs them:
/// with GATEWAY outside SUBNET (a routed /32), the on-link host route to it first; then,
/// whenever any route goes out, the default route through GATEWAY, since a client that
/// takes option 121 ignores option 3 (RFC 3442 §2) — unless PRIVATE, or ROUTES has its own;
/// then ROUTES. Empty when there is neither ROUTES nor an off-subnet gateway.
pub fn classless_routes(b: &Binding) -> impl Iterator<Item = Route> + Clone + '_ {
    let gateway = b.gateway.filter(|_| !b.private);
    let off_subnet = gateway.filter(|g| b.subnet.is_some_and(|n| !n.contains(*g)));
    let any = off_subnet.is_some() || !b.routes.is_empty();
    let own_default = b.routes.iter().any(|(net, _)| net.prefix() == 0);
    let default = gateway.filter(|_| any && !own_default);
    let listed = b
        .routes
        .iter()
        .filter_map(|(net, via)| Route::new(net.network(), net.prefix(), *via));
    off_subnet
        .map(Route::on_link_host)
        .into_iter()
        .chain(default.map(Route::default_via))
        .chain(listed)
}

/// For the options a reply can do without (see `write_options` for which and in what
/// order): left out when the reply has no room left within the client's maximum message
/// size (option 57, else 576 bytes) or the frame. The writer writes nothing of an option
/// that does not fit.
fn if_room(written: Result<(), WireError>) -> Result<(), WireError> {
    match written {
        Err(WireError::BufferTooSmall) => Ok(()),
        other => other,
    }
}

/// Options 12 and 15, each left out when it does not fit: HOSTNAME as given; the domain
/// from DOMAIN, else the config, else the HOSTNAME's part after its first dot.
fn write_names(w: &mut ReplyWriter<'_>, entry: &Entry, cfg: &Dhcp) -> Result<(), WireError> {
    let hostname = entry.binding.hostname.as_deref();
    if let Some(h) = hostname {
        if_room(w.option_str(option::HOSTNAME, h))?;
    }
    let domain = entry
        .binding
        .domain
        .as_deref()
        .or(cfg.domain.as_deref())
        .or(entry.binding.hostname_domain.as_deref());
    if let Some(d) = domain.filter(|d| !d.is_empty()) {
        if_room(w.option_str(option::DOMAIN_NAME, d))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::{Handled, QueueKind};
    use crate::testing::{self, binding, entry, HOST_MAC, VM_MAC};
    use dhcproto::v4::{self, DhcpOption as Opt, Flags, OptionCode};
    use dhcproto::{Decodable, Encodable};

    const IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

    fn cfg() -> Dhcp {
        testing::dhcp()
    }

    /// The daemon's handler with `c` as the live `[dhcp]` settings.
    fn handle(
        ip: &[u8],
        frame_src: Option<MacAddr>,
        e: &Entry,
        c: &Dhcp,
        out: &mut [u8],
    ) -> (Option<RequestKind>, Outcome) {
        let config = testing::config().dhcp(|d| *d = c.clone()).build();
        let Handled { request, outcome } =
            testing::handle(QueueKind::Dhcp4, ip, frame_src, e, &config, out);
        (request, outcome)
    }

    /// A client message as dhcproto encodes it, in an IPv4/UDP packet as NFQUEUE hands it.
    fn request(kind: v4::MessageType, edit: impl FnOnce(&mut v4::Message)) -> Vec<u8> {
        let mut m = v4::Message::new_with_id(
            0x1234_5678,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &VM_MAC.0,
        );
        m.opts_mut().insert(Opt::MessageType(kind));
        edit(&mut m);
        let payload = m.to_vec().expect("encode");
        let mut frame = vec![0u8; IPV4_UDP_PAYLOAD_OFFSET + payload.len()];
        frame[IPV4_UDP_PAYLOAD_OFFSET..].copy_from_slice(&payload);
        let hdr = Ipv4UdpHeader {
            src_mac: VM_MAC,
            dst_mac: MacAddr::BROADCAST,
            src_ip: Ipv4Addr::UNSPECIFIED,
            dst_ip: Ipv4Addr::BROADCAST,
            src_port: 68,
            dst_port: 67,
        };
        let len = frame::emit_ipv4_udp(&mut frame, &hdr, payload.len()).expect("emit");
        frame.truncate(len);
        frame.split_off(frame::ETH_HDR_LEN)
    }

    struct Answer {
        frame: Vec<u8>,
        msg: v4::Message,
        kind: ReplyKind,
    }

    fn answer(req: &[u8], e: &Entry, c: &Dhcp) -> Result<Answer, NoReply> {
        let mut out = [0xa5u8; 1514];
        match handle(req, Some(VM_MAC), e, c, &mut out).1 {
            Outcome::Reply { len, kind } => {
                let frame = out[..len].to_vec();
                let udp = frame::parse_ipv4_udp(&frame[frame::ETH_HDR_LEN..]).expect("ip/udp");
                let msg = v4::Message::from_bytes(udp.payload).expect("dhcproto decodes it");
                Ok(Answer { frame, msg, kind })
            }
            Outcome::NoReply(why) => Err(why),
        }
    }

    fn opt(m: &v4::Message, code: OptionCode) -> Option<&Opt> {
        m.opts().get(code)
    }

    #[test]
    fn discover_gets_offer_with_every_option() {
        let a = answer(
            &request(v4::MessageType::Discover, |_| {}),
            &entry(binding()),
            &cfg(),
        )
        .unwrap();
        assert_eq!(a.kind, ReplyKind::Offer);
        let m = &a.msg;
        assert_eq!(m.opcode(), v4::Opcode::BootReply);
        assert_eq!(m.xid(), 0x1234_5678);
        assert_eq!(m.yiaddr(), IP);
        assert_eq!(m.chaddr(), &VM_MAC.0);
        assert_eq!(m.opts().msg_type(), Some(v4::MessageType::Offer));
        assert_eq!(
            opt(m, OptionCode::ServerIdentifier),
            Some(&Opt::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)))
        );
        assert_eq!(
            opt(m, OptionCode::SubnetMask),
            Some(&Opt::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)))
        );
        assert_eq!(
            opt(m, OptionCode::BroadcastAddr),
            Some(&Opt::BroadcastAddr(Ipv4Addr::new(192, 0, 2, 255)))
        );
        assert_eq!(
            opt(m, OptionCode::Router),
            Some(&Opt::Router(vec![Ipv4Addr::new(192, 0, 2, 1)]))
        );
        assert_eq!(
            opt(m, OptionCode::DomainNameServer),
            Some(&Opt::DomainNameServer(vec![
                Ipv4Addr::new(192, 0, 2, 2),
                Ipv4Addr::new(192, 0, 2, 3)
            ]))
        );
        assert_eq!(
            opt(m, OptionCode::Hostname),
            Some(&Opt::Hostname("testing-vm".into()))
        );
        assert_eq!(
            opt(m, OptionCode::DomainName),
            Some(&Opt::DomainName("example.com".into()))
        );
        assert_eq!(
            opt(m, OptionCode::AddressLeaseTime),
            Some(&Opt::AddressLeaseTime(604800))
        );
        assert_eq!(opt(m, OptionCode::Renewal), Some(&Opt::Renewal(3600)));
        assert_eq!(opt(m, OptionCode::Rebinding), Some(&Opt::Rebinding(529200)));
        assert_eq!(opt(m, OptionCode::InterfaceMtu), None);
        // Envelope: from INDEV's MAC and the server address, unicast to the client.
        assert_eq!(&a.frame[0..6], &VM_MAC.0);
        assert_eq!(&a.frame[6..12], &HOST_MAC.0);
        let udp = frame::parse_ipv4_udp(&a.frame[14..]).unwrap();
        assert_eq!(
            (udp.src, udp.dst, udp.src_port, udp.dst_port),
            (Ipv4Addr::new(192, 0, 2, 1), IP, 67, 68)
        );
    }

    #[test]
    fn request_for_own_address_gets_ack() {
        let req = request(v4::MessageType::Request, |m| {
            m.opts_mut().insert(Opt::RequestedIpAddress(IP));
            m.opts_mut()
                .insert(Opt::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)));
        });
        let a = answer(&req, &entry(binding()), &cfg()).unwrap();
        assert_eq!(a.kind, ReplyKind::Ack);
        assert_eq!(a.msg.opts().msg_type(), Some(v4::MessageType::Ack));
        assert_eq!(a.msg.yiaddr(), IP);
    }

    #[test]
    fn request_for_other_address_gets_broadcast_nak() {
        let req = request(v4::MessageType::Request, |m| {
            m.opts_mut()
                .insert(Opt::RequestedIpAddress(Ipv4Addr::new(192, 0, 2, 200)));
        });
        let a = answer(&req, &entry(binding()), &cfg()).unwrap();
        assert_eq!(a.kind, ReplyKind::Nak);
        assert_eq!(a.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(opt(&a.msg, OptionCode::Router), None);
        assert_eq!(&a.frame[0..6], &[0xff; 6]);
    }

    #[test]
    fn renewing_request_checks_ciaddr() {
        let renew = |addr| {
            request(v4::MessageType::Request, move |m| {
                m.set_ciaddr(addr);
            })
        };
        let a = answer(&renew(IP), &entry(binding()), &cfg()).unwrap();
        assert_eq!(a.kind, ReplyKind::Ack);
        let udp = frame::parse_ipv4_udp(&a.frame[14..]).unwrap();
        assert_eq!(udp.dst, IP, "RENEWING replies go unicast to ciaddr");
        let a = answer(
            &renew(Ipv4Addr::new(192, 0, 2, 7)),
            &entry(binding()),
            &cfg(),
        )
        .unwrap();
        assert_eq!(a.kind, ReplyKind::Nak);
    }

    #[test]
    fn request_for_another_server_is_ignored() {
        let req = request(v4::MessageType::Request, |m| {
            m.opts_mut().insert(Opt::RequestedIpAddress(IP));
            m.opts_mut()
                .insert(Opt::ServerIdentifier(Ipv4Addr::new(198, 51, 100, 9)));
        });
        assert_eq!(
            answer(&req, &entry(binding()), &cfg()).err(),
            Some(NoReply::OtherServer)
        );
    }

    #[test]
    fn inform_gets_ack_without_lease() {
        let req = request(v4::MessageType::Inform, |m| {
            m.set_ciaddr(IP);
        });
        let a = answer(&req, &entry(binding()), &cfg()).unwrap();
        assert_eq!(a.msg.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(opt(&a.msg, OptionCode::AddressLeaseTime), None);
        assert!(opt(&a.msg, OptionCode::DomainNameServer).is_some());
    }

    #[test]
    fn broadcast_flag_gets_broadcast_reply() {
        let req = request(v4::MessageType::Discover, |m| {
            m.set_flags(Flags::default().set_broadcast());
        });
        let a = answer(&req, &entry(binding()), &cfg()).unwrap();
        assert_eq!(&a.frame[0..6], &[0xff; 6]);
        let udp = frame::parse_ipv4_udp(&a.frame[14..]).unwrap();
        assert_eq!(udp.dst, Ipv4Addr::BROADCAST);
    }

    #[test]
    fn private_has_no_router_and_mtu_is_sent() {
        let mut b = binding();
        b.private = true;
        b.mtu = Some(1400);
        let a = answer(
            &request(v4::MessageType::Discover, |_| {}),
            &entry(b),
            &cfg(),
        )
        .unwrap();
        assert_eq!(opt(&a.msg, OptionCode::Router), None);
        assert_eq!(
            opt(&a.msg, OptionCode::InterfaceMtu),
            Some(&Opt::InterfaceMtu(1400))
        );
    }

    #[test]
    fn spoofed_chaddr_or_frame_gets_nothing_unless_macspoof() {
        let mut b = binding();
        b.mac = "aa:6b:39:22:33:99".parse().unwrap();
        let req = request(v4::MessageType::Discover, |_| {});
        assert_eq!(
            answer(&req, &entry(b.clone()), &cfg()).err(),
            Some(NoReply::Spoofed)
        );
        b.macspoof = true;
        let a = answer(&req, &entry(b), &cfg()).unwrap();
        assert_eq!(
            &a.frame[0..6],
            &VM_MAC.0,
            "reply goes to the client's chaddr"
        );
        // Frame source differs from chaddr even though chaddr matches the binding.
        let mut out = [0u8; 1514];
        let other = Some(MacAddr([2, 2, 2, 2, 2, 2]));
        let got = handle(&req, other, &entry(binding()), &cfg(), &mut out).1;
        assert_eq!(got, Outcome::NoReply(NoReply::Spoofed));
    }

    #[test]
    fn server_on_link_uses_gateway_then_subnet() {
        let mut c = cfg();
        c.server_on_link = true;
        c.server_ip = None;
        let e = entry(binding());
        assert_eq!(server_addr(&e, &c), Some(Ipv4Addr::new(192, 0, 2, 1)));
        let mut b = binding();
        b.gateway = None;
        assert_eq!(
            server_addr(&entry(b.clone()), &c),
            Some(Ipv4Addr::new(192, 0, 2, 1))
        );
        b.subnet = None;
        let req = request(v4::MessageType::Discover, |_| {});
        assert_eq!(
            answer(&req, &entry(b), &c).err(),
            Some(NoReply::NoServerAddr)
        );
    }

    #[test]
    fn domain_falls_back_to_hostname() {
        let mut c = cfg();
        c.domain = None;
        let mut b = binding();
        b.hostname = Some("vm1.example.org".into());
        b.hostname_domain = Some("example.org".into());
        let a = answer(&request(v4::MessageType::Discover, |_| {}), &entry(b), &c).unwrap();
        assert_eq!(
            opt(&a.msg, OptionCode::DomainName),
            Some(&Opt::DomainName("example.org".into()))
        );
        let a = answer(
            &request(v4::MessageType::Discover, |_| {}),
            &entry(binding()),
            &c,
        )
        .unwrap();
        assert_eq!(
            opt(&a.msg, OptionCode::DomainName),
            None,
            "a bare hostname has no domain"
        );
    }

    #[test]
    fn release_decline_and_server_messages_get_nothing() {
        for (t, why) in [
            (v4::MessageType::Release, NoReply::Informational),
            (v4::MessageType::Decline, NoReply::Informational),
            (v4::MessageType::Offer, NoReply::UnexpectedType),
        ] {
            assert_eq!(
                answer(&request(t, |_| {}), &entry(binding()), &cfg()).err(),
                Some(why)
            );
        }
    }

    #[test]
    fn no_ip() {
        let mut b = binding();
        b.ip = None;
        b.subnet = None;
        let req = request(v4::MessageType::Discover, |_| {});
        assert_eq!(answer(&req, &entry(b), &cfg()).err(), Some(NoReply::NoIp));
        // A binding without a host MAC never reaches a handler: binding::snapshot makes it
        // inactive (tested there).
    }

    #[test]
    fn every_truncation_is_handled() {
        let req = request(v4::MessageType::Discover, |_| {});
        let e = entry(binding());
        let mut out = [0u8; 1514];
        for len in 0..req.len() {
            let got = handle(&req[..len], Some(VM_MAC), &e, &cfg(), &mut out).1;
            assert!(
                matches!(got, Outcome::NoReply(NoReply::Malformed(_))),
                "len {len}: {got:?}"
            );
        }
    }

    /// `binding()` with `extra` lines appended, through the daemon's parser.
    fn binding_with(extra: &str) -> crate::binding::file::Binding {
        let text = format!(
            "IP=192.0.2.100\nMAC=aa:6b:39:22:33:44\nHOSTNAME=testing-vm\n\
             SUBNET=192.0.2.0/24\nGATEWAY=192.0.2.1\n{extra}\n"
        );
        let b = crate::binding::file::parse("tap10", &text).expect("valid binding");
        assert_eq!(b.warnings, [], "{text}");
        b
    }

    fn net(s: &str) -> ipnet::Ipv4Net {
        s.parse().unwrap()
    }

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn routes_of(m: &v4::Message) -> Option<Vec<(ipnet::Ipv4Net, Ipv4Addr)>> {
        match opt(m, OptionCode::ClasslessStaticRoute) {
            Some(Opt::ClasslessStaticRoute(r)) => Some(r.clone()),
            None => None,
            other => panic!("{other:?}"),
        }
    }

    /// The raw value of option `code` in a reply frame, by our own parser.
    fn raw_option(frame: &[u8], code: u8) -> Option<Vec<u8>> {
        let udp = frame::parse_ipv4_udp(&frame[frame::ETH_HDR_LEN..]).unwrap();
        let p = crate::wire::dhcp4::Packet::new_checked(udp.payload).unwrap();
        let found = p.options().map(Result::unwrap).find(|o| o.code == code);
        found.map(|o| o.data.to_vec())
    }

    fn discover_asking(codes: &[u8]) -> Vec<u8> {
        let codes: Vec<OptionCode> = codes.iter().map(|&c| OptionCode::from(c)).collect();
        request(v4::MessageType::Discover, |m| {
            m.opts_mut().insert(Opt::ParameterRequestList(codes));
        })
    }

    #[test]
    fn routed_32_gets_on_link_host_route_and_default_route() {
        let mut b = binding();
        b.ip = Some(v4("198.51.100.7"));
        b.subnet = Some("198.51.100.7/32".parse().unwrap());
        let a = answer(&discover_asking(&[1, 3, 121]), &entry(b.clone()), &cfg()).unwrap();
        assert_eq!(
            routes_of(&a.msg),
            Some(vec![
                (net("192.0.2.1/32"), Ipv4Addr::UNSPECIFIED),
                (net("0.0.0.0/0"), v4("192.0.2.1")),
            ])
        );
        // Option 3 stays for clients without 121; 249 only when asked for.
        assert_eq!(
            opt(&a.msg, OptionCode::Router),
            Some(&Opt::Router(vec![v4("192.0.2.1")]))
        );
        assert_eq!(raw_option(&a.frame, 249), None);
        assert_eq!(
            raw_option(&a.frame, 121),
            Some(vec![32, 192, 0, 2, 1, 0, 0, 0, 0, 0, 192, 0, 2, 1])
        );
        // PRIVATE: no router at all, so no routes either.
        b.private = true;
        let a = answer(&discover_asking(&[121]), &entry(b), &cfg()).unwrap();
        assert_eq!(routes_of(&a.msg), None);
        // An on-subnet gateway and no ROUTES: option 3 alone, as before.
        let a = answer(&discover_asking(&[121]), &entry(binding()), &cfg()).unwrap();
        assert_eq!(routes_of(&a.msg), None);
    }

    #[test]
    fn routes_key_goes_out_with_the_default_route_and_as_249_on_request() {
        let b =
            binding_with("ROUTES=198.51.100.0/24 via 192.0.2.1, 203.0.113.0/25 via 192.0.2.254");
        let a = answer(&discover_asking(&[121, 249]), &entry(b), &cfg()).unwrap();
        let want = vec![
            (net("0.0.0.0/0"), v4("192.0.2.1")),
            (net("198.51.100.0/24"), v4("192.0.2.1")),
            (net("203.0.113.0/25"), v4("192.0.2.254")),
        ];
        assert_eq!(routes_of(&a.msg), Some(want));
        let raw = raw_option(&a.frame, 121).unwrap();
        assert_eq!(raw_option(&a.frame, 249), Some(raw.clone()));
        #[rustfmt::skip]
        assert_eq!(raw, [
            0, 192, 0, 2, 1,
            24, 198, 51, 100, 192, 0, 2, 1,
            25, 203, 0, 113, 0, 192, 0, 2, 254,
        ]);
        // PRIVATE keeps ROUTES but sends no default route; ROUTES' own default wins.
        let mut b = binding_with("ROUTES=198.51.100.0/24 via 192.0.2.1\nPRIVATE=yes");
        let a = answer(&discover_asking(&[121]), &entry(b.clone()), &cfg()).unwrap();
        assert_eq!(
            routes_of(&a.msg),
            Some(vec![(net("198.51.100.0/24"), v4("192.0.2.1"))])
        );
        b = binding_with("ROUTES=0.0.0.0/0 via 192.0.2.9, 198.51.100.0/24 via 192.0.2.1");
        let a = answer(&discover_asking(&[121]), &entry(b), &cfg()).unwrap();
        assert_eq!(
            routes_of(&a.msg),
            Some(vec![
                (net("0.0.0.0/0"), v4("192.0.2.9")),
                (net("198.51.100.0/24"), v4("192.0.2.1")),
            ])
        );
    }

    #[test]
    fn binding_nameservers_domain_and_search_override_the_config() {
        let mut c = cfg();
        c.domain_search =
            crate::wire::dns::SearchList::new(vec!["cfg.example.com".into()]).unwrap();
        let names = |m: &v4::Message| match opt(m, OptionCode::DomainSearch) {
            Some(Opt::DomainSearch(n)) => n
                .iter()
                .map(|n| n.to_string().trim_end_matches('.').to_string())
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        // The config's when the binding has none.
        let a = answer(&discover_asking(&[6, 15, 119]), &entry(binding()), &c).unwrap();
        assert_eq!(names(&a.msg), ["cfg.example.com"]);
        let b = binding_with(
            "NAMESERVERS=198.51.100.53, 203.0.113.53\nDOMAIN=vm.example.net\n\
             DOMAIN_SEARCH=eng.example.net, example.net, sales.example.net",
        );
        let a = answer(&discover_asking(&[6, 15, 119]), &entry(b), &c).unwrap();
        assert_eq!(
            opt(&a.msg, OptionCode::DomainNameServer),
            Some(&Opt::DomainNameServer(vec![
                v4("198.51.100.53"),
                v4("203.0.113.53")
            ]))
        );
        assert_eq!(
            opt(&a.msg, OptionCode::DomainName),
            Some(&Opt::DomainName("vm.example.net".into()))
        );
        assert_eq!(
            names(&a.msg),
            ["eng.example.net", "example.net", "sales.example.net"]
        );
        // Compressed: the second name is one pointer, the third one label and a pointer.
        assert_eq!(raw_option(&a.frame, 119).unwrap().len(), 17 + 2 + 8);
    }

    #[test]
    fn long_search_list_is_split_over_two_options() {
        let mut c = cfg();
        let long: Vec<String> = (0..6)
            .map(|i| format!("{i}{}.example", "x".repeat(40)))
            .collect();
        c.domain_search = crate::wire::dns::SearchList::new(long.clone()).unwrap();
        assert!(c.domain_search.wire().len() > 255);
        let req = request(v4::MessageType::Discover, |m| {
            m.opts_mut().insert(Opt::MaxMessageSize(1500));
        });
        let a = answer(&req, &entry(binding()), &c).unwrap();
        let udp = frame::parse_ipv4_udp(&a.frame[frame::ETH_HDR_LEN..]).unwrap();
        let p = crate::wire::dhcp4::Packet::new_checked(udp.payload).unwrap();
        let parts: Vec<usize> = p
            .options()
            .map(Result::unwrap)
            .filter(|o| o.code == 119)
            .map(|o| o.data.len())
            .collect();
        assert_eq!(parts, [255, c.domain_search.wire().len() - 255]);
        // dhcproto joins them (RFC 3396) and follows the pointers.
        match opt(&a.msg, OptionCode::DomainSearch) {
            Some(Opt::DomainSearch(n)) => {
                let got: Vec<String> = n
                    .iter()
                    .map(|n| n.to_string().trim_end_matches('.').to_string())
                    .collect();
                assert_eq!(got, long);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn client_identifier_is_echoed_in_every_reply() {
        let id = vec![1, 0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44];
        let with_id = |t, ask: Option<Ipv4Addr>| {
            let id = id.clone();
            request(t, move |m| {
                m.opts_mut().insert(Opt::ClientIdentifier(id));
                if let Some(ip) = ask {
                    m.opts_mut().insert(Opt::RequestedIpAddress(ip));
                }
            })
        };
        for (req, kind) in [
            (with_id(v4::MessageType::Discover, None), ReplyKind::Offer),
            (with_id(v4::MessageType::Request, Some(IP)), ReplyKind::Ack),
            (
                with_id(v4::MessageType::Request, Some(v4("192.0.2.7"))),
                ReplyKind::Nak,
            ),
        ] {
            let a = answer(&req, &entry(binding()), &cfg()).unwrap();
            assert_eq!(a.kind, kind);
            assert_eq!(
                opt(&a.msg, OptionCode::ClientIdentifier),
                Some(&Opt::ClientIdentifier(id.clone())),
                "{kind:?}"
            );
        }
        let a = answer(
            &request(v4::MessageType::Discover, |_| {}),
            &entry(binding()),
            &cfg(),
        );
        assert_eq!(opt(&a.unwrap().msg, OptionCode::ClientIdentifier), None);
    }

    #[test]
    fn ntp_servers_go_out_in_offer_and_ack_when_configured() {
        let mut c = cfg();
        let ack_req = request(v4::MessageType::Request, |m| {
            m.opts_mut().insert(Opt::RequestedIpAddress(IP));
        });
        let offer_req = request(v4::MessageType::Discover, |_| {});
        // None configured: no option 42.
        let a = answer(&offer_req, &entry(binding()), &c).unwrap();
        assert_eq!(opt(&a.msg, OptionCode::NtpServers), None);
        c.ntp_servers = vec![v4("192.0.2.123"), v4("203.0.113.123")];
        for req in [&offer_req, &ack_req] {
            let a = answer(req, &entry(binding()), &c).unwrap();
            assert_eq!(
                opt(&a.msg, OptionCode::NtpServers),
                Some(&Opt::NtpServers(c.ntp_servers.clone())),
                "{:?}",
                a.kind
            );
            assert_eq!(
                raw_option(&a.frame, 42),
                Some(vec![192, 0, 2, 123, 203, 0, 113, 123])
            );
        }
        // Not in a NAK.
        let nak = request(v4::MessageType::Request, |m| {
            m.opts_mut()
                .insert(Opt::RequestedIpAddress(v4("192.0.2.7")));
        });
        let a = answer(&nak, &entry(binding()), &c).unwrap();
        assert_eq!(a.kind, ReplyKind::Nak);
        assert_eq!(raw_option(&a.frame, 42), None);
    }

    #[test]
    fn ipv6only_binding_gets_108_and_no_address_only_when_asked() {
        let mut c = cfg();
        c.ipv6_only_wait = 900;
        let v6only = binding_with("IPV6ONLY=yes");
        let discover = |codes: &[u8]| discover_asking(codes);
        let request_asking = |codes: &[u8]| {
            let codes: Vec<OptionCode> = codes.iter().map(|&c| OptionCode::from(c)).collect();
            request(v4::MessageType::Request, |m| {
                m.opts_mut().insert(Opt::ParameterRequestList(codes));
                m.opts_mut().insert(Opt::RequestedIpAddress(IP));
                m.opts_mut().insert(Opt::ClientIdentifier(vec![1, 2, 3]));
            })
        };
        for (req, kind) in [
            (discover(&[1, 3, 6, 108]), ReplyKind::Offer),
            (request_asking(&[1, 3, 6, 108]), ReplyKind::Ack),
        ] {
            let a = answer(&req, &entry(v6only.clone()), &c).unwrap();
            assert_eq!(a.kind, kind);
            assert_eq!(a.msg.yiaddr(), Ipv4Addr::UNSPECIFIED, "{kind:?}");
            assert_eq!(raw_option(&a.frame, 108), Some(vec![0, 0, 0x03, 0x84]));
            // 53, 54 (61 when sent), 108: nothing of an IPv4 configuration.
            let want: &[u8] = if kind == ReplyKind::Ack {
                &[53, 54, 61, 108]
            } else {
                &[53, 54, 108]
            };
            assert_eq!(codes_of(&a.frame), want, "{kind:?}");
            // No address to unicast to: broadcast.
            assert_eq!(&a.frame[0..6], &[0xff; 6]);
            let udp = frame::parse_ipv4_udp(&a.frame[14..]).unwrap();
            assert_eq!(udp.dst, Ipv4Addr::BROADCAST);
        }
        // Not asked for: the usual offer, with the address and without 108.
        let a = answer(&discover(&[1, 3, 6]), &entry(v6only.clone()), &c).unwrap();
        assert_eq!(a.msg.yiaddr(), IP);
        assert_eq!(raw_option(&a.frame, 108), None);
        // Asked for, but the binding is not IPV6ONLY (or says no): likewise.
        for b in [binding(), binding_with("IPV6ONLY=no")] {
            let a = answer(&discover(&[1, 3, 6, 108]), &entry(b), &c).unwrap();
            assert_eq!(a.msg.yiaddr(), IP);
            assert_eq!(raw_option(&a.frame, 108), None);
        }
        // A REQUEST for another server is still ignored; INFORM is answered as before.
        let other = request(v4::MessageType::Request, |m| {
            m.opts_mut()
                .insert(Opt::ParameterRequestList(vec![OptionCode::from(108)]));
            m.opts_mut()
                .insert(Opt::ServerIdentifier(v4("198.51.100.9")));
        });
        assert_eq!(
            answer(&other, &entry(v6only.clone()), &c).err(),
            Some(NoReply::OtherServer)
        );
        let inform = request(v4::MessageType::Inform, |m| {
            m.set_ciaddr(IP);
            m.opts_mut()
                .insert(Opt::ParameterRequestList(vec![OptionCode::from(108)]));
        });
        let a = answer(&inform, &entry(v6only), &c).unwrap();
        assert_eq!(raw_option(&a.frame, 108), None);
        assert!(opt(&a.msg, OptionCode::DomainNameServer).is_some());
    }

    #[test]
    fn largest_reply_still_goes_out() {
        let routes = vec!["203.0.113.0/25 via 192.0.2.1"; 26].join(", ");
        let search: Vec<String> = (0..8).map(|i| format!("{i}{}", "x".repeat(60))).collect();
        let mut b = binding_with(&format!(
            "ROUTES={routes}\nDOMAIN_SEARCH={}",
            search.join(",")
        ));
        b.ip = Some(v4("198.51.100.7"));
        b.subnet = Some("198.51.100.7/32".parse().unwrap());
        let codes: Vec<OptionCode> = [121u8, 249, 119].iter().map(|&c| c.into()).collect();
        let req = request(v4::MessageType::Discover, |m| {
            m.opts_mut().insert(Opt::ParameterRequestList(codes));
            m.opts_mut().insert(Opt::ClientIdentifier(vec![7; 255]));
            m.opts_mut().insert(Opt::MaxMessageSize(1500));
        });
        let a = answer(&req, &entry(b.clone()), &cfg()).unwrap();
        assert_eq!(routes_of(&a.msg).map(|r| r.len()), Some(28));
        assert_eq!(
            opt(&a.msg, OptionCode::ClientIdentifier),
            Some(&Opt::ClientIdentifier(vec![7; 255]))
        );
        assert!(a.frame.len() <= 1514);
        // 249 is what gives way: 121 and the search list are there.
        assert_eq!(raw_option(&a.frame, 249), None);
        assert!(opt(&a.msg, OptionCode::DomainSearch).is_some());
        // Without the client identifier, 249 fits too.
        let codes: Vec<OptionCode> = [121u8, 249, 119].iter().map(|&c| c.into()).collect();
        let req = request(v4::MessageType::Discover, |m| {
            m.opts_mut().insert(Opt::ParameterRequestList(codes));
            m.opts_mut().insert(Opt::MaxMessageSize(1500));
        });
        let a = answer(&req, &entry(b), &cfg()).unwrap();
        assert_eq!(raw_option(&a.frame, 249), raw_option(&a.frame, 121));
    }

    /// The options of a reply frame, by code, in wire order (our own parser).
    fn codes_of(frame: &[u8]) -> Vec<u8> {
        let udp = frame::parse_ipv4_udp(&frame[frame::ETH_HDR_LEN..]).unwrap();
        let p = crate::wire::dhcp4::Packet::new_checked(udp.payload).unwrap();
        p.options().map(|o| o.unwrap().code).collect()
    }

    #[test]
    fn reply_keeps_within_the_clients_maximum_message_size() {
        // 12 routes (106 bytes of option 121 and again of 249), a 488-byte search list, NTP
        // servers: with a 7-byte client id 1043 bytes of DHCP message, 404 of which are
        // never left out.
        let routes = ["203.0.113.0/25 via 192.0.2.1"; 10].join(", ");
        let search: Vec<String> = (0..8).map(|i| format!("{i}{}", "x".repeat(58))).collect();
        let mut b = binding_with(&format!(
            "ROUTES={routes}\nDOMAIN_SEARCH={}\nMTU=1400",
            search.join(",")
        ));
        b.ip = Some(v4("198.51.100.7"));
        b.subnet = Some("198.51.100.7/32".parse().unwrap());
        let mut c = cfg();
        c.ntp_servers = vec![v4("192.0.2.123")];
        let ask = |size: Option<u16>, id: usize| {
            let codes: Vec<OptionCode> = [1u8, 3, 6, 12, 15, 42, 119, 121, 249]
                .iter()
                .map(|&c| c.into())
                .collect();
            request(v4::MessageType::Discover, move |m| {
                m.opts_mut().insert(Opt::ParameterRequestList(codes));
                m.opts_mut().insert(Opt::ClientIdentifier(vec![7; id]));
                if let Some(size) = size {
                    m.opts_mut().insert(Opt::MaxMessageSize(size));
                }
            })
        };
        let ip_len = |a: &Answer| a.frame.len() - frame::ETH_HDR_LEN;
        // 1500: everything goes out.
        let a = answer(&ask(Some(1500), 7), &entry(b.clone()), &c).unwrap();
        assert!(ip_len(&a) > 576 && ip_len(&a) <= 1500, "{}", ip_len(&a));
        let all = codes_of(&a.frame);
        for code in [
            53, 54, 61, 51, 58, 59, 1, 28, 3, 121, 26, 6, 12, 15, 42, 119, 249,
        ] {
            assert!(all.contains(&code), "{code}: {all:?}");
        }
        // 576, as sent, under 576 (raised to it), or none sent: 249 and 119 give way.
        for size in [Some(576), Some(300), None] {
            let a = answer(&ask(size, 7), &entry(b.clone()), &c).unwrap();
            assert!(ip_len(&a) <= 576, "{size:?}: {}", ip_len(&a));
            let got = codes_of(&a.frame);
            assert_eq!(
                got,
                [53, 54, 61, 51, 58, 59, 1, 28, 3, 121, 26, 6, 12, 15, 42],
                "{size:?}"
            );
            assert_eq!(routes_of(&a.msg).map(|r| r.len()), Some(12));
            assert_eq!(
                opt(&a.msg, OptionCode::NtpServers),
                Some(&Opt::NtpServers(vec![v4("192.0.2.123")]))
            );
        }
        // A 138-byte client id: 12 bytes are left after what must go out; the 10 of option
        // 6 fit, then 12 (12 bytes), 15 (13) and 42 (6) do not.
        let a = answer(&ask(Some(576), 138), &entry(b.clone()), &c).unwrap();
        assert!(ip_len(&a) <= 576);
        assert_eq!(
            codes_of(&a.frame),
            [53, 54, 61, 51, 58, 59, 1, 28, 3, 121, 26, 6]
        );
        assert_eq!(
            opt(&a.msg, OptionCode::ClientIdentifier),
            Some(&Opt::ClientIdentifier(vec![7; 138]))
        );
        // 1000 bytes: the search list fits (937 bytes with it), 249 (106 more) does not.
        let a = answer(&ask(Some(1000), 7), &entry(b), &c).unwrap();
        assert!(ip_len(&a) <= 1000);
        let got = codes_of(&a.frame);
        assert!(got.contains(&119) && !got.contains(&249), "{got:?}");
    }
}
