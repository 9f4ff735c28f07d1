//! Log throttling: repeated events are counted, not logged once per packet.

use std::time::{Duration, Instant};

/// Lets one event through per `period`, and says how many were held back meanwhile.
pub struct Every {
    period: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl Every {
    pub fn new(period: Duration) -> Every {
        Every {
            period,
            last: None,
            suppressed: 0,
        }
    }

    /// `Some(held back since the last one)` when this event should be logged.
    pub fn tick(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(last) if now.duration_since(last) < self.period => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_passes_then_counts() {
        let mut e = Every::new(Duration::from_secs(3600));
        assert_eq!(e.tick(), Some(0));
        assert_eq!(e.tick(), None);
        assert_eq!(e.tick(), None);
        let mut z = Every::new(Duration::ZERO);
        assert_eq!(z.tick(), Some(0));
        assert_eq!(z.tick(), Some(0));
    }
}
