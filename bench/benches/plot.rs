//! The SVG plot of the results.

use std::path::Path;

use crate::harness::*;

#[cfg(feature = "plot")]
pub(crate) fn plot(r: &Report, path: &Path) {
    use plotters::prelude::*;
    let bars: Vec<(&str, &Stats)> = [
        ("raw_fn", "Rust loop → C fn pointer"),
        ("raw_entry", "Rust loop → C entry point"),
        ("handle_c", "Rust loop, typed handle → C"),
        ("handle_rust", "Rust loop, typed handle → Rust"),
        ("wasmtime_typed", "Rust loop → wasmtime TypedFunc"),
        ("wasmi_typed", "Rust loop → wasmi TypedFunc"),
        ("reloader_c", "Rust loop, read lock + dlsym → C"),
        ("static_c", "hotslot VM, static C"),
        ("static_rust", "hotslot VM, static Rust"),
        ("noslot_c", "hotslot VM, dlopen'd C, no slot"),
        ("slot_c", "hotslot VM, slot → C"),
        ("slot_rust", "hotslot VM, slot → Rust"),
        ("wasmi", "wasmi → host fn"),
        ("lua", "Lua 5.4 → C fn"),
        ("naive", "naive slot (lock + dlsym)"),
    ]
    .into_iter()
    .filter_map(|(k, label)| r.rows.iter().find(|x| x.0 == k).map(|x| (label, &x.2)))
    .collect();
    if bars.is_empty() {
        return; // a partial run (HOTSLOT_BENCH) without the call loops
    }
    let max = bars.iter().map(|b| b.1.max).fold(0.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (900, 460)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "ns per native call (median, whiskers min–max)",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(210)
        .build_cartesian_2d(0.0..max, (0..bars.len()).into_segmented())
        .unwrap();
    chart
        .configure_mesh()
        .y_labels(bars.len())
        .y_label_formatter(&|y| match y {
            SegmentValue::CenterOf(i) => bars.get(*i).map_or(String::new(), |b| b.0.to_owned()),
            _ => String::new(),
        })
        .x_desc("ns per call")
        .disable_y_mesh()
        .draw()
        .unwrap();
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (label, s))| {
            let color = if label.starts_with("hotslot VM, slot") {
                RED.mix(0.8)
            } else {
                BLUE.mix(0.5)
            };
            Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (s.median, SegmentValue::Exact(i + 1)),
                ],
                color.filled(),
            )
        }))
        .unwrap();
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, s))| {
            PathElement::new(
                vec![
                    (s.min, SegmentValue::CenterOf(i)),
                    (s.max, SegmentValue::CenterOf(i)),
                ],
                BLACK.stroke_width(2),
            )
        }))
        .unwrap();
    root.present().unwrap();
    println!("\nplot: {}", path.display());
}

#[cfg(not(feature = "plot"))]
pub(crate) fn plot(_: &Report, _: &Path) {}
