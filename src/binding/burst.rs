//! Per-binding log lines in a burst: the first few get their own line, the rest are counted
//! and summed up in one line when the burst is over.
//!
//! An orchestrator that writes 20,000 binding files at once would otherwise put 20,000 lines
//! into the log, burying any operator problem among them. The counted transitions are still
//! logged at debug level (with `-d`).

use std::time::{Duration, Instant};

/// Lines per burst before the rest are counted.
const LINES: u32 = 20;
/// A burst is over after this long without a transition.
const QUIET: Duration = Duration::from_secs(1);
/// A burst that goes on and on reports its tally this often.
const PROGRESS: Duration = Duration::from_secs(10);

/// What happened to one binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Active,
    Inactive,
    Removed,
    Refused,
}

/// The transitions counted, not logged, since the last summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub active: u64,
    pub inactive: u64,
    pub removed: u64,
    pub refused: u64,
}

impl Tally {
    fn add(&mut self, kind: Kind) {
        let n = match kind {
            Kind::Active => &mut self.active,
            Kind::Inactive => &mut self.inactive,
            Kind::Removed => &mut self.removed,
            Kind::Refused => &mut self.refused,
        };
        *n += 1;
    }

    fn is_empty(&self) -> bool {
        *self == Tally::default()
    }

    /// The summary line, at warn if a file was refused (an operator problem).
    pub fn log(&self) {
        let level = match self.refused {
            0 => log::Level::Info,
            _ => log::Level::Warn,
        };
        log::log!(
            level,
            "bindings changed in a burst active={} inactive={} removed={} refused={} (one by one at debug level)",
            self.active,
            self.inactive,
            self.removed,
            self.refused
        );
    }
}

/// The burst state.
#[derive(Debug)]
pub struct Burst {
    /// The last transition, if any.
    last: Option<Instant>,
    /// Lines logged in the current burst.
    lines: u32,
    tally: Tally,
    /// When the tally was last reported (or the burst began).
    reported: Instant,
}

impl Default for Burst {
    fn default() -> Burst {
        Burst {
            last: None,
            lines: 0,
            tally: Tally::default(),
            reported: Instant::now(),
        }
    }
}

impl Burst {
    /// Whether this transition gets its own line; if not, it is counted. A transition after
    /// a quiet spell starts a new burst, so the previous one's summary is returned first.
    pub fn admit(&mut self, now: Instant, kind: Kind) -> (bool, Option<Tally>) {
        let over = self.last.is_some_and(|t| now.duration_since(t) >= QUIET);
        let summary = match over {
            true => self.take(now),
            false => None,
        };
        if over || self.last.is_none() {
            self.lines = 0;
            self.reported = now;
        }
        self.last = Some(now);
        if self.lines < LINES {
            self.lines += 1;
            return (true, summary);
        }
        self.tally.add(kind);
        (false, summary)
    }

    /// The tally, if one is due: the burst is over, or has gone on for `PROGRESS`.
    pub fn due(&mut self, now: Instant) -> Option<Tally> {
        let at = self.next_due()?;
        match now >= at {
            true => self.take(now),
            false => None,
        }
    }

    /// When the next summary is due, if something was counted.
    pub fn next_due(&self) -> Option<Instant> {
        if self.tally.is_empty() {
            return None;
        }
        let last = self.last?;
        Some((last + QUIET).min(self.reported + PROGRESS))
    }

    fn take(&mut self, now: Instant) -> Option<Tally> {
        self.reported = now;
        match self.tally.is_empty() {
            true => None,
            false => Some(std::mem::take(&mut self.tally)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_logs_a_few_lines_then_one_summary() {
        let mut b = Burst::default();
        let t0 = Instant::now();
        let mut logged = 0;
        for i in 0..20_000u64 {
            let (line, summary) = b.admit(t0 + Duration::from_micros(i * 20), Kind::Inactive);
            assert_eq!(summary, None, "no summary in the middle of the burst");
            logged += u32::from(line);
        }
        assert_eq!(logged, LINES);
        let end = t0 + Duration::from_millis(400);
        assert_eq!(b.due(end), None, "not over yet");
        let due = b.next_due().unwrap();
        let tally = b.due(due).unwrap();
        assert_eq!(tally.inactive, 20_000 - u64::from(LINES));
        assert_eq!(b.due(due + QUIET), None, "reported once");
        // The next burst starts with lines again.
        assert_eq!(b.admit(due + QUIET * 5, Kind::Active), (true, None));
    }

    #[test]
    fn an_unreported_tally_comes_with_the_next_burst() {
        let mut b = Burst::default();
        let t0 = Instant::now();
        for _ in 0..=LINES {
            b.admit(t0, Kind::Removed);
        }
        let (line, summary) = b.admit(t0 + QUIET * 2, Kind::Refused);
        assert!(line);
        assert_eq!(summary.map(|t| t.removed), Some(1));
    }

    #[test]
    fn a_long_burst_reports_progress() {
        let mut b = Burst::default();
        let t0 = Instant::now();
        let mut reports = 0;
        for ms in 0..25_000u64 {
            let now = t0 + Duration::from_millis(ms);
            b.admit(now, Kind::Active);
            reports += usize::from(b.due(now).is_some());
        }
        assert_eq!(reports, 2, "one per PROGRESS");
    }
}
