//! Stage timings. The core never reads a clock itself: `std::time::Instant` panics on
//! wasm32-unknown-unknown, so the caller hands one in (the shim passes
//! `performance.now`, native callers [`monotonic_ms`]).

/// Milliseconds since an arbitrary origin; only differences are used.
pub type Clock = fn() -> f64;

/// A clock that always reads 0: timings come out as zeros.
pub fn no_clock() -> f64 {
    0.0
}

/// Native monotonic clock (not on wasm32-unknown-unknown, which has none).
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub fn monotonic_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// The default clock of this target: monotonic natively, none in plain wasm.
pub fn default_clock() -> Clock {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    return monotonic_ms;
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    return no_clock;
}

/// Time per named stage in ms, in the order the stages first ran. A stage that runs
/// twice (colour before and after resampling) accumulates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    stages: Vec<(&'static str, f64)>,
}

impl Timings {
    pub fn add(&mut self, stage: &'static str, ms: f64) {
        match self.stages.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, total)) => *total += ms,
            None => self.stages.push((stage, ms)),
        }
    }

    /// Runs `f` as `stage`, timed with `clock`.
    pub fn time<T>(&mut self, clock: Clock, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let start = clock();
        let value = f();
        self.add(stage, (clock() - start).max(0.0));
        value
    }

    pub fn get(&self, stage: &str) -> Option<f64> {
        self.stages
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|&(_, ms)| ms)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
        self.stages.iter().copied()
    }

    /// Adds every stage of `other` (a shared decode counted into each output).
    pub fn merge(&mut self, other: &Timings) {
        for (stage, ms) in other.iter() {
            self.add(stage, ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_keep_first_run_order_and_accumulate() {
        let mut t = Timings::default();
        t.add("decode", 2.0);
        t.add("resize", 1.0);
        t.add("decode", 0.5);
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [("decode", 2.5), ("resize", 1.0)]
        );
        let v = t.time(monotonic_ms, "encode", || 7);
        assert_eq!(v, 7);
        assert!(t.get("encode").unwrap() >= 0.0);
        assert_eq!(t.get("colour"), None);
    }
}
