//! Periodic unsolicited Router Advertisements, from the same snapshot the workers read.
//!
//! One round at start-up, then every `ra_period`; an interface that becomes active (new
//! binding, tap created, binding changed) gets one at once, through the registry's kick
//! channel, and so does a VM whose IPv6 stack is coming up (see [`Change::Probe`]). The thread
//! sleeps in `recv_timeout` between rounds: no other wake-ups. One interface that cannot be
//! served never stops the round.
//!
//! A [`Change::Changed`] also brings the binding's announcements (gratuitous ARP, unsolicited
//! NAs; see [`crate::announce`]), in the same hand-over to the sender as its RA.

use crate::announce::{self, Announcement};
use crate::binding::snapshot::{Change, Entry, SharedSnapshot};
use crate::config::Config;
use crate::reply::ndp::{self, RaSettings};
use crate::sender::{Frame, SendHandle, PERIODIC_CHUNK};
use crate::stats::Stats;
use crate::wire::MacAddr;
use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// RFC 4861 §10 MIN_DELAY_BETWEEN_RAS: the least time between two multicast RAs sent because
/// a host asked; here, between two RAs that DAD probes bring to one tap.
pub const MIN_DELAY_BETWEEN_RAS: Duration = Duration::from_secs(3);

/// What each tap was last announced with (INDEV's MAC and the announcements): a binding
/// file rewritten a thousand times a second must not bring a thousand gratuitous ARPs.
#[derive(Default)]
struct Announced {
    last: HashMap<u32, (MacAddr, Vec<Announcement>)>,
}

impl Announced {
    /// Whether `what` from `mac` differs from what `ifindex` was last announced with; if so,
    /// it is noted as announced.
    fn is_new(&mut self, ifindex: u32, mac: MacAddr, what: &[Announcement]) -> bool {
        if self
            .last
            .get(&ifindex)
            .is_some_and(|(m, w)| *m == mac && w == what)
        {
            return false;
        }
        self.last.insert(ifindex, (mac, what.to_vec()));
        true
    }

    /// Forgets taps that are no longer bound (a re-created tap has a new ifindex).
    fn prune(&mut self, snapshot: &crate::binding::snapshot::Snapshot) {
        self.last
            .retain(|ifindex, _| snapshot.active(*ifindex).is_some());
    }
}

/// When each interface last got an RA for a [`Change::Probe`].
#[derive(Default)]
struct ProbeLimit {
    last: HashMap<u32, Instant>,
}

impl ProbeLimit {
    /// Whether a probe on `ifindex` at `now` may have its RA (and if so, notes it).
    fn allow(&mut self, ifindex: u32, now: Instant) -> bool {
        match self.last.get(&ifindex) {
            Some(t) if now.saturating_duration_since(*t) < MIN_DELAY_BETWEEN_RAS => false,
            _ => {
                self.last.insert(ifindex, now);
                true
            }
        }
    }

    /// Forgets what no longer limits anything, so the map holds only recent probes.
    fn prune(&mut self, now: Instant) {
        self.last
            .retain(|_, t| now.saturating_duration_since(*t) < MIN_DELAY_BETWEEN_RAS);
    }
}

pub struct RaTimer {
    pub snapshot: SharedSnapshot,
    pub config: Arc<ArcSwap<Config>>,
    pub send: SendHandle,
    pub stats: Arc<Stats>,
    /// Interfaces that should get an RA at once.
    pub changes: Receiver<Change>,
}

