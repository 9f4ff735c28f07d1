//! Counters for every outcome a packet can have, dumped on SIGUSR1 and exported as metrics
//! (`metrics`): each is declared once, in its family, with its label value.
//!
//! Relaxed atomics: each counter is a tally, never used to order other memory.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($(
        $(#[doc = $help:literal])+
        $family:ident $( [$label:ident] )? {
            $( $name:ident $( = $value:literal )? ),* $(,)?
        }
    )*) => {
        /// Every counter the daemon keeps. Field names are the labels in the dump.
        #[derive(Default, Debug)]
        pub struct Stats { $($(pub $name: AtomicU64,)*)* }

        impl Stats {
            /// `(label, value)` pairs in declaration order.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$($((stringify!($name), self.$name.load(Ordering::Relaxed)),)*)*]
            }

            /// Every counter as a metric sample, in declaration order.
            pub fn samples(&self) -> Vec<Sample> {
                vec![$($(Sample {
                    family: &FAMILIES[Family::$family as usize],
                    label_value: counters!(@opt $($value)?),
                    value: self.$name.load(Ordering::Relaxed),
                },)*)*]
            }
        }

        /// The metric families, in declaration order.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy)]
        enum Family { $($family,)* }

        /// Name, help text and label of each family (Prometheus: `nfdhcpd_<name>_total`).
        pub static FAMILIES: &[MetricFamily] = &[$(MetricFamily {
            name: stringify!($family),
            help: concat!($($help),+),
            label: counters!(@opt $(stringify!($label))?),
        },)*];
    };
    (@opt) => { None };
    (@opt $x:expr) => { Some($x) };
}

/// A counter family of the metrics (one `# HELP`/`# TYPE` block).
#[derive(Debug, PartialEq, Eq)]
pub struct MetricFamily {
    pub name: &'static str,
    pub help: &'static str,
    /// The label that tells its counters apart; `None` for a family of one counter.
    pub label: Option<&'static str>,
}

/// One counter's value with its family and label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub family: &'static MetricFamily,
    /// The value of the family's label; `None` when it has none.
    pub label_value: Option<&'static str>,
    pub value: u64,
}

counters! {
    /// Packets read from a queue, by queue.
    packets [queue] {
        dhcp4_packets = "dhcp4",
        rs_packets = "rs",
        ns_packets = "ns",
        dhcp6_packets = "dhcp6",
    }
    /// Verdicts: ACCEPT for an unbound interface (untouched), DROP for a bound one.
    verdicts [verdict] {
        accepted_unbound = "accept_unbound",
        dropped_bound = "drop_bound",
    }
    /// Requests from bound interfaces, by message type.
    requests [kind] {
        dhcp4_discover = "dhcp4_discover",
        dhcp4_request = "dhcp4_request",
        dhcp4_inform = "dhcp4_inform",
        dhcp4_release = "dhcp4_release",
        dhcp4_decline = "dhcp4_decline",
        dhcp4_other_type = "dhcp4_other",
        // DHCPv6 by message type (relay and server messages from a VM: other).
        dhcp6_solicit = "dhcp6_solicit",
        dhcp6_request = "dhcp6_request",
        dhcp6_confirm = "dhcp6_confirm",
        dhcp6_renew = "dhcp6_renew",
        dhcp6_rebind = "dhcp6_rebind",
        dhcp6_release = "dhcp6_release",
        dhcp6_decline = "dhcp6_decline",
        dhcp6_information_request = "dhcp6_information_request",
        dhcp6_relay = "dhcp6_relay",
        dhcp6_other_type = "dhcp6_other",
    }
    /// Replies built, by kind (RAs: solicited or periodic).
    replies [kind] {
        dhcp4_offer = "dhcp4_offer",
        dhcp4_ack = "dhcp4_ack",
        dhcp4_nak = "dhcp4_nak",
        ra_solicited = "ra_solicited",
        ra_periodic = "ra_periodic",
        na_sent = "na",
        dhcp6_advertise = "dhcp6_advertise",
        dhcp6_reply = "dhcp6_reply",
    }
    /// Announcements of a binding that appeared or moved (see `announce`).
    announcements [kind] {
        garp_sent = "garp",
        na_unsolicited = "unsolicited_na",
    }
    /// Packets from bound interfaces that got no reply, by reason.
    drops [reason] {
        drop_rate_limited = "rate_limited",
        drop_malformed = "malformed",
        drop_spoofed = "spoofed",
        drop_no_ip = "no_ip",
        drop_no_server_addr = "no_server_addr",
        drop_no_host_mac = "no_host_mac",
        drop_other_server = "other_server",
        drop_unexpected_type = "unexpected_type",
        // Genuine RELEASE and DECLINE: noted, nothing to answer.
        drop_informational = "informational",
        drop_no_ipv6 = "no_ipv6",
        drop_invalid = "invalid",
        drop_unicast = "unicast",
        drop_dad_probe = "dad_probe",
        drop_own_address = "own_address",
        drop_not_our_target = "not_our_target",
        drop_internal_error = "internal_error",
    }
    /// Replies that found the sender's queue full (dropped unsent).
    reply_queue_full { reply_queue_full }
    /// Frames written to a tap.
    sent { sent }
    /// Frames the packet socket refused.
    send_errors { send_errors }
    /// Failed reads from a queue (the kernel also reports failed verdicts there).
    queue_recv_errors { queue_recv_errors }
    /// Verdicts the kernel refused.
    verdict_errors { verdict_errors }
}

