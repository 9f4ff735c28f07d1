//! DHCPv6 policy (RFC 8415), one VM per port, from its binding and with no state of ours:
//!
//! - Information-Request -> Reply (stateless, §18.3.6): DNS servers (23: the binding's
//!   NAMESERVERS6, else `[ipv6] nameservers`), domain search list (24), NTP servers (56,
//!   RFC 5908, when the client asks for it) and an information refresh time (32).
//! - Solicit -> Advertise (Reply with Rapid Commit when the client asks), Request, Renew,
//!   Rebind -> Reply with the binding's IA_NA addresses (IP6, or its EUI-64 default) and
//!   IA_PD prefixes (DELEGATED6), see [`leases`]; Confirm -> Success or NotOnLink; Release,
//!   Decline -> Success (a Decline is logged by the worker).
//! - The §16 checks: which messages must and must not name a server (a Request for another
//!   server's DUID is someone else's); Solicit, Rebind and Confirm to a unicast address are
//!   discarded, Request, Renew, Release and Decline to one get UseMulticast (we never send
//!   the Server Unicast option).
//!
//! Fixes over the original (REFERENCE.md §1.9): the reply goes to the request's source
//! address (not an EUI-64 guess), the server DUID is stable per interface (DUID-LL of INDEV's
//! MAC, not a new DUID-LLT per reply), the source MAC is checked like for RS/NS.

mod leases;
#[cfg(test)]
mod stateful_tests;

use super::{Ctx, Handler, NoReply, Outcome, Packet, ReplyKind, RequestKind};
use crate::binding::snapshot::Entry;
use crate::config::{Config, Ipv6};
use crate::wire::dhcp6::{self, option, IaKind, MessageType, ReplyWriter, Request, StatusCode};
use crate::wire::frame::{self, Ipv6Header, Ipv6Udp, IPV6_UDP_PAYLOAD_OFFSET};
use crate::wire::{MacAddr, WireError};

/// RFC 8415 §21.23: IRT_DEFAULT, one day.
const INFORMATION_REFRESH_TIME: u32 = 86_400;
/// Hop limit for the UDP reply; it only ever crosses the tap.
const HOP_LIMIT: u8 = 64;
/// RFC 8415 §18.2.1: an Advertise with preference 255 is taken at once, without waiting for
/// others (there are none: we are the only server the port reaches).
const PREFERENCE_NOW: u8 = 255;

/// DHCPv6 from a bound tap: `Packet::ip` starts at the IPv6 header.
pub(super) struct Dhcp6;

/// A client's message, or a relay message (parsed no further: a VM has no business relaying,
/// but it is counted by its type).
#[derive(Debug)]
pub(super) enum Message<'p> {
    Client(Ipv6Udp<'p>, Request<'p>),
    Relay(MessageType),
}

impl Handler for Dhcp6 {
    type Request<'p> = Message<'p>;
    type Settings<'c> = &'c Ipv6;

    fn settings(config: &Config) -> Option<&Ipv6> {
        config.live.ipv6.as_ref()
    }

    fn parse(ip: &[u8]) -> Result<Message<'_>, WireError> {
        let udp = frame::parse_ipv6_udp(ip)?;
        // RFC 8415 §13.1: clients send from a link-local address; `::` cannot be answered.
        if udp.src.is_unspecified() {
            return Err(WireError::BadAddress);
        }
        match Request::parse(udp.payload) {
            Ok(req) => Ok(Message::Client(udp, req)),
            Err(WireError::WrongProtocol) => {
                let t = udp.payload.first().copied().unwrap_or_default();
                Ok(Message::Relay(MessageType::from(t)))
            }
            Err(e) => Err(e),
        }
    }

    fn kind(msg: &Message<'_>) -> RequestKind {
        match msg {
            Message::Client(_, req) => RequestKind::Dhcp6(req.msg_type),
            Message::Relay(t) => RequestKind::Dhcp6(*t),
        }
    }

    /// DHCPv6 carries no link-layer address the spoof check could compare.
    fn claimed_mac(_: &Message<'_>) -> Option<MacAddr> {
        None
    }

    fn answer(msg: &Message<'_>, pkt: &Packet, cfg: &Ipv6, ctx: Ctx) -> Outcome {
        let Message::Client(udp, req) = msg else {
            return Outcome::NoReply(NoReply::UnexpectedType);
        };
        let entry = ctx.entry;
        let plan = match plan(req, udp, entry) {
            Ok(plan) => plan,
            Err(why) => return Outcome::NoReply(why),
        };
        let host_mac = entry.host_mac;
        let hdr = Ipv6Header {
            src_mac: host_mac,
            dst_mac: pkt.frame_src.unwrap_or(entry.binding.mac),
            src_ip: host_mac.link_local(),
            dst_ip: udp.src,
            hop_limit: HOP_LIMIT,
        };
        let out = ctx.out;
        let kind = match plan.msg_type {
            MessageType::Advertise => ReplyKind::Dhcp6Advertise,
            _ => ReplyKind::Dhcp6Reply,
        };
        match write_reply(req, &plan, entry, cfg, out)
            .and_then(|len| frame::emit_ipv6_udp(out, &hdr, dhcp6::SERVER_PORT, udp.src_port, len))
        {
            Ok(len) => Outcome::Reply { len, kind },
            Err(e) => Outcome::NoReply(NoReply::Malformed(e)),
        }
    }
}

