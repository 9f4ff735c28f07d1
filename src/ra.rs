//! Periodic unsolicited Router Advertisements, from the same snapshot the workers read.
//!
//! One round at start-up, then every `ra_period`; an interface that becomes active (new
//! binding, tap created, binding changed) gets one at once, through the registry's kick
//! channel. The thread sleeps in `recv_timeout` between rounds: no other wake-ups. One
//! interface that cannot be served never stops the round.

use crate::binding::table::SharedSnapshot;
use crate::config::Config;
use crate::reply::ndp;
use crate::sender::{Frame, SendHandle, PERIODIC_CHUNK};
use crate::stats::Stats;
use arc_swap::ArcSwap;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct RaTimer {
    pub snapshot: SharedSnapshot,
    pub config: Arc<ArcSwap<Config>>,
    pub send: SendHandle,
    pub stats: Arc<Stats>,
    /// ifindexes of interfaces that just became active.
    pub kick: Receiver<u32>,
}

impl RaTimer {
    pub fn run(self) {
        let mut next_round = Instant::now();
        loop {
            let period = match self.config.load().ipv6.as_ref() {
                Some(v6) => Duration::from_secs(u64::from(v6.ra_period)),
                // IPv6 off: nothing to time; just drain kicks.
                None => Duration::from_secs(u64::from(u32::MAX)),
            };
            let wait = next_round.saturating_duration_since(Instant::now());
            match self.kick.recv_timeout(wait) {
                Ok(ifindex) => self.advertise_one(ifindex),
                Err(RecvTimeoutError::Timeout) => {
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

    fn advertise_one(&self, ifindex: u32) {
        if let Some(entry) = self.snapshot.load().get(ifindex) {
            if entry.running && entry.binding.subnet6.is_some() {
                if let Some(frame) = self.advertise(entry) {
                    self.send.send_periodic(vec![frame]);
                }
            }
        }
    }

    /// The RA frame for one interface, if it can have one.
    fn advertise(&self, entry: &crate::binding::table::Entry) -> Option<Frame> {
        let config = self.config.load();
        let v6 = config.ipv6.as_ref()?;
        let mut buf = self.send.buffer();
        match ndp::periodic_ra(entry, v6, &mut buf[..]) {
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
