//! Isolated calls: a round trip through a worker, crashes and restarts.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::harness::*;
use crate::plugins::*;

/// Calls measured one by one for (m).
pub(crate) const ISOLATED_CALLS: usize = 200_000;
/// (m): a typed handle's call to an isolated build against the same call
/// in process, with and without spinning; a crash until the next call is
/// served again; what a worker costs in memory.
pub(crate) fn isolated(p: &Plugins, r: &mut Report) {
    use hotslot::isolate::IsolateOptions;
    println!(
        "\nisolated calls (typed handle → C math_add; ns per call, {ISOLATED_CALLS} calls each):"
    );
    let options = |spin: Option<Duration>| hotslot::ReloadOptions {
        isolate: Some(IsolateOptions {
            worker: Some(p.worker.clone()),
            deadline: None,
            spin,
            rollback_after: None,
        }),
        ..hotslot::ReloadOptions::default()
    };
    let in_process = hotslot::ReloadOptions::default();
    let spun = options(None);
    let unspun = options(Some(Duration::ZERO));
    for (key, label, reload, pinned) in [
        ("in_process", "in process", &in_process, false),
        (
            "isolated",
            "isolated, spinning 50 µs before sleeping (the default)",
            &spun,
            false,
        ),
        (
            "isolated_no_spin",
            "isolated, sleeping at once (no spin)",
            &unspun,
            false,
        ),
        (
            "isolated_pinned",
            "isolated, the caller pinned to one CPU (so no spin)",
            &spun,
            true,
        ),
    ] {
        if pinned {
            // The worker inherits the CPU of the thread that starts it.
            pin_to_one_core();
        }
        let table = hotslot_bench::table();
        table.bind_library(&p.c, reload).unwrap();
        let add = table.function::<(i32, i32), i32>("math_add").unwrap();
        // Warm: the worker's first calls fault its pages in.
        for i in 0..1000 {
            assert_eq!(add.call((i, 1)), Ok(i + 1));
        }
        let mut v: Vec<f64> = (0..ISOLATED_CALLS as i32)
            .map(|i| {
                let t = Instant::now();
                black_box(add.call((black_box(i), 1)).unwrap());
                t.elapsed().as_nanos() as f64
            })
            .collect();
        if pinned {
            unpin();
        }
        v.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
        println!("  (m) {label:<56} p50 {p50:>7.0} ns, p99 {p99:>7.0} ns");
        r.note(
            &format!("isolated_call_{key}"),
            serde_json::json!({ "label": label, "p50_ns": p50, "p99_ns": p99, "min_ns": v[0], "max_ns": v[v.len() - 1] }),
        );
        r.rows.push((
            format!("isolated_call_{key}_p50"),
            format!("(m) typed handle → C math_add, {label}"),
            Stats {
                median: p50,
                min: v[0],
                max: v[v.len() - 1],
            },
        ));
    }

    // A crash, until a call is answered again: the crashing call (which
    // sees the worker die) and the next one (which starts a new worker).
    let table = hotslot_bench::table();
    table.bind_library(&p.fragile, &spun).unwrap();
    let fragile = table.function::<i32, i32>("fragile").unwrap();
    let pid = table.function::<(), i32>("pid").unwrap();
    assert_eq!(fragile.call(1), Ok(2));
    let rounds = 50;
    let (mut failed, mut serving) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        assert!(fragile.call(13).is_err());
        failed.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(fragile.call(5), Ok(10));
        serving.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for (key, label, mut v) in [
        ("crash_reported", "a segfault until its call fails", failed),
        (
            "crash_to_serving",
            "a segfault until the next call is answered (new worker)",
            serving,
        ),
    ] {
        v.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&v, 0.5), percentile(&v, 0.99));
        println!("  (m) {label:<56} p50 {p50:>7.2} ms, p99 {p99:>7.2} ms ({rounds} rounds)");
        r.note(
            &format!("isolated_{key}"),
            serde_json::json!({ "label": label, "p50_ms": p50, "p99_ms": p99 }),
        );
        r.rows.push((
            format!("isolated_{key}_p50_ms"),
            format!("(m) {label}"),
            Stats {
                median: p50,
                min: v[0],
                max: v[v.len() - 1],
            },
        ));
    }

    // What one worker costs: its resident set, and its share of it (pages
    // it shares with other processes, the hotslot binary's code above all,
    // counted in part).
    let worker = pid.call(()).unwrap();
    let rollup =
        std::fs::read_to_string(format!("/proc/{worker}/smaps_rollup")).unwrap_or_default();
    let field = |name: &str| -> f64 {
        rollup
            .lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or(f64::NAN)
    };
    let (rss, pss) = (field("Rss:"), field("Pss:"));
    println!("  (m) one worker process: {rss:.0} KiB resident, {pss:.0} KiB proportional share");
    r.note(
        "isolated_worker_memory",
        serde_json::json!({ "rss_kib": rss, "pss_kib": pss }),
    );
}