impl RaTimer {
    pub fn run(self) {
        let mut next_round = Instant::now();
        let mut probes = ProbeLimit::default();
        let mut announced = Announced::default();
        loop {
            let period = match self.config.load().live.ipv6.as_ref() {
                Some(v6) => Duration::from_secs(u64::from(v6.ra_period)),
                // IPv6 off: nothing to time; just drain kicks.
                None => Duration::from_secs(u64::from(u32::MAX)),
            };
            let wait = next_round.saturating_duration_since(Instant::now());
            match self.changes.recv_timeout(wait) {
                Ok(Change::Changed(ifindex)) => self.changed(ifindex, &mut announced),
                Ok(Change::Probe(ifindex)) => {
                    if probes.allow(ifindex, Instant::now()) {
                        self.advertise_one(ifindex);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    probes.prune(Instant::now());
                    announced.prune(&self.snapshot.load());
                    self.round();
                    next_round = Instant::now() + period;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// One RA to every bound interface with SUBNET6, handed to the sender in chunks.
    fn round(&self) {
        let snapshot = self.snapshot.load();
        let mut chunk = Vec::with_capacity(PERIODIC_CHUNK);
        let mut sent = 0usize;
        for entry in snapshot.iter() {
            if entry.running && entry.binding.subnet6.is_some() {
                if let Some(frame) = self.advertise(entry) {
                    chunk.push(frame);
                    sent += 1;
                }
                if chunk.len() == PERIODIC_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(PERIODIC_CHUNK));
                    self.send.send_periodic(full);
                }
            }
        }
        if !chunk.is_empty() {
            self.send.send_periodic(chunk);
        }
        log::debug!("periodic RA round sent={sent}");
    }

    /// An entry became active or changed: its RA, and its announcements when they are new
    /// for this tap (a binding rewritten for another reason announces nothing again).
    fn changed(&self, ifindex: u32, announced: &mut Announced) {
        let snapshot = self.snapshot.load();
        let Some(entry) = snapshot.active(ifindex) else {
            return;
        };
        let mut frames = Vec::with_capacity(4);
        if entry.running && entry.binding.subnet6.is_some() {
            frames.extend(self.advertise(entry));
        }
        let config = self.config.load();
        let wanted = announce::announcements(entry, &config);
        if announced.is_new(ifindex, entry.host_mac, &wanted) {
            for &what in &wanted {
                frames.extend(self.announcement(entry, what));
            }
        }
        if !frames.is_empty() {
            self.send.send_periodic(frames);
        }
    }

    /// The frame of one announcement, counted.
    fn announcement(&self, entry: &Entry, what: Announcement) -> Option<Frame> {
        let mut buf = self.send.buffer();
        match what.emit(entry.host_mac, &mut buf[..]) {
            Ok(len) => {
                Stats::bump(match what {
                    Announcement::Garp(_) => &self.stats.garp_sent,
                    Announcement::Na(_) => &self.stats.na_unsolicited,
                });
                Some(Frame {
                    ifindex: entry.ifindex,
                    len,
                    buf,
                })
            }
            Err(why) => {
                log::debug!(
                    "no announcement tap={} what={what:?} reason={}",
                    entry.binding.tap,
                    why.as_str()
                );
                None
            }
        }
    }

    fn advertise_one(&self, ifindex: u32) {
        if let Some(entry) = self.snapshot.load().active(ifindex) {
            if entry.running && entry.binding.subnet6.is_some() {
                if let Some(frame) = self.advertise(entry) {
                    self.send.send_periodic(vec![frame]);
                }
            }
        }
    }

    /// The RA frame for one interface, if it can have one.
    fn advertise(&self, entry: &Entry) -> Option<Frame> {
        let config = self.config.load();
        let settings = RaSettings::of(&config)?;
        let mut buf = self.send.buffer();
        match ndp::periodic_ra(entry, settings, &mut buf[..]) {
            Ok(len) => {
                Stats::bump(&self.stats.ra_periodic);
                Some(Frame {
                    ifindex: entry.ifindex,
                    len,
                    buf,
                })
            }
            Err(why) => {
                log::debug!(
                    "no periodic RA tap={} reason={}",
                    entry.binding.tap,
                    why.as_str()
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_only_when_new_for_the_tap() {
        let mut a = Announced::default();
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let garp = [Announcement::Garp("192.0.2.1".parse().unwrap())];
        assert!(a.is_new(7, mac, &garp));
        assert!(!a.is_new(7, mac, &garp), "the same again: nothing");
        assert!(a.is_new(8, mac, &garp), "per tap");
        assert!(
            a.is_new(7, MacAddr([2, 0, 0, 0, 0, 2]), &garp),
            "INDEV's MAC changed"
        );
        let more = [garp[0], Announcement::Na("fe80::1".parse().unwrap())];
        assert!(a.is_new(7, MacAddr([2, 0, 0, 0, 0, 2]), &more), "IPv6 came");
    }

    #[test]
    fn probes_get_one_ra_per_min_delay_per_interface() {
        let mut limit = ProbeLimit::default();
        let t0 = Instant::now();
        assert!(limit.allow(7, t0));
        assert!(!limit.allow(7, t0 + Duration::from_millis(10)));
        assert!(
            limit.allow(8, t0 + Duration::from_millis(10)),
            "per interface"
        );
        assert!(!limit.allow(7, t0 + MIN_DELAY_BETWEEN_RAS - Duration::from_millis(1)));
        assert!(limit.allow(7, t0 + MIN_DELAY_BETWEEN_RAS));
        limit.prune(t0 + MIN_DELAY_BETWEEN_RAS * 2);
        assert!(limit.last.is_empty());
    }
}
