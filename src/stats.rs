//! Counters for every outcome a packet can have, dumped on SIGUSR1.
//!
//! Relaxed atomics: each counter is a tally, never used to order other memory.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// Every counter the daemon keeps. Field names are the labels in the dump.
        #[derive(Default, Debug)]
        pub struct Stats { $(pub $name: AtomicU64,)* }

        impl Stats {
            /// `(label, value)` pairs in declaration order.
            pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name.load(Ordering::Relaxed)),)*]
            }
        }
    };
}

counters! {
    // Packets seen per queue kind, and the verdicts they got.
    dhcp4_packets,
    rs_packets,
    ns_packets,
    dhcp6_packets,
    accepted_unbound,
    dropped_bound,
    // DHCPv4 requests by message type.
    dhcp4_discover,
    dhcp4_request,
    dhcp4_inform,
    dhcp4_release,
    dhcp4_decline,
    dhcp4_other_type,
    // DHCPv6 requests by message type (relay and server messages from a VM: other_type).
    dhcp6_solicit,
    dhcp6_request,
    dhcp6_confirm,
    dhcp6_renew,
    dhcp6_rebind,
    dhcp6_release,
    dhcp6_decline,
    dhcp6_information_request,
    dhcp6_relay,
    dhcp6_other_type,
    // Replies built.
    dhcp4_offer,
    dhcp4_ack,
    dhcp4_nak,
    ra_solicited,
    ra_periodic,
    na_sent,
    dhcp6_advertise,
    dhcp6_reply,
    // Announcements of a binding that appeared or moved (see `announce`).
    garp_sent,
    na_unsolicited,
    // Why a packet from a bound interface got no reply.
    drop_rate_limited,
    drop_malformed,
    drop_spoofed,
    drop_no_ip,
    drop_no_server_addr,
    drop_no_host_mac,
    drop_other_server,
    drop_unexpected_type,
    // Genuine RELEASE and DECLINE: noted, nothing to answer.
    drop_informational,
    drop_no_ipv6,
    drop_invalid,
    drop_unicast,
    drop_dad_probe,
    drop_own_address,
    drop_not_our_target,
    drop_internal_error,
    // The path from a worker to the tap.
    reply_queue_full,
    sent,
    send_errors,
    // Kernel-side trouble.
    queue_recv_errors,
    verdict_errors,
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
