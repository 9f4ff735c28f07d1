//! Stateless DHCPv6 policy (RFC 8415 §18.3.6): Information-Request -> Reply with DNS servers
//! (23), domain search list (24) and an information refresh time (32).
//!
//! Fixes over the original (REFERENCE.md §1.9): the reply goes to the request's source
//! address (not an EUI-64 guess), the server DUID is stable per interface (DUID-LL of INDEV's
//! MAC, not a new DUID-LLT per reply), the source MAC is checked like for RS/NS.

use super::{NoReply, Outcome, ReplyKind};
use crate::binding::table::Entry;
use crate::config::Ipv6;
use crate::wire::dhcp6::{self, msg_type, option, ReplyWriter, Request};
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
    if req.msg_type != msg_type::INFORMATION_REQUEST {
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
    let mut w = ReplyWriter::new(buf, msg_type::REPLY, req.transaction_id)?;
    w.option(option::SERVERID, &dhcp6::duid_ll(host_mac))?;
    if let Some(client_id) = req.client_id {
        w.option(option::CLIENTID, client_id)?;
    }
    w.option_ipv6_list(option::DNS_SERVERS, &cfg.nameservers)?;
    let domains = super::domains(&cfg.domains, entry.binding.hostname.as_deref());
    w.option_domain_list(option::DOMAIN_LIST, &domains)?;
    w.option_u32(option::INFORMATION_REFRESH_TIME, INFORMATION_REFRESH_TIME)?;
    Ok(w.finish())
}
