//! Durations and sizes as people read them (`2.5 s`, `64 MiB`), for verdicts and slides.

use std::time::Duration;

/// `5 s`, `0.5 s`: durations as people read them.
pub fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// `1 MiB`, `512 KiB`, `300 bytes`.
pub fn bytes(count: usize) -> String {
    if count >= 1 << 20 && count.is_multiple_of(1 << 20) {
        format!("{} MiB", count >> 20)
    } else if count >= 1 << 10 && count.is_multiple_of(1 << 10) {
        format!("{} KiB", count >> 10)
    } else {
        format!("{count} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_a_person_writes() {
        assert_eq!(seconds(Duration::from_millis(2500)), "2.5 s");
        assert_eq!(seconds(Duration::from_secs(5)), "5 s");
        assert_eq!(bytes(64 << 20), "64 MiB");
        assert_eq!(bytes(512 << 10), "512 KiB");
        assert_eq!(bytes(300), "300 bytes");
    }
}
