//! Flood control: a token bucket per user, on the runtime's clock.
//!
//! Hand-written rather than `governor` because it must run on the runtime's clock, which `tick`
//! events move, so that tests are deterministic; it is a dozen lines.

use std::collections::HashMap;

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer it.
    Allow,
    /// Over the limit for the first time: say "slow down" once.
    WarnOnce,
    /// Over the limit again: stay silent.
    Drop,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
    warned: bool,
}

/// Token buckets by user key.
#[derive(Debug)]
pub struct Limiter {
    burst: f64,
    per_ms: f64,
    buckets: HashMap<(String, String), Bucket>,
}

impl Limiter {
    /// `burst` messages at once, refilled at `per_minute`.
    pub fn new(burst: u32, per_minute: u32) -> Limiter {
        Limiter {
            burst: f64::from(burst.max(1)),
            per_ms: f64::from(per_minute.max(1)) / 60_000.0,
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for this user at time `now_ms`.
    pub fn check(&mut self, key: &(String, String), now_ms: i64) -> Verdict {
        if self.buckets.len() > 100_000 {
            // Forget full buckets; they hold nothing a user could lose.
            let burst = self.burst;
            let per_ms = self.per_ms;
            self.buckets
                .retain(|_, b| b.tokens + (now_ms - b.at_ms) as f64 * per_ms < burst);
        }
        let bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            at_ms: now_ms,
            warned: false,
        });
        let elapsed = (now_ms - bucket.at_ms).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * self.per_ms).min(self.burst);
        bucket.at_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.warned = false;
            Verdict::Allow
        } else if !bucket.warned {
            bucket.warned = true;
            Verdict::WarnOnce
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_one_warning_then_silence_then_refill() {
        let mut l = Limiter::new(3, 60);
        let k = ("stdio".to_string(), "u1".to_string());
        assert_eq!(
            [l.check(&k, 0), l.check(&k, 0), l.check(&k, 0)],
            [Verdict::Allow; 3]
        );
        assert_eq!(l.check(&k, 0), Verdict::WarnOnce);
        assert_eq!(l.check(&k, 10), Verdict::Drop);
        assert_eq!(l.check(&k, 1_010), Verdict::Allow, "one token per second");
        let other = ("stdio".to_string(), "u2".to_string());
        assert_eq!(l.check(&other, 10), Verdict::Allow, "buckets are per user");
    }
}
