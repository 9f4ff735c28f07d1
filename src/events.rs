//! What happened to each bound interface's last packets, and live tracing.
//!
//! [`EventLog`]: per bound tap, a small ring of the last [`EventLog::CAPACITY`] decisions
//! (which request, when, replied with what or dropped and why), allocated when the binding
//! is published and filled on the packet path without allocating; `nfdhcpd ctl show TAP`
//! prints it. It survives changes of the binding (the registry hands it from one entry to
//! the next) and goes with the binding file.
//!
//! [`Trace`]: while someone runs `nfdhcpd ctl trace`, queue threads also hand each decision
//! with copies of the request and the reply to the control server, which decodes and
//! streams them. With nobody tracing this costs one relaxed load per packet.

use crate::reply::{NoReply, QueueKind, ReplyKind, RequestKind};
use crate::wire::MacAddr;
use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// One packet's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// Milliseconds since the epoch.
    pub at_ms: u64,
    pub queue: QueueKind,
    /// `None` when the packet did not parse (or was dropped before parsing: rate limit).
    pub request: Option<RequestKind>,
    pub decision: Decision,
    /// The frame's source MAC as the kernel saw it.
    pub frame_src: Option<MacAddr>,
}

/// Replied, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Replied(ReplyKind),
    NoReply(NoReply),
    /// Over the interface's rate limit: dropped before parsing.
    RateLimited,
}

impl Event {
    /// An event of now.
    pub fn now(
        queue: QueueKind,
        request: Option<RequestKind>,
        decision: Decision,
        frame_src: Option<MacAddr>,
    ) -> Event {
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Event {
            at_ms,
            queue,
            request,
            decision,
            frame_src,
        }
    }
}

/// The ring itself.
#[derive(Debug)]
struct Ring {
    slots: [Option<Event>; EventLog::CAPACITY],
    /// Events recorded so far; the next goes to `total % CAPACITY`.
    total: u64,
}

/// A tap's last events, shared by the entries its binding goes through. Compares equal to
/// any other: the events are not part of what a binding is (entries are compared to tell
/// whether a binding changed).
#[derive(Debug, Clone)]
pub struct EventLog(Arc<Mutex<Ring>>);

impl EventLog {
    /// How many events a tap keeps: enough to see a client's last exchange or two.
    pub const CAPACITY: usize = 16;

    pub fn new() -> EventLog {
        EventLog(Arc::new(Mutex::new(Ring {
            slots: [None; Self::CAPACITY],
            total: 0,
        })))
    }

    /// Records one event (the packet path: no allocation, a short uncontended lock).
    pub fn record(&self, event: Event) {
        let mut ring = self.0.lock();
        let at = (ring.total % Self::CAPACITY as u64) as usize;
        if let Some(slot) = ring.slots.get_mut(at) {
            *slot = Some(event);
        }
        ring.total += 1;
    }

    /// The events kept, oldest first, and how many were recorded in all.
    pub fn recent(&self) -> (Vec<Event>, u64) {
        let ring = self.0.lock();
        let n = Self::CAPACITY as u64;
        let start = ring.total.saturating_sub(n);
        let events = (start..ring.total)
            .filter_map(|i| ring.slots.get((i % n) as usize).copied().flatten())
            .collect();
        (events, ring.total)
    }
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog::new()
    }
}

impl PartialEq for EventLog {
    fn eq(&self, _: &EventLog) -> bool {
        true
    }
}

impl Eq for EventLog {}

/// One traced packet: the decision, and copies of the request (from its IP header) and of
/// the reply frame, for decoding.
#[derive(Debug, Clone)]
pub struct Traced {
    pub tap: String,
    pub event: Event,
    pub request: Vec<u8>,
    pub reply: Vec<u8>,
}

/// Traced packets on their way to the control server; dropped when it falls behind.
#[derive(Debug)]
pub struct Trace {
    listeners: AtomicUsize,
    tx: Sender<Traced>,
    rx: Receiver<Traced>,
}

impl Trace {
    /// How many traced packets may wait for the control server.
    const BACKLOG: usize = 4096;

    pub fn new() -> Trace {
        let (tx, rx) = crossbeam_channel::bounded(Self::BACKLOG);
        Trace {
            listeners: AtomicUsize::new(0),
            tx,
            rx,
        }
    }

    /// Whether anyone is tracing: the queue threads' only cost when nobody is.
    pub fn on(&self) -> bool {
        self.listeners.load(Ordering::Relaxed) > 0
    }

    /// Hands a traced packet on, or drops it if the control server is behind.
    pub fn publish(&self, traced: Traced) {
        let _ = self.tx.try_send(traced);
    }

    /// A tracer started (`on` turns true).
    pub fn listen(&self) {
        self.listeners.fetch_add(1, Ordering::Relaxed);
    }

    /// A tracer left.
    pub fn unlisten(&self) {
        let _ = self
            .listeners
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Where the control server reads traced packets.
    pub fn receiver(&self) -> &Receiver<Traced> {
        &self.rx
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: u64) -> Event {
        Event {
            at_ms: n,
            queue: QueueKind::Dhcp4,
            request: None,
            decision: Decision::RateLimited,
            frame_src: None,
        }
    }

    #[test]
    fn ring_keeps_the_last_ones_in_order() {
        let log = EventLog::new();
        assert_eq!(log.recent(), (vec![], 0));
        for n in 0..5 {
            log.record(ev(n));
        }
        let (events, total) = log.recent();
        assert_eq!(
            (events.iter().map(|e| e.at_ms).collect::<Vec<_>>(), total),
            ((0..5).collect(), 5)
        );
        for n in 5..40 {
            log.record(ev(n));
        }
        let (events, total) = log.recent();
        let want: Vec<u64> = (40 - EventLog::CAPACITY as u64..40).collect();
        assert_eq!(
            (events.iter().map(|e| e.at_ms).collect::<Vec<_>>(), total),
            (want, 40)
        );
        // Shared by clones (the entries a binding goes through).
        let other = log.clone();
        other.record(ev(99));
        assert_eq!(log.recent().0.last().map(|e| e.at_ms), Some(99));
        assert_eq!(log, EventLog::new());
    }

    #[test]
    fn events_are_small() {
        assert!(
            std::mem::size_of::<Event>() <= 32,
            "{}",
            std::mem::size_of::<Event>()
        );
    }

    #[test]
    fn trace_counts_listeners() {
        let t = Trace::new();
        assert!(!t.on());
        t.listen();
        t.listen();
        t.unlisten();
        assert!(t.on());
        t.unlisten();
        t.unlisten();
        assert!(!t.on());
        let traced = Traced {
            tap: "tap0".into(),
            event: ev(1),
            request: vec![1],
            reply: vec![],
        };
        t.publish(traced.clone());
        assert_eq!(t.receiver().try_recv().map(|x| x.event), Ok(traced.event));
    }
}
