//! What readers see of the bindings: the servable [`Entry`], the [`Snapshot`] the workers and
//! the RA timer load, and the [`Change`] notice the registry sends when an entry becomes
//! active or changes.
//!
//! An entry is built in one place, [`Entry::resolve`], which resolves the host-side facts a
//! reply needs (the tap's ifindex, INDEV's MAC, the fallback search domain) once per binding
//! change instead of per packet. A binding whose tap exists but whose INDEV has no MAC is
//! published as [`Slot::Inactive`]: its packets are still DROPped (the interface is bound), but
//! no handler ever sees an entry without a host MAC.

use super::file::Binding;
use super::links::Link;
use crate::events::EventLog;
use crate::wire::MacAddr;
use arc_swap::ArcSwap;
use ipnetwork::Ipv6Network;
use std::collections::HashMap;
use std::net::Ipv6Addr;
use std::sync::Arc;

/// A binding whose tap exists and whose INDEV has a MAC: everything a reply needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub binding: Arc<Binding>,
    /// The tap's ifindex: the key NFQUEUE packets are looked up by, and where replies go.
    pub ifindex: u32,
    /// INDEV's MAC: the source of every reply.
    pub host_mac: MacAddr,
    /// The HOSTNAME's domain as a one-item search list, for RA DNSSL and DHCPv6 when no
    /// `domains` are configured.
    pub fallback_domains: Vec<String>,
    /// The tap is operationally up. A change makes a new entry, so a VM whose link just
    /// came up gets its RA at once (the registry announces changed entries).
    pub running: bool,
    /// What the binding handed out over DHCPv6 before its file changed, so that the next
    /// Renew of an old address gets it back with lifetimes 0 (RFC 8415 §18.3.4) instead of
    /// NoBinding. Kept in memory only: a restart forgets it.
    pub previous6: Previous6,
    /// The tap's last packets' fate, kept across changes of the binding.
    pub events: EventLog,
}

/// IA_NA addresses and IA_PD prefixes a binding no longer has, newest first, at most
/// [`Previous6::MAX`] of each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Previous6 {
    pub addrs: Vec<Ipv6Addr>,
    pub prefixes: Vec<Ipv6Network>,
}

impl Previous6 {
    /// How many of each are remembered: a VM renews within T1, so only the last few
    /// changes of its file matter.
    pub const MAX: usize = 8;

    /// What `now` no longer has of `old` (its current leases and what it remembered).
    fn after(old: &Binding, remembered: &Previous6, now: &Binding) -> Previous6 {
        Previous6 {
            addrs: dropped(&old.ip6, &remembered.addrs, &now.ip6),
            prefixes: dropped(&old.delegated6, &remembered.prefixes, &now.delegated6),
        }
    }
}

/// `old` then `remembered`, without what `now` has and without repeats, at most `MAX`.
fn dropped<T: PartialEq + Copy>(old: &[T], remembered: &[T], now: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in old.iter().chain(remembered) {
        if !now.contains(x) && !out.contains(x) && out.len() < Previous6::MAX {
            out.push(*x);
        }
    }
    out
}

/// Why a bound tap that exists is not served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inactive {
    /// INDEV does not exist (yet) or has no MAC: nothing to send replies from.
    NoHostMac,
}

impl Inactive {
    pub fn as_str(self) -> &'static str {
        match self {
            Inactive::NoHostMac => "INDEV has no MAC or does not exist; no replies until it does",
        }
    }
}

/// A bound tap as readers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    Active(Entry),
    /// Bound (its packets are dropped, not passed on) but not answered.
    Inactive {
        binding: Arc<Binding>,
        ifindex: u32,
        why: Inactive,
        events: EventLog,
    },
}

impl Slot {
    pub fn binding(&self) -> &Arc<Binding> {
        match self {
            Slot::Active(e) => &e.binding,
            Slot::Inactive { binding, .. } => binding,
        }
    }

    pub fn ifindex(&self) -> u32 {
        match self {
            Slot::Active(e) => e.ifindex,
            Slot::Inactive { ifindex, .. } => *ifindex,
        }
    }

    pub fn active(&self) -> Option<&Entry> {
        match self {
            Slot::Active(e) => Some(e),
            Slot::Inactive { .. } => None,
        }
    }

    pub fn events(&self) -> &EventLog {
        match self {
            Slot::Active(e) => &e.events,
            Slot::Inactive { events, .. } => events,
        }
    }
}