/// What a message gets: the reply's type and what goes in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    msg_type: MessageType,
    body: Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Configuration only, with the information refresh time.
    Information,
    /// The IAs answered (see [`leases`]), then the configuration. `extend`: Renew and
    /// Rebind, which keep what the client holds; `rapid`: a Reply to a Solicit.
    Leases { extend: bool, rapid: bool },
    /// Only a top-level status.
    Status(StatusCode, &'static str),
}

/// The §16 checks, then what the message gets.
fn plan(req: &Request<'_>, udp: &Ipv6Udp<'_>, entry: &Entry) -> Result<Plan, NoReply> {
    use MessageType as T;
    if entry.binding.subnet6.is_none() {
        return Err(NoReply::NoIpv6);
    }
    let ours = dhcp6::duid_ll(entry.host_mac);
    let server = match req.server_id {
        None => Server::Absent,
        Some(id) if id == ours => Server::Us,
        Some(_) => Server::Other,
    };
    let multicast = udp.dst.is_multicast();
    let reply = |body| Plan {
        msg_type: T::Reply,
        body,
    };
    let use_multicast = reply(Body::Status(StatusCode::UseMulticast, "send to ff02::1:2"));
    match req.msg_type {
        T::InformationRequest => {
            if req.has_ia || server == Server::Other {
                return Err(if req.has_ia {
                    NoReply::Invalid
                } else {
                    NoReply::OtherServer
                });
            }
            Ok(reply(Body::Information))
        }
        T::Solicit | T::Rebind | T::Confirm => {
            needs_client(req)?;
            if server != Server::Absent {
                return Err(NoReply::Invalid);
            }
            if !multicast {
                return Err(NoReply::Unicast);
            }
            match req.msg_type {
                T::Solicit if req.rapid_commit => Ok(reply(Body::Leases {
                    extend: false,
                    rapid: true,
                })),
                T::Solicit => Ok(Plan {
                    msg_type: T::Advertise,
                    body: Body::Leases {
                        extend: false,
                        rapid: false,
                    },
                }),
                T::Rebind => Ok(reply(Body::Leases {
                    extend: true,
                    rapid: false,
                })),
                _ => {
                    leases::confirm(req, entry).map(|(code, text)| reply(Body::Status(code, text)))
                }
            }
        }
        T::Request | T::Renew | T::Release | T::Decline => {
            needs_client(req)?;
            match server {
                Server::Absent => return Err(NoReply::Invalid),
                Server::Other => return Err(NoReply::OtherServer),
                Server::Us => {}
            }
            if !multicast {
                return Ok(use_multicast);
            }
            Ok(reply(match req.msg_type {
                T::Request => Body::Leases {
                    extend: false,
                    rapid: false,
                },
                T::Renew => Body::Leases {
                    extend: true,
                    rapid: false,
                },
                T::Release => Body::Status(StatusCode::Success, "released"),
                _ => Body::Status(StatusCode::Success, "decline noted"),
            }))
        }
        _ => Err(NoReply::UnexpectedType),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Absent,
    Us,
    Other,
}

/// RFC 8415 §16: every message but Information-Request names its client.
fn needs_client(req: &Request<'_>) -> Result<(), NoReply> {
    req.client_id.map(|_| ()).ok_or(NoReply::Invalid)
}

fn write_reply(
    req: &Request<'_>,
    plan: &Plan,
    entry: &Entry,
    cfg: &Ipv6,
    out: &mut [u8],
) -> Result<usize, WireError> {
    let buf = out
        .get_mut(IPV6_UDP_PAYLOAD_OFFSET..)
        .ok_or(WireError::BufferTooSmall)?;
    let mut w = ReplyWriter::new(buf, plan.msg_type, req.transaction_id)?;
    w.option(option::SERVERID, &dhcp6::duid_ll(entry.host_mac))?;
    if let Some(client_id) = req.client_id {
        w.option(option::CLIENTID, client_id)?;
    }
    match plan.body {
        Body::Status(code, text) => w.option_status(code, text)?,
        Body::Information => {
            write_configuration(&mut w, req, entry, cfg)?;
            w.option_u32(option::INFORMATION_REFRESH_TIME, INFORMATION_REFRESH_TIME)?;
        }
        Body::Leases { extend, rapid } => {
            if rapid {
                w.option(option::RAPID_COMMIT, &[])?;
            }
            if plan.msg_type == MessageType::Advertise {
                w.option(option::PREFERENCE, &[PREFERENCE_NOW])?;
            }
            leases::write(&mut w, req, entry, cfg, extend, plan.msg_type)?;
            write_configuration(&mut w, req, entry, cfg)?;
        }
    }
    Ok(w.finish())
}

/// DNS servers, the search list, and NTP servers for a client that asks for them.
fn write_configuration(
    w: &mut ReplyWriter<'_>,
    req: &Request<'_>,
    entry: &Entry,
    cfg: &Ipv6,
) -> Result<(), WireError> {
    let nameservers = super::nameservers6(&cfg.nameservers, entry);
    w.option_ipv6_list(option::DNS_SERVERS, nameservers)?;
    let domains = super::domains(&cfg.domains, entry);
    w.option_domain_list(option::DOMAIN_LIST, domains)?;
    // RFC 5908 §4: for a client that asks for it in its ORO.
    if req.requested(option::NTP_SERVER) {
        w.option_ntp_servers(&cfg.ntp_servers)?;
    }
    Ok(())
}

/// The addresses a Decline names (for the worker's log line; not on the hot path).
pub fn declined(ip: &[u8]) -> Vec<std::net::Ipv6Addr> {
    let Ok(udp) = frame::parse_ipv6_udp(ip) else {
        return Vec::new();
    };
    let Ok(req) = Request::parse(udp.payload) else {
        return Vec::new();
    };
    req.ias()
        .filter(|ia| ia.kind != IaKind::Pd)
        .flat_map(|ia| ia.addresses().map(|a| a.addr))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::QueueKind;
    use crate::testing::{self as testutil, entry, udp6_packet, vm_ll, HOST_MAC, VM_MAC};
    use crate::wire::frame::ETH_HDR_LEN;
    use dhcproto::v6::{self, DhcpOption as Opt, OptionCode};
    use dhcproto::{Decodable, Encodable};
    use std::net::Ipv6Addr;

    const CLIENT_DUID: [u8; 10] = [0, 3, 0, 1, 0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44];

    fn request(kind: v6::MessageType, edit: impl FnOnce(&mut v6::Message)) -> Vec<u8> {
        let mut m = v6::Message::new_with_id(kind, [0x12, 0x34, 0x56]);
        m.opts_mut().insert(Opt::ClientId(CLIENT_DUID.to_vec()));
        edit(&mut m);
        udp6_packet(546, 547, &m.to_vec().expect("encode"))
    }

    fn v6cfg() -> Config {
        testutil::config().build()
    }

    fn handle(
        pkt: &[u8],
        frame_src: Option<MacAddr>,
        e: &Entry,
        cfg: &Config,
        out: &mut [u8],
    ) -> Outcome {
        testutil::handle(QueueKind::Dhcp6, pkt, frame_src, e, cfg, out).outcome
    }

    fn answer(pkt: &[u8], frame_src: MacAddr, e: &Entry, cfg: &Config) -> Result<Vec<u8>, NoReply> {
        let mut out = [0xa5u8; 1514];
        match handle(pkt, Some(frame_src), e, cfg, &mut out) {
            Outcome::Reply { len, .. } => Ok(out[..len].to_vec()),
            Outcome::NoReply(why) => Err(why),
        }
    }

    fn info_request() -> Vec<u8> {
        request(v6::MessageType::InformationRequest, |_| {})
    }

    #[test]
    fn information_request_gets_reply() {
        let frame = answer(
            &info_request(),
            VM_MAC,
            &entry(testutil::binding()),
            &v6cfg(),
        )
        .unwrap();
        assert_eq!(&frame[0..6], &VM_MAC.0);
        let udp = frame::parse_ipv6_udp(&frame[ETH_HDR_LEN..]).unwrap();
        assert_eq!((udp.src, udp.dst), (HOST_MAC.link_local(), vm_ll()));
        assert_eq!((udp.src_port, udp.dst_port), (547, 546));
        let m = v6::Message::from_bytes(udp.payload).expect("dhcproto decodes it");
        assert_eq!(m.msg_type(), v6::MessageType::Reply);
        assert_eq!(m.xid(), [0x12, 0x34, 0x56]);
        assert_eq!(
            m.opts().get(OptionCode::ClientId),
            Some(&Opt::ClientId(CLIENT_DUID.to_vec()))
        );
        assert_eq!(
            m.opts().get(OptionCode::ServerId),
            Some(&Opt::ServerId(dhcp6::duid_ll(HOST_MAC).to_vec()))
        );
        assert_eq!(
            m.opts().get(OptionCode::DomainNameServers),
            Some(&Opt::DomainNameServers(testutil::ipv6().nameservers))
        );
        let Some(Opt::DomainSearchList(names)) = m.opts().get(OptionCode::DomainSearchList) else {
            panic!("no domain list");
        };
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        assert_eq!(names, ["example.com."]);
        let refresh = dhcp6::Packet::new_checked(udp.payload)
            .unwrap()
            .options()
            .filter_map(Result::ok)
            .find(|o| o.code == option::INFORMATION_REFRESH_TIME)
            .map(|o| o.data.to_vec());
        assert_eq!(refresh, Some(86_400u32.to_be_bytes().to_vec()));
    }

    #[test]
    fn server_duid_is_stable() {
        let e = entry(testutil::binding());
        let a = answer(&info_request(), VM_MAC, &e, &v6cfg()).unwrap();
        let b = answer(&info_request(), VM_MAC, &e, &v6cfg()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn domains_fall_back_to_hostname() {
        let mut b = testutil::binding();
        b.hostname = Some("vm1.example.org".into());
        b.hostname_domain = Some("example.org".into());
        let cfg = testutil::config().ipv6(|v| v.domains.clear()).build();
        let frame = answer(&info_request(), VM_MAC, &entry(b), &cfg).unwrap();
        let udp = frame::parse_ipv6_udp(&frame[ETH_HDR_LEN..]).unwrap();
        let m = v6::Message::from_bytes(udp.payload).unwrap();
        let Some(Opt::DomainSearchList(names)) = m.opts().get(OptionCode::DomainSearchList) else {
            panic!("no domain list");
        };
        assert_eq!(names[0].to_string(), "example.org.");
    }

    /// The decoded reply to `pkt`.
    fn reply_message(pkt: &[u8], e: &Entry, cfg: &Config) -> v6::Message {
        let frame = answer(pkt, VM_MAC, e, cfg).unwrap();
        let udp = frame::parse_ipv6_udp(&frame[ETH_HDR_LEN..]).unwrap();
        v6::Message::from_bytes(udp.payload).expect("dhcproto decodes it")
    }

    fn asking_for(codes: Vec<OptionCode>) -> Vec<u8> {
        request(v6::MessageType::InformationRequest, |m| {
            m.opts_mut().insert(Opt::ORO(v6::ORO { opts: codes }));
        })
    }

    #[test]
    fn binding_nameservers6_replace_the_configured_ones() {
        let per_vm: Vec<Ipv6Addr> = vec![testutil::addr("2001:db8:53::1")];
        let mut b = testutil::binding();
        b.nameservers6 = per_vm.clone();
        let e = entry(b);
        for cfg in [
            v6cfg(),
            testutil::config().ipv6(|v| v.nameservers.clear()).build(),
        ] {
            let m = reply_message(&info_request(), &e, &cfg);
            assert_eq!(
                m.opts().get(OptionCode::DomainNameServers),
                Some(&Opt::DomainNameServers(per_vm.clone()))
            );
        }
        let none = testutil::config().ipv6(|v| v.nameservers.clear()).build();
        let m = reply_message(&info_request(), &entry(testutil::binding()), &none);
        assert_eq!(m.opts().get(OptionCode::DomainNameServers), None);
    }

    #[test]
    fn ntp_servers_go_to_clients_that_ask() {
        let ntp = vec![
            testutil::addr("2001:db8::123"),
            testutil::addr("2001:db8:1::123"),
        ];
        let cfg = testutil::config()
            .ipv6(|v| v.ntp_servers = ntp.clone())
            .build();
        let e = entry(testutil::binding());
        let ask = asking_for(vec![OptionCode::DomainNameServers, OptionCode::NtpServer]);
        let m = reply_message(&ask, &e, &cfg);
        let want = ntp.iter().map(|a| v6::NtpSuboption::ServerAddress(*a));
        assert_eq!(
            m.opts().get(OptionCode::NtpServer),
            Some(&Opt::NtpServer(want.collect()))
        );
        // RFC 5908 §4: not to a client whose ORO leaves it out, or that sends none.
        let other = asking_for(vec![OptionCode::DomainNameServers]);
        for pkt in [other, info_request()] {
            let m = reply_message(&pkt, &e, &cfg);
            assert_eq!(m.opts().get(OptionCode::NtpServer), None);
            assert!(m.opts().get(OptionCode::DomainNameServers).is_some());
        }
        // Asked for, but none configured.
        let m = reply_message(&ask, &e, &v6cfg());
        assert_eq!(m.opts().get(OptionCode::NtpServer), None);
    }

    #[test]
    fn other_messages_are_not_answered() {
        let e = entry(testutil::binding());
        let advertise = request(v6::MessageType::Advertise, |_| {});
        assert_eq!(
            answer(&advertise, VM_MAC, &e, &v6cfg()),
            Err(NoReply::UnexpectedType)
        );
        let with_ia = request(v6::MessageType::InformationRequest, |m| {
            m.opts_mut().insert(Opt::IANA(v6::IANA {
                id: 1,
                t1: 0,
                t2: 0,
                opts: v6::DhcpOptions::new(),
            }));
        });
        assert_eq!(
            answer(&with_ia, VM_MAC, &e, &v6cfg()),
            Err(NoReply::Invalid)
        );
        let for_other = request(v6::MessageType::InformationRequest, |m| {
            m.opts_mut()
                .insert(Opt::ServerId(vec![0, 3, 0, 1, 2, 2, 2, 2, 2, 2]));
        });
        assert_eq!(
            answer(&for_other, VM_MAC, &e, &v6cfg()),
            Err(NoReply::OtherServer)
        );
        let ours = request(v6::MessageType::InformationRequest, |m| {
            m.opts_mut()
                .insert(Opt::ServerId(dhcp6::duid_ll(HOST_MAC).to_vec()));
        });
        assert!(answer(&ours, VM_MAC, &e, &v6cfg()).is_ok());
        let spoof = MacAddr([2, 1, 1, 1, 1, 1]);
        assert_eq!(
            answer(&info_request(), spoof, &e, &v6cfg()),
            Err(NoReply::Spoofed)
        );
        let mut b = testutil::binding();
        b.subnet6 = None;
        assert_eq!(
            answer(&info_request(), VM_MAC, &entry(b), &v6cfg()),
            Err(NoReply::NoIpv6)
        );
    }

    #[test]
    fn every_truncation_is_malformed() {
        let pkt = info_request();
        let e = entry(testutil::binding());
        for len in 0..pkt.len() {
            let mut out = [0u8; 1514];
            let o = handle(&pkt[..len], Some(VM_MAC), &e, &v6cfg(), &mut out);
            assert!(
                matches!(o, Outcome::NoReply(NoReply::Malformed(_))),
                "len {len}: {o:?}"
            );
        }
    }
}
