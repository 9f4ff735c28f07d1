//! Pure policy: a request, the interface's binding and the configuration in; a finished reply
//! frame, or the reason there is none, out. No I/O, no clocks: everything here is testable
//! from bytes.

pub mod dhcp4;
pub mod dhcp6;
pub mod ndp;
#[cfg(test)]
mod testutil;

use crate::binding::table::Entry;
use crate::wire::WireError;

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
    /// INDEV does not exist (yet) or has no MAC: nothing to send from.
    NoHostMac,
    /// A REQUEST addressed to another server (option 54): the client chose someone else.
    OtherServer,
    /// RELEASE, DECLINE: noted, nothing to answer.
    Informational,
    /// A message type a server does not answer (OFFER, ACK, ... from a VM; DHCPv6 other
    /// than Information-Request).
    UnexpectedType,
    /// The binding has no SUBNET6.
    NoIpv6,
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
            NoReply::Dad { .. } => "dad_probe",
            NoReply::OwnAddress => "own_address",
            NoReply::NotOurTarget => "not_our_target",
        }
    }
}

/// The domain of a host name: the part after its first dot, if any.
pub fn hostname_domain(hostname: &str) -> Option<&str> {
    hostname
        .split_once('.')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// The search list for RA DNSSL and DHCPv6 option 24: the configured `domains`, else the
/// HOSTNAME's domain (resolved once per binding, so nothing is allocated per packet).
pub fn domains<'a>(configured: &'a [String], entry: &'a Entry) -> &'a [String] {
    if configured.is_empty() {
        &entry.fallback_domains
    } else {
        configured
    }
}
