//! The per-interface packet limiter: a token bucket per interface and queue, the daemon's
//! own line behind the kernel's limits, applied before a packet is parsed.

use std::time::Instant;

/// Per-interface token buckets, owned by one worker thread (no sharing, no locks). A VM
/// flooding one queue exhausts only its own bucket; the excess is dropped before parsing.
pub struct Buckets {
    rate: u32,
    burst: u32,
    map: std::collections::HashMap<u32, Bucket>,
    prune_at: usize,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Entries kept before idle ones are pruned (a full bucket is the same as no entry).
const PRUNE_START: usize = 1024;

impl Buckets {
    pub fn new(rate: u32, burst: u32) -> Buckets {
        Buckets {
            rate,
            burst: burst.max(1),
            map: std::collections::HashMap::new(),
            prune_at: PRUNE_START,
        }
    }

    /// Follows a reloaded configuration.
    pub fn set_limits(&mut self, rate: u32, burst: u32) {
        if (rate, burst.max(1)) != (self.rate, self.burst) {
            *self = Buckets::new(rate, burst);
        }
    }

    /// Whether interface `ifindex` may send one more packet now.
    pub fn allow(&mut self, ifindex: u32, now: Instant) -> bool {
        if self.rate == 0 {
            return true;
        }
        if self.map.len() >= self.prune_at {
            self.prune(now);
        }
        let (rate, burst) = (f64::from(self.rate), f64::from(self.burst));
        let b = self.map.entry(ifindex).or_insert(Bucket {
            tokens: burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drops buckets that have refilled completely: they carry no state.
    fn prune(&mut self, now: Instant) {
        let full_after = f64::from(self.burst) / f64::from(self.rate.max(1));
        self.map
            .retain(|_, b| now.saturating_duration_since(b.last).as_secs_f64() < full_after);
        self.prune_at = PRUNE_START.max(self.map.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate() {
        let mut b = Buckets::new(10, 5);
        let t0 = Instant::now();
        assert_eq!((0..10).filter(|_| b.allow(1, t0)).count(), 5);
        // Another interface has its own bucket.
        assert!(b.allow(2, t0));
        // 10/s: after 0.5 s, five more.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!((0..10).filter(|_| b.allow(1, t1)).count(), 5);
    }

    #[test]
    fn zero_rate_disables() {
        let mut b = Buckets::new(0, 0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| b.allow(1, t0)));
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let mut b = Buckets::new(10, 5);
        let t0 = Instant::now();
        for i in 0..PRUNE_START as u32 {
            b.allow(i, t0);
        }
        b.allow(99_999, t0 + Duration::from_secs(10));
        assert!(b.map.len() <= 2, "{}", b.map.len());
    }
}