impl Stats {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters as one `key=value` line, for the log.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.snapshot() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(&value.to_string());
        }
        out
    }
}

/// The kernel's own counters for one NFQUEUE (`/proc/net/netfilter/nfnetlink_queue`):
/// packets dropped because the queue was full, and because our socket buffer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelQueue {
    pub queue: u16,
    pub waiting: u64,
    pub queue_dropped: u64,
    pub user_dropped: u64,
}

/// Parses the kernel's queue table (one line per bound queue: number, portid, waiting,
/// copy mode, copy range, queue_dropped, user_dropped, id sequence, 1).
pub fn kernel_queues(text: &str) -> Vec<KernelQueue> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<u64> = line
                .split_whitespace()
                .map(|w| w.parse().ok())
                .collect::<Option<_>>()?;
            Some(KernelQueue {
                queue: u16::try_from(*f.first()?).ok()?,
                waiting: *f.get(2)?,
                queue_dropped: *f.get(5)?,
                user_dropped: *f.get(6)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every counter is a sample of its family; a labelled family's counters have distinct
    /// label values, an unlabelled family has one counter.
    #[test]
    fn every_counter_is_one_sample() {
        let stats = Stats::default();
        Stats::add(&stats.drop_spoofed, 3);
        let samples = stats.samples();
        assert_eq!(samples.len(), stats.snapshot().len());
        for family in FAMILIES {
            let of: Vec<&Sample> = samples
                .iter()
                .filter(|s| std::ptr::eq(s.family, family))
                .collect();
            match family.label {
                None => assert_eq!(of.len(), 1, "{}", family.name),
                Some(_) => {
                    let mut values: Vec<_> = of.iter().map(|s| s.label_value.unwrap()).collect();
                    values.sort_unstable();
                    values.dedup();
                    assert_eq!(values.len(), of.len(), "{}", family.name);
                }
            }
            assert!(of
                .iter()
                .all(|s| s.label_value.is_some() == family.label.is_some()));
        }
        let spoofed = samples
            .iter()
            .find(|s| s.label_value == Some("spoofed"))
            .unwrap();
        assert_eq!((spoofed.family.name, spoofed.value), ("drops", 3));
    }

    #[test]
    fn kernel_queue_table() {
        let text = "   42  27160     0 2  4096     3     7        9  1\n   43  27160     2 2  4096     0     0        0  1\n";
        let q = kernel_queues(text);
        assert_eq!(q.len(), 2);
        assert_eq!(
            q[0],
            KernelQueue {
                queue: 42,
                waiting: 0,
                queue_dropped: 3,
                user_dropped: 7
            }
        );
        assert_eq!(q[1].waiting, 2);
        assert!(kernel_queues("garbage\n").is_empty());
    }
}
