//! Position in the event log for the change feed, robust to ids that commit out of order.
//!
//! PostgreSQL hands out identity values before commit, so two concurrent transactions can
//! become visible in the opposite order of their ids, and a rolled-back one leaves a hole for
//! ever. Reading `id > last_seen` would then skip the late one. The cursor keeps a watermark
//! below which every id has been handled, remembers the ids handled above it, and gives up on a
//! hole only after `gap_wait` (long enough for any transaction to commit).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct FeedCursor {
    watermark: i64,
    seen_above: BTreeSet<i64>,
    gap_since: Option<Instant>,
    gap_wait: Duration,
}

impl FeedCursor {
    pub fn new(after: i64, gap_wait: Duration) -> Self {
        FeedCursor {
            watermark: after,
            seen_above: BTreeSet::new(),
            gap_since: None,
            gap_wait,
        }
    }

    /// Read events with ids above this.
    pub fn read_after(&self) -> i64 {
        self.watermark
    }

    /// Whether event `id` is new (to be handled); marks it handled.
    pub fn accept(&mut self, id: i64) -> bool {
        id > self.watermark && self.seen_above.insert(id)
    }

    /// Moves the watermark over handled ids, and over a hole that stayed open too long.
    pub fn advance(&mut self, now: Instant) {
        self.close_contiguous();
        let Some(&lowest) = self.seen_above.first() else {
            self.gap_since = None;
            return;
        };
        match self.gap_since {
            None => self.gap_since = Some(now),
            Some(since) if now.saturating_duration_since(since) >= self.gap_wait => {
                // The missing ids were rolled back: skip the whole hole.
                self.watermark = lowest - 1;
                self.gap_since = None;
                self.close_contiguous();
                if !self.seen_above.is_empty() {
                    self.gap_since = Some(now);
                }
            }
            Some(_) => {}
        }
    }

    fn close_contiguous(&mut self) {
        while self.seen_above.remove(&(self.watermark + 1)) {
            self.watermark += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_ids_move_the_watermark() {
        let now = Instant::now();
        let mut cursor = FeedCursor::new(10, Duration::from_secs(5));
        assert!(cursor.accept(11));
        assert!(cursor.accept(12));
        cursor.advance(now);
        assert_eq!(cursor.read_after(), 12);
        assert!(!cursor.accept(12), "never handled twice");
    }

    #[test]
    fn a_late_commit_is_not_skipped() {
        let start = Instant::now();
        let mut cursor = FeedCursor::new(10, Duration::from_secs(5));
        // 12 is visible before 11 commits.
        assert!(cursor.accept(12));
        cursor.advance(start);
        assert_eq!(cursor.read_after(), 10, "11 may still come");
        assert!(!cursor.accept(12), "12 is not handled again when re-read");
        assert!(cursor.accept(11));
        cursor.advance(start + Duration::from_secs(1));
        assert_eq!(cursor.read_after(), 12);
    }

    #[test]
    fn a_rolled_back_hole_is_skipped_after_the_wait() {
        let start = Instant::now();
        let mut cursor = FeedCursor::new(10, Duration::from_secs(5));
        assert!(cursor.accept(14));
        cursor.advance(start);
        cursor.advance(start + Duration::from_secs(4));
        assert_eq!(cursor.read_after(), 10);
        cursor.advance(start + Duration::from_secs(5));
        assert_eq!(cursor.read_after(), 14);
    }
}