impl Entry {
    /// The one constructor: `binding` on `tap`, sending from `indev` (None when INDEV does
    /// not exist). Inactive when INDEV has no MAC.
    pub fn resolve(binding: &Arc<Binding>, tap: &Link, indev: Option<&Link>) -> Slot {
        let Some(host_mac) = indev.and_then(|l| l.mac) else {
            return Slot::Inactive {
                binding: Arc::clone(binding),
                ifindex: tap.ifindex,
                why: Inactive::NoHostMac,
                events: EventLog::new(),
            };
        };
        let fallback_domains = binding.hostname_domain.iter().cloned().collect();
        Slot::Active(Entry {
            binding: Arc::clone(binding),
            ifindex: tap.ifindex,
            host_mac,
            fallback_domains,
            running: tap.running,
            previous6: Previous6::default(),
            events: EventLog::new(),
        })
    }
}

impl Slot {
    /// This slot, remembering what `old` (the tap's slot before this change) handed out over
    /// DHCPv6 that this one does not, and keeping its events.
    pub fn following(mut self, old: Option<&Slot>) -> Slot {
        let Some(old) = old else {
            return self;
        };
        match &mut self {
            Slot::Active(entry) => {
                let remembered = old.active().map(|e| &e.previous6);
                let empty = Previous6::default();
                entry.previous6 =
                    Previous6::after(old.binding(), remembered.unwrap_or(&empty), &entry.binding);
                entry.events = old.events().clone();
            }
            Slot::Inactive { events, .. } => *events = old.events().clone(),
        }
        self
    }
}

/// What workers read: bound taps by ifindex.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub(super) by_ifindex: HashMap<u32, Arc<Slot>>,
}

impl Snapshot {
    /// The bound tap with this ifindex, servable or not.
    pub fn get(&self, ifindex: u32) -> Option<&Slot> {
        self.by_ifindex.get(&ifindex).map(|s| &**s)
    }

    /// The servable entry with this ifindex.
    pub fn active(&self, ifindex: u32) -> Option<&Entry> {
        self.get(ifindex).and_then(Slot::active)
    }

    /// Bound taps, servable or not.
    pub fn len(&self) -> usize {
        self.by_ifindex.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ifindex.is_empty()
    }

    /// The servable entries.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.by_ifindex.values().filter_map(|s| s.active())
    }

    /// Every bound tap sorted by name, for the SIGUSR1 dump.
    pub fn sorted(&self) -> Vec<Arc<Slot>> {
        let mut v: Vec<_> = self.by_ifindex.values().cloned().collect();
        v.sort_by(|a, b| a.binding().tap.cmp(&b.binding().tap));
        v
    }
}

pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// Why one interface should get an RA now, outside the periodic rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The interface became active or its binding changed (from the registry).
    Changed(u32),
    /// The VM sent a DAD probe for a link-local address: its IPv6 stack is coming up. An
    /// RA now lets the kernel start DAD for its global address alongside the link-local's,
    /// instead of a second after, when its RS would have been answered; a VM's usable
    /// address comes about a second sooner. The RA timer allows at most one per
    /// `ra::MIN_DELAY_BETWEEN_RAS` per interface, so probes never turn into an RA flood.
    Probe(u32),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(ifindex: u32, mac: Option<MacAddr>) -> Link {
        Link {
            ifindex,
            name: format!("if{ifindex}"),
            mac,
            running: true,
        }
    }

    fn binding(hostname: &str) -> Arc<Binding> {
        let text = format!("MAC=aa:6b:39:22:33:44\nIP=192.0.2.10\nHOSTNAME={hostname}\n");
        Arc::new(super::super::file::parse("tap0", &text).expect("valid"))
    }

    #[test]
    fn resolve_needs_a_host_mac() {
        let b = binding("vm1.example.org");
        let mac = MacAddr([2, 0, 0, 0, 0, 3]);
        let Slot::Active(e) = Entry::resolve(&b, &link(5, None), Some(&link(3, Some(mac)))) else {
            panic!("INDEV has a MAC: active");
        };
        assert_eq!((e.ifindex, e.host_mac), (5, mac));
        assert_eq!(e.fallback_domains, ["example.org"]);
        for indev in [None, Some(link(3, None))] {
            let slot = Entry::resolve(&b, &link(5, None), indev.as_ref());
            assert_eq!(slot.active(), None);
            assert_eq!(slot.ifindex(), 5);
        }
    }
}
