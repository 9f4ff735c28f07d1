//! What each IA of a Solicit, Request, Renew or Rebind gets, from the binding alone.
//!
//! The binding is the lease: its IP6 addresses (or the EUI-64 default) go into the first
//! IA_NA, its DELEGATED6 prefixes into the first IA_PD, every time, with the configured
//! lifetimes. Nothing is allocated or remembered per request; the entry remembers what an
//! earlier version of the file handed out ([`Previous6`]).
//!
//! Renew and Rebind (RFC 8415 §18.3.4, §18.3.5): an IA that holds one of the binding's
//! leases, current or previous (or holds none: the client asks afresh), gets the current
//! ones, and every other lease it names back with lifetimes 0, so a VM whose IP6 changed
//! moves to the new address at its next renewal. An IA that names only leases this VM never
//! had gets NoBinding, and the client starts over with a Request.

use super::NoReply;
use crate::binding::file::{MAX_DELEGATED6, MAX_IP6};
use crate::binding::snapshot::{Entry, Previous6};
use crate::config::Ipv6;
use crate::wire::dhcp6::{
    Ia, IaAddress, IaHeader, IaKind, IaPrefix, Lease, MessageType, ReplyWriter, Request, StatusCode,
};
use crate::wire::WireError;
use ipnetwork::Ipv6Network;

/// The most IAs of a message answered: clients ask for one of each; more only make a
/// reply larger.
const MAX_IAS: usize = 8;
/// The most leases one IA of a reply holds: the binding's, then old ones at lifetime 0.
const MAX_LEASES: usize = 16;
const _: () = assert!(MAX_IP6 < MAX_LEASES && MAX_DELEGATED6 < MAX_LEASES);

/// Writes the IAs of the reply. An Advertise that could assign nothing at all carries no IA
/// and a top-level NoAddrsAvail instead (RFC 8415 §18.3.9).
pub(super) fn write(
    w: &mut ReplyWriter<'_>,
    req: &Request<'_>,
    entry: &Entry,
    cfg: &Ipv6,
    extend: bool,
    msg_type: MessageType,
) -> Result<(), WireError> {
    let times = Times::from(cfg);
    if msg_type == MessageType::Advertise && !assigns_any(req, entry) {
        return w.option_status(StatusCode::NoAddrsAvail, "nothing to assign to this VM");
    }
    let mut first = Firsts::default();
    for ia in req.ias().take(MAX_IAS) {
        let answer = answer_ia(&ia, entry, times, extend, first.take(ia.kind));
        let has_leases = answer.len > 0;
        let header = IaHeader {
            kind: ia.kind,
            iaid: ia.iaid,
            t1: if has_leases { times.t1 } else { 0 },
            t2: if has_leases { times.t2 } else { 0 },
        };
        w.option_ia(header, answer.leases(), answer.status)?;
    }
    Ok(())
}

/// Confirm (§18.3.3): Success when every address it names is on this VM's link, NotOnLink
/// otherwise; no reply at all when it names none.
pub(super) fn confirm(
    req: &Request<'_>,
    entry: &Entry,
) -> Result<(StatusCode, &'static str), NoReply> {
    let b = &entry.binding;
    let mut addrs = req
        .ias()
        .filter(|ia| ia.kind != IaKind::Pd)
        .flat_map(|ia| ia.addresses())
        .peekable();
    if addrs.peek().is_none() {
        return Err(NoReply::Invalid);
    }
    let on_link =
        |a: &IaAddress| b.ip6.contains(&a.addr) || b.subnet6.is_some_and(|n| n.contains(a.addr));
    if addrs.all(|a| on_link(&a)) {
        Ok((StatusCode::Success, "all addresses on link"))
    } else {
        Ok((StatusCode::NotOnLink, "not this link's prefix"))
    }
}

/// Lifetimes and renewal times from `[ipv6]`: valid = preferred = lease_lifetime; T1 =
/// lease_renewal (at most the lifetime), T2 = 4/5 of the lifetime (RFC 8415 §21.4's
/// recommendation) and never below T1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Times {
    lifetime: u32,
    t1: u32,
    t2: u32,
}

impl From<&Ipv6> for Times {
    fn from(cfg: &Ipv6) -> Times {
        let lifetime = cfg.lease_lifetime;
        let t1 = cfg.lease_renewal.min(lifetime);
        let t2 = ((u64::from(lifetime) * 4 / 5) as u32).max(t1);
        Times { lifetime, t1, t2 }
    }
}

/// Whether this IA kind has been answered already in this message: the binding's leases go
/// to the first IA of each kind only (an address belongs to one IA).
#[derive(Debug, Default)]
struct Firsts {
    na: bool,
    pd: bool,
}

impl Firsts {
    /// True for the first IA of `kind` (IA_TA is never served, so never "first").
    fn take(&mut self, kind: IaKind) -> bool {
        let seen = match kind {
            IaKind::Na => &mut self.na,
            IaKind::Pd => &mut self.pd,
            IaKind::Ta => return false,
        };
        !std::mem::replace(seen, true)
    }
}

