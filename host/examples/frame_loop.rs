//! A host loop that calls a plugin every frame and picks up each rebuild
//! while it runs: the shape of a game embedding hotslot.
//!
//! ```sh
//! cargo build -p hotslot-motion
//! cargo run -p hotslot --example frame_loop
//! ```
//!
//! Then edit `plugins/motion/src/lib.rs` (draw the ball with another
//! character, change its speed) and run `cargo build -p hotslot-motion`
//! again in another terminal: the next frame runs the new build. A build
//! that changes a function's signature, or does not load, is refused with
//! a message, and the frames go on with the build they had.
//!
//! Arguments: `[PLUGIN] [--frames N] [--fps F]`. `PLUGIN` defaults to the
//! debug build of `hotslot-motion` in this workspace's target directory;
//! without `--frames` the loop runs until interrupted. On a terminal the
//! line is redrawn in place; otherwise each frame is a line of its own.

use std::error::Error;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hotslot::{ReloadOptions, SlotTable, WatchOptions};

/// Characters the line is drawn with.
const WIDTH: i32 = 40;
/// The ball's speed, in units per second.
const SPEED: f64 = 4.0;

struct Args {
    plugin: PathBuf,
    frames: Option<u64>,
    fps: f64,
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("frame_loop: {message}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("frame_loop: {}", hotslot::chain(&*e));
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    // SAFETY: the plugin is a build of this workspace's own code (loading
    // a library runs its initializers, which no check can vouch for).
    let table = unsafe { SlotTable::new() }?;
    table.bind_library(&args.plugin, &ReloadOptions::default())?;
    // Checked now against the plugin's descriptor, and again at every
    // reload: a build that changes either signature is refused.
    let step = table.function::<(f64, f64, f64), f64>("step")?;
    let draw = table.function::<(f64, i32), String>("draw")?;
    let reloads = table.subscribe();
    let _watcher = table.watch(WatchOptions::default())?;

    let terminal = std::io::stdout().is_terminal();
    let dt = 1.0 / args.fps;
    let frame_time = Duration::from_secs_f64(dt);
    let mut next = Instant::now();
    let mut x = 0.0;
    let mut frame = 0_u64;
    while args.frames.is_none_or(|n| frame < n) {
        frame += 1;
        for event in reloads.try_iter() {
            let end = if terminal { "\r\n" } else { "\n" };
            print!("{event}{end}");
        }
        // A failing call (an error or a panic in the plugin) is reported
        // and the frame keeps the state it had.
        match step.call((x, SPEED, dt)).and_then(|new| {
            x = new;
            draw.call((x, WIDTH))
        }) {
            Ok(line) if terminal => print!("\r{line} frame {frame}"),
            Ok(line) => println!("frame {frame}: {line}"),
            Err(e) => println!("frame {frame}: {e}"),
        }
        std::io::stdout().flush()?;
        next += frame_time;
        match next.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            None => next = Instant::now(),
        }
    }
    if terminal {
        println!();
    }
    Ok(())
}

fn parse_args() -> Result<Args, String> {
    let mut plugin = None;
    let mut frames = None;
    let mut fps = 30.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--frames" => {
                let v = value("--frames")?;
                frames = Some(
                    v.parse()
                        .map_err(|_| format!("--frames {v}: not a count"))?,
                );
            }
            "--fps" => {
                let v = value("--fps")?;
                fps = v
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f > 0.0)
                    .ok_or(format!("--fps {v}: not a positive number"))?;
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if plugin.is_none() => plugin = Some(PathBuf::from(arg)),
            _ => return Err(format!("one plugin only (found {arg} too)")),
        }
    }
    let plugin = match plugin {
        Some(p) => p,
        None => {
            let p = default_plugin();
            if !p.exists() {
                return Err(format!(
                    "{} does not exist: build it with `cargo build -p hotslot-motion`",
                    p.display()
                ));
            }
            p
        }
    };
    Ok(Args {
        plugin,
        frames,
        fps,
    })
}

/// The debug build of `hotslot-motion` in this workspace.
fn default_plugin() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("debug").join(format!(
        "{}hotslot_motion{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}
