//! A token bucket: up to `burst` messages at once, then `per_second` on average. Each
//! learner (and each address that types join codes) has its own, so one flooding
//! learner is refused while the rest of the room goes on.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Bucket {
    burst: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub fn new(burst: u32, per_second: f64, now: Instant) -> Bucket {
        Bucket {
            burst: f64::from(burst),
            per_second,
            tokens: f64::from(burst),
            last: now,
        }
    }

    /// Takes one token if there is one: false means "too many, refuse".
    pub fn take(&mut self, now: Instant) -> bool {
        if self.allows(now) {
            self.tokens -= 1.0;
            return true;
        }
        false
    }

    /// Whether there is a token now (without taking it).
    pub fn allows(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        self.last = now;
        self.tokens >= 1.0
    }

    /// How long until one more message would be accepted.
    pub fn wait(&self) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens) / self.per_second).max(0.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(3, 2.0, start);
        assert!((0..3).all(|_| bucket.take(start)));
        assert!(!bucket.take(start), "the fourth at once is refused");
        assert!(
            bucket.take(start + Duration::from_millis(500)),
            "half a second buys one"
        );
        assert!(!bucket.take(start + Duration::from_millis(500)));
    }
}