/// Whether some IA of the message would get a lease.
fn assigns_any(req: &Request<'_>, entry: &Entry) -> bool {
    let b = &entry.binding;
    req.ias().any(|ia| match ia.kind {
        IaKind::Na => !b.ip6.is_empty(),
        IaKind::Pd => !b.delegated6.is_empty(),
        IaKind::Ta => false,
    })
}

/// One IA's part of the reply: its leases, and a status inside it when there is one.
#[derive(Debug)]
struct IaAnswer {
    items: [Lease; MAX_LEASES],
    len: usize,
    status: Option<(StatusCode, &'static str)>,
}

const NO_LEASE: Lease = Lease::Address(IaAddress {
    addr: std::net::Ipv6Addr::UNSPECIFIED,
    preferred: 0,
    valid: 0,
});

impl IaAnswer {
    fn status(code: StatusCode, text: &'static str) -> IaAnswer {
        IaAnswer {
            items: [NO_LEASE; MAX_LEASES],
            len: 0,
            status: Some((code, text)),
        }
    }

    fn empty() -> IaAnswer {
        IaAnswer {
            status: None,
            ..IaAnswer::status(StatusCode::Success, "")
        }
    }

    /// Adds a lease; past `MAX_LEASES` it is left out (only old leases at lifetime 0 can
    /// get that far: the binding's own fit).
    fn push(&mut self, lease: Lease) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = lease;
            self.len += 1;
        }
    }

    fn leases(&self) -> &[Lease] {
        &self.items[..self.len]
    }
}

fn answer_ia(ia: &Ia<'_>, entry: &Entry, times: Times, extend: bool, first: bool) -> IaAnswer {
    match ia.kind {
        IaKind::Ta => IaAnswer::status(
            StatusCode::NoAddrsAvail,
            "temporary addresses are not served",
        ),
        IaKind::Na if !first => {
            IaAnswer::status(StatusCode::NoAddrsAvail, "addresses go to the first IA_NA")
        }
        IaKind::Pd if !first => {
            IaAnswer::status(StatusCode::NoPrefixAvail, "prefixes go to the first IA_PD")
        }
        IaKind::Na => addresses(ia, entry, times, extend),
        IaKind::Pd => prefixes(ia, entry, times, extend),
    }
}

fn addresses(ia: &Ia<'_>, entry: &Entry, times: Times, extend: bool) -> IaAnswer {
    let current = &entry.binding.ip6;
    if current.is_empty() {
        return IaAnswer::status(StatusCode::NoAddrsAvail, "no address for this VM");
    }
    let Previous6 {
        addrs: previous, ..
    } = &entry.previous6;
    if extend && !holds_ours(ia.addresses().map(|a| a.addr), current, previous) {
        return IaAnswer::status(StatusCode::NoBinding, "not this VM's address");
    }
    let mut answer = IaAnswer::empty();
    for &addr in current {
        answer.push(Lease::Address(IaAddress {
            addr,
            preferred: times.lifetime,
            valid: times.lifetime,
        }));
    }
    if extend {
        for a in ia.addresses().filter(|a| !current.contains(&a.addr)) {
            answer.push(Lease::Address(IaAddress {
                addr: a.addr,
                preferred: 0,
                valid: 0,
            }));
        }
    }
    answer
}

fn prefixes(ia: &Ia<'_>, entry: &Entry, times: Times, extend: bool) -> IaAnswer {
    let current = &entry.binding.delegated6;
    if current.is_empty() {
        return IaAnswer::status(
            StatusCode::NoPrefixAvail,
            "no prefix is delegated to this VM",
        );
    }
    let asked = || {
        ia.prefixes()
            .filter_map(|p| Ipv6Network::new(p.prefix, p.len).ok())
    };
    if extend && !holds_ours(asked(), current, &entry.previous6.prefixes) {
        return IaAnswer::status(StatusCode::NoBinding, "not this VM's prefix");
    }
    let mut answer = IaAnswer::empty();
    for net in current {
        answer.push(Lease::Prefix(IaPrefix {
            prefix: net.network(),
            len: net.prefix(),
            preferred: times.lifetime,
            valid: times.lifetime,
        }));
    }
    if extend {
        for p in ia.prefixes() {
            if Ipv6Network::new(p.prefix, p.len).is_ok_and(|n| current.contains(&n)) {
                continue;
            }
            answer.push(Lease::Prefix(IaPrefix {
                preferred: 0,
                valid: 0,
                ..p
            }));
        }
    }
    answer
}

/// Whether a Renew/Rebind IA names nothing (a fresh ask) or one of this VM's leases, current
/// or previous.
fn holds_ours<T: PartialEq>(
    mut asked: impl Iterator<Item = T>,
    current: &[T],
    previous: &[T],
) -> bool {
    let mut any = false;
    let ours = asked.any(|x| {
        any = true;
        current.contains(&x) || previous.contains(&x)
    });
    ours || !any
}
