//! Pure policy: a request, the interface's binding and the configuration in; a finished reply
//! frame, or the reason there is none, out. No I/O, no clocks: everything here is testable
//! from bytes.

pub mod dhcp4;
pub mod dhcp6;
pub mod ndp;

use crate::binding::snapshot::Entry;
use crate::config::Config;
use crate::wire::{dhcp4::MessageType, MacAddr, WireError};
use std::net::Ipv6Addr;

/// Which protocol a queue carries (DESIGN.md §1 queue numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Dhcp4,
    RouterSolicit,
    NeighborSolicit,
    Dhcp6,
}

impl QueueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Dhcp4 => "dhcp4",
            QueueKind::RouterSolicit => "rs",
            QueueKind::NeighborSolicit => "ns",
            QueueKind::Dhcp6 => "dhcp6",
        }
    }
}

/// A queued packet: the IP packet as NFQUEUE hands it, and the frame's source MAC as the
/// kernel saw it.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub ip: &'a [u8],
    pub frame_src: Option<MacAddr>,
}

/// What every handler works with besides the request: the interface's entry, the running
/// configuration, and the buffer the reply frame is written into.
pub struct Ctx<'a> {
    pub entry: &'a Entry,
    pub config: &'a Config,
    pub out: &'a mut [u8],
}

/// A handled packet: which request it was (`None` when it did not parse), for counters, and
/// the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handled {
    pub request: Option<RequestKind>,
    pub outcome: Outcome,
}

/// Which request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Dhcp4(MessageType),
    RouterSolicit,
    NeighborSolicit,
    Dhcp6(crate::wire::dhcp6::MessageType),
}

/// One protocol's policy, run by [`handle`] after the shared prologue.
trait Handler {
    /// The parsed request.
    type Request<'p>;
    /// The part of the configuration the protocol needs.
    type Settings<'c>;

    /// `None` when the protocol is switched off (its packets still get their DROP).
    fn settings(config: &Config) -> Option<Self::Settings<'_>>;
    fn parse(ip: &[u8]) -> Result<Self::Request<'_>, WireError>;
    fn kind(req: &Self::Request<'_>) -> RequestKind;
    /// The MAC the request claims inside itself, besides the frame's source (DHCP's chaddr,
    /// NDP's source link-layer option).
    fn claimed_mac(req: &Self::Request<'_>) -> Option<MacAddr>;
    fn answer(req: &Self::Request<'_>, pkt: &Packet, cfg: Self::Settings<'_>, ctx: Ctx) -> Outcome;
}

/// Handles one packet of `kind` from a bound tap: parse, the spoof check, then the
/// protocol's policy.
pub fn handle(kind: QueueKind, pkt: &Packet, ctx: Ctx) -> Handled {
    match kind {
        QueueKind::Dhcp4 => run::<dhcp4::Dhcp4>(pkt, ctx),
        QueueKind::RouterSolicit => run::<ndp::Rs>(pkt, ctx),
        QueueKind::NeighborSolicit => run::<ndp::Ns>(pkt, ctx),
        QueueKind::Dhcp6 => run::<dhcp6::Dhcp6>(pkt, ctx),
    }
}

/// The one prologue every handler shares.
fn run<H: Handler>(pkt: &Packet, ctx: Ctx) -> Handled {
    let no_reply = |request, why| Handled {
        request,
        outcome: Outcome::NoReply(why),
    };
    // A reload cannot switch a feature off, but the type allows it: still a DROP.
    let Some(cfg) = H::settings(ctx.config) else {
        return no_reply(None, NoReply::UnexpectedType);
    };
    let req = match H::parse(pkt.ip) {
        Ok(req) => req,
        Err(e) => return no_reply(None, NoReply::Malformed(e)),
    };
    let request = Some(H::kind(&req));
    if let Err(why) = check_source(ctx.entry, pkt.frame_src, H::claimed_mac(&req)) {
        return no_reply(request, why);
    }
    Handled {
        request,
        outcome: H::answer(&req, pkt, cfg, ctx),
    }
}

/// The frame's source MAC and the MAC the request claims (when it claims one) must both be
/// the binding's, unless the binding sets MACSPOOF.
fn check_source(
    entry: &Entry,
    frame_src: Option<MacAddr>,
    claimed: Option<MacAddr>,
) -> Result<(), NoReply> {
    let b = &entry.binding;
    let ok = frame_src == Some(b.mac) && claimed.is_none_or(|m| m == b.mac);
    if ok || b.macspoof {
        Ok(())
    } else {
        Err(NoReply::Spoofed)
    }
}

/// What a handler decided for a packet from a bound interface (whose verdict is DROP
/// whatever happens here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A frame of `len` bytes was written into the output buffer.
    Reply { len: usize, kind: ReplyKind },
    /// No reply, and why.
    NoReply(NoReply),
}

/// Which reply was built, for counters and debug logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Offer,
    Ack,
    Nak,
    Ra,
    Na,
    Dhcp6Advertise,
    Dhcp6Reply,
}

