//! The harness: statistics, rounds of candidates, CPU pinning, the report.

use std::time::Instant;

use crate::RELOADS;

pub(crate) struct Stats {
    pub(crate) median: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

pub(crate) fn stats(mut v: Vec<f64>) -> Stats {
    v.sort_by(f64::total_cmp);
    Stats {
        median: v[v.len() / 2],
        min: v[0],
        max: v[v.len() - 1],
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = |x: f64| {
            if x >= 100.0 {
                format!("{x:.0}")
            } else if x >= 10.0 {
                format!("{x:.1}")
            } else {
                format!("{x:.2}")
            }
        };
        write!(f, "{} ({}–{})", p(self.median), p(self.min), p(self.max))
    }
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

pub(crate) fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[derive(Default)]
pub(crate) struct Report {
    pub(crate) rows: Vec<(String, String, Stats)>,
    /// Per-round samples of the call loops, in round order, so ratios can
    /// be taken within a round (both sides under the same machine load).
    pub(crate) rounds: std::collections::HashMap<String, Vec<f64>>,
    pub(crate) json: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    pub(crate) fn add(&mut self, key: &str, label: &str, unit: &str, s: Stats) {
        println!("  {label:<58} {s} {unit}");
        self.record(key, label, unit, s);
    }

    /// As `add`, printing nothing.
    pub(crate) fn record(&mut self, key: &str, label: &str, unit: &str, s: Stats) {
        self.json.insert(
            key.into(),
            serde_json::json!({ "label": label, "unit": unit, "median": s.median, "min": s.min, "max": s.max }),
        );
        self.rows.push((key.into(), label.into(), s));
    }

    pub(crate) fn median(&self, key: &str) -> f64 {
        self.rows
            .iter()
            .find(|r| r.0 == key)
            .map_or(f64::NAN, |r| r.2.median)
    }

    pub(crate) fn note(&mut self, key: &str, value: serde_json::Value) {
        self.json.insert(key.into(), value);
    }
}

/// Keeps the measuring thread on one core: migrations between cores add
/// noise the figures do not need. The throughput measurement's threads are
/// not pinned.
pub(crate) fn pin_to_one_core() {
    set_affinity(&[0]);
}

pub(crate) fn unpin() {
    set_affinity(&(0..cores()).collect::<Vec<_>>());
}

pub(crate) fn set_affinity(cpus: &[usize]) {
    // SAFETY: `cpu_set_t` is a plain bit set, valid all zero; 0 means the
    // calling thread, and the size passed is the set's.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Cores online (not those this thread may use, which pinning changes).
pub(crate) fn cores() -> usize {
    // SAFETY: `sysconf` has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// One way of making `CALLS` calls, measured against the others.
pub(crate) struct Candidate {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) run: Box<dyn FnMut()>,
}

pub(crate) fn candidate(
    key: &'static str,
    label: &'static str,
    run: impl FnMut() + 'static,
) -> Candidate {
    Candidate {
        key,
        label,
        run: Box::new(run),
    }
}

/// Runs every candidate `repeat` times, round after round, each round in
/// an order shuffled anew (a fixed order would favour or handicap whoever
/// follows whom), after one warm-up run each; returns per candidate the
/// time of each run in ns, divided by `per`.
pub(crate) fn rounds(all: &mut [Candidate], repeat: usize, per: f64) -> Vec<Vec<f64>> {
    for c in all.iter_mut() {
        (c.run)(); // warm up
    }
    let mut samples = vec![Vec::with_capacity(repeat); all.len()];
    let mut order: Vec<usize> = (0..all.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..repeat {
        for i in (1..order.len()).rev() {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        for &i in &order {
            let t = Instant::now();
            (all[i].run)();
            samples[i].push(t.elapsed().as_nanos() as f64 / per);
        }
    }
    samples
}

/// p50 in µs of `RELOADS` runs of `f`.
pub(crate) fn p50_of(mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..RELOADS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as f64 / 1000.0
        })
        .collect();
    v.sort_by(f64::total_cmp);
    percentile(&v, 0.5)
}

/// Bytes the C heap has handed out and not taken back.
pub(crate) fn heap_bytes() -> f64 {
    // SAFETY: `mallinfo2` only reads the allocator's counters.
    let m = unsafe { libc::mallinfo2() };
    (m.uordblks + m.hblkhd) as f64
}
