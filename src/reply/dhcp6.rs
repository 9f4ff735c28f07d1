//! Stateless DHCPv6 policy (RFC 8415 §18.3.6): Information-Request -> Reply with DNS servers
//! (23), domain search list (24) and an information refresh time (32).
//!
//! Fixes over the original (REFERENCE.md §1.9): the reply goes to the request's source
//! address (not an EUI-64 guess), the server DUID is stable per interface (DUID-LL of INDEV's
//! MAC, not a new DUID-LLT per reply), the source MAC is checked like for RS/NS.

use super::{NoReply, Outcome, ReplyKind};
use crate::binding::table::Entry;
use crate::config::Ipv6;
use crate::wire::dhcp6::{self, option, MessageType, ReplyWriter, Request};
use crate::wire::frame::{self, Ipv6Header, IPV6_UDP_PAYLOAD_OFFSET};
use crate::wire::{MacAddr, WireError};

/// RFC 8415 §21.23: IRT_DEFAULT, one day.
const INFORMATION_REFRESH_TIME: u32 = 86_400;
/// Hop limit for the UDP reply; it only ever crosses the tap.
const HOP_LIMIT: u8 = 64;

/// Handles one DHCPv6 packet from a bound tap.
pub fn handle(
    ip_packet: &[u8],
    frame_src: Option<MacAddr>,
    entry: &Entry,
    cfg: &Ipv6,
    out: &mut [u8],
) -> Outcome {
    let parsed = frame::parse_ipv6_udp(ip_packet)
        .and_then(|udp| Request::parse(udp.payload).map(|req| (udp, req)));
    let (udp, req) = match parsed {
        // RFC 8415 §13.1: clients send from a link-local address; `::` cannot be answered.
        Ok((udp, _)) if udp.src.is_unspecified() => {
            return Outcome::NoReply(NoReply::Malformed(WireError::BadAddress))
        }
        Ok(x) => x,
        Err(e) => return Outcome::NoReply(NoReply::Malformed(e)),
    };
    let host_mac = match check(&req, frame_src, entry) {
        Ok(m) => m,
        Err(why) => return Outcome::NoReply(why),
    };
    let hdr = Ipv6Header {
        src_mac: host_mac,
        dst_mac: frame_src.unwrap_or(entry.binding.mac),
        src_ip: host_mac.link_local(),
        dst_ip: udp.src,
        hop_limit: HOP_LIMIT,
    };
    match write_reply(&req, entry, cfg, host_mac, out)
        .and_then(|len| frame::emit_ipv6_udp(out, &hdr, dhcp6::SERVER_PORT, udp.src_port, len))
    {
        Ok(len) => Outcome::Reply {
            len,
            kind: ReplyKind::Dhcp6Reply,
        },
        Err(e) => Outcome::NoReply(NoReply::Malformed(e)),
    }
}

/// RFC 8415 §16.12: an Information-Request with an IA, or for another server, is discarded.
fn check(req: &Request<'_>, frame_src: Option<MacAddr>, entry: &Entry) -> Result<MacAddr, NoReply> {
    let b = &entry.binding;
    if frame_src != Some(b.mac) && !b.macspoof {
        return Err(NoReply::Spoofed);
    }
    if req.msg_type != MessageType::InformationRequest {
        return Err(NoReply::UnexpectedType);
    }
    let host_mac = entry.host_mac.ok_or(NoReply::NoHostMac)?;
    if req.has_ia {
        return Err(NoReply::UnexpectedType);
    }
    if req
        .server_id
        .is_some_and(|id| id != dhcp6::duid_ll(host_mac))
    {
        return Err(NoReply::OtherServer);
    }
    if b.subnet6.is_none() {
        return Err(NoReply::NoIpv6);
    }
    Ok(host_mac)
}

fn write_reply(
    req: &Request<'_>,
    entry: &Entry,
    cfg: &Ipv6,
    host_mac: MacAddr,
    out: &mut [u8],
) -> Result<usize, WireError> {
    let buf = out
        .get_mut(IPV6_UDP_PAYLOAD_OFFSET..)
        .ok_or(WireError::BufferTooSmall)?;
    let mut w = ReplyWriter::new(buf, MessageType::Reply, req.transaction_id)?;
    w.option(option::SERVERID, &dhcp6::duid_ll(host_mac))?;
    if let Some(client_id) = req.client_id {
        w.option(option::CLIENTID, client_id)?;
    }
    w.option_ipv6_list(option::DNS_SERVERS, &cfg.nameservers)?;
    let domains = super::domains(&cfg.domains, entry);
    w.option_domain_list(option::DOMAIN_LIST, domains)?;
    w.option_u32(option::INFORMATION_REFRESH_TIME, INFORMATION_REFRESH_TIME)?;
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::testutil::{self, entry, udp6_packet, v6cfg, vm_ll, HOST_MAC, VM_MAC};
    use crate::wire::frame::ETH_HDR_LEN;
    use dhcproto::v6::{self, DhcpOption as Opt, OptionCode};
    use dhcproto::{Decodable, Encodable};

    const CLIENT_DUID: [u8; 10] = [0, 3, 0, 1, 0xaa, 0x6b, 0x39, 0x22, 0x33, 0x44];

    fn request(kind: v6::MessageType, edit: impl FnOnce(&mut v6::Message)) -> Vec<u8> {
        let mut m = v6::Message::new_with_id(kind, [0x12, 0x34, 0x56]);
        m.opts_mut().insert(Opt::ClientId(CLIENT_DUID.to_vec()));
        edit(&mut m);
        udp6_packet(546, 547, &m.to_vec().expect("encode"))
    }

    fn answer(pkt: &[u8], frame_src: MacAddr, e: &Entry, cfg: &Ipv6) -> Result<Vec<u8>, NoReply> {
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
            Some(&Opt::DomainNameServers(v6cfg().nameservers))
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
        let mut cfg = v6cfg();
        cfg.domains.clear();
        let frame = answer(&info_request(), VM_MAC, &entry(b), &cfg).unwrap();
        let udp = frame::parse_ipv6_udp(&frame[ETH_HDR_LEN..]).unwrap();
        let m = v6::Message::from_bytes(udp.payload).unwrap();
        let Some(Opt::DomainSearchList(names)) = m.opts().get(OptionCode::DomainSearchList) else {
            panic!("no domain list");
        };
        assert_eq!(names[0].to_string(), "example.org.");
    }

    #[test]
    fn other_messages_are_not_answered() {
        let e = entry(testutil::binding());
        let solicit = request(v6::MessageType::Solicit, |_| {});
        assert_eq!(
            answer(&solicit, VM_MAC, &e, &v6cfg()),
            Err(NoReply::UnexpectedType)
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