/// Why a packet from a bound interface gets no reply. Small and `Copy`: maps to a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoReply {
    /// The packet could not be parsed.
    Malformed(WireError),
    /// Source MAC (frame or chaddr) is not the binding's, and MACSPOOF is not set.
    Spoofed,
    /// The binding has no IP to hand out.
    NoIp,
    /// server_on_link is set but the binding has neither GATEWAY nor SUBNET.
    NoServerAddr,
    /// The binding is inactive: INDEV does not exist (yet) or has no MAC, nothing to send
    /// from (decided when the snapshot was built, before any handler runs).
    NoHostMac,
    /// A REQUEST addressed to another server (option 54): the client chose someone else.
    OtherServer,
    /// RELEASE, DECLINE: noted, nothing to answer.
    Informational,
    /// A message type a server does not answer (OFFER, ACK, ... from a VM; DHCPv6
    /// Advertise, Reply, Reconfigure, relay messages, unknown types).
    UnexpectedType,
    /// The binding has no SUBNET6.
    NoIpv6,
    /// A DHCPv6 message RFC 8415 §16 says to discard: no Client Identifier, a Server
    /// Identifier missing where one is required or present where none may be, an
    /// Information-Request with an IA, a Confirm that names no address.
    Invalid,
    /// A DHCPv6 Solicit, Rebind or Confirm sent to a unicast address (RFC 8415 §16).
    Unicast,
    /// A duplicate address detection probe (NS from `::`): must stay unanswered. For a
    /// link-local target it also tells that the VM is bringing an interface up.
    Dad { link_local: bool },
    /// An NS for the VM's own address: answering would break its DAD.
    OwnAddress,
    /// An NS for an address that is neither the router's nor in SUBNET6.
    NotOurTarget,
}

impl NoReply {
    pub fn as_str(self) -> &'static str {
        match self {
            NoReply::Malformed(e) => e.as_str(),
            NoReply::Spoofed => "spoofed",
            NoReply::NoIp => "no_ip",
            NoReply::NoServerAddr => "no_server_addr",
            NoReply::NoHostMac => "no_host_mac",
            NoReply::OtherServer => "other_server",
            NoReply::Informational => "informational",
            NoReply::UnexpectedType => "unexpected_type",
            NoReply::NoIpv6 => "no_ipv6",
            NoReply::Invalid => "invalid",
            NoReply::Unicast => "unicast",
            NoReply::Dad { .. } => "dad_probe",
            NoReply::OwnAddress => "own_address",
            NoReply::NotOurTarget => "not_our_target",
        }
    }
}

/// The DNS servers for RA RDNSS and DHCPv6 option 23: the binding's NAMESERVERS6 when it
/// has some, else the configured `[ipv6] nameservers`. Borrowed: nothing is allocated per
/// packet.
pub fn nameservers6<'a>(configured: &'a [Ipv6Addr], entry: &'a Entry) -> &'a [Ipv6Addr] {
    per_vm_or(&entry.binding.nameservers6, configured)
}

/// A per-VM list over the configured one: the binding's when it is not empty (how every
/// per-binding list overrides its config key, e.g. a per-VM search list for `domains`).
pub fn per_vm_or<'a, T>(per_vm: &'a [T], configured: &'a [T]) -> &'a [T] {
    if per_vm.is_empty() {
        configured
    } else {
        per_vm
    }
}

/// The search list for RA DNSSL and DHCPv6 option 24: the binding's DOMAIN_SEARCH, else the
/// configured `domains`, else the HOSTNAME's domain (resolved once per binding, so nothing
/// is allocated per packet).
pub fn domains<'a>(configured: &'a [String], entry: &'a Entry) -> &'a [String] {
    let list = per_vm_or(&entry.binding.domain_search, configured);
    per_vm_or(list, &entry.fallback_domains)
}
