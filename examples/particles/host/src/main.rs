//! The particles example: the host keeps two boxes of particles and, every
//! frame, has a Rust plugin move one and a C plugin the other, through
//! `step(&mut [Particle], f64)`. Both plugins log through the host's
//! callback table.
//!
//! ```sh
//! cargo run -p particles
//! ```
//!
//! It builds both plugins first (`cargo build -p particles-rust`, and the C
//! one with the system's compiler), then draws a line per frame. Edit the
//! physics of either plugin while it runs:
//!
//! - `examples/particles/plugin-c/particles.c`: save, and the example
//!   rebuilds the C plugin and reloads it;
//! - `examples/particles/plugin-rust/src/lib.rs`: run
//!   `cargo build -p particles-rust`, and it reloads.
//!
//! A build whose `Particle` is laid out otherwise than the interface's (a
//! field added, moved, resized or retyped) is refused with the field named,
//! and the frames go on with the build that was serving.
//!
//! Arguments: `[--frames N] [--fps F] [--c-source FILE]`; `--c-source`
//! builds the C plugin from another copy of `particles.c`.

use std::error::Error;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use hotslot::typed::SliceMut;
use hotslot::{FunctionOptions, ReloadOptions, SlotTable, TypedFunc, WatchOptions};
use hotslot_cbuild::CCompiler;
use hotslot_plugin_api::HsStr;
use particles_interface::{BOX, Host, Particle};

/// Particles in each box.
const COUNT: usize = 6;
/// Characters a box is drawn with.
const WIDTH: usize = 30;

/// The host's callbacks, handed to every plugin that asks for them.
// ANCHOR: host_table
/// The host's callback table, handed to every plugin that asks for it.
static HOST: Host = Host { log };

unsafe extern "C" fn log(message: HsStr) {
    // SAFETY: the plugin passes a view valid for the call.
    let text = unsafe { message.to_str() }.unwrap_or("<not UTF-8>");
    println!("  [{text}]");
}
// ANCHOR_END: host_table

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("particles: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args) {
        eprintln!("particles: {}", hotslot::chain(&*e));
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn Error>> {
    let (frames, fps) = (args.frames, args.fps);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let rust_lib = build_rust(&root, &target)?;
    let c_source = args
        .c_source
        .clone()
        .unwrap_or_else(|| root.join("examples/particles/plugin-c/particles.c"));
    // This run's own copy: another run's rebuilds do not reload it.
    let c_lib = target
        .join("particles")
        .join(format!("run-{}", std::process::id()))
        .join(library_name("particles_c"));
    let cc = CCompiler::find()?;
    build_c(&cc, &c_source, &c_lib)?;

    // ANCHOR: bind
    // SAFETY: the plugins are this workspace's own builds (loading one runs
    // its initializers, which no check can vouch for).
    let table = unsafe { SlotTable::new() }?;
    table.provide_host_table(&HOST)?;
    table.bind_library(&rust_lib, &ReloadOptions::default())?;
    table.bind_library(&c_lib, &ReloadOptions::default())?;
    // Both export `step`: each handle names its library.
    let rust_step = step_in(&table, &rust_lib)?;
    let c_step = step_in(&table, &c_lib)?;
    let events = table.subscribe();
    let _watcher = table.watch(WatchOptions::default())?;
    // ANCHOR_END: bind

    let mut rust_box = particles(4.0);
    let mut c_box = particles(6.0);
    let terminal = std::io::stdout().is_terminal();
    let dt = 1.0 / fps;
    let mut next = Instant::now();
    let mut source_time = modified(&c_source);
    let mut frame = 0_u64;
    while frames.is_none_or(|n| frame < n) {
        frame += 1;
        for event in events.try_iter() {
            println!("{event}");
        }
        // The C plugin's source changed: rebuild it (the watcher reloads).
        if modified(&c_source) != source_time {
            source_time = modified(&c_source);
            if let Err(e) = build_c(&cc, &c_source, &c_lib) {
                println!("the C plugin does not build: {e}");
            }
        }
        for (step, particles, name) in [
            (&rust_step, &mut rust_box, "rust"),
            (&c_step, &mut c_box, "c"),
        ] {
            // In place: the plugin gets the host's slice, no copy.
            if let Err(e) = step.call((&mut particles[..], dt)) {
                println!("{name}: {e}");
            }
        }
        let line = format!(
            "frame {frame:>5}  rust |{}|  c |{}|",
            draw(&rust_box),
            draw(&c_box)
        );
        if terminal {
            print!("\r{line}");
        } else {
            println!("{line}");
        }
        std::io::stdout().flush()?;
        next += Duration::from_secs_f64(dt);
        match next.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            None => next = Instant::now(),
        }
    }
    if terminal {
        println!();
    }
    drop((rust_step, c_step, _watcher, table));
    let _ = std::fs::remove_dir_all(c_lib.parent().expect("the build has a directory"));
    Ok(())
}

/// The plugin function every frame calls.
type Step = TypedFunc<(SliceMut<Particle>, f64), ()>;

/// `step` of the library `lib`: checked now, and at every reload.
fn step_in(table: &SlotTable, lib: &Path) -> Result<Step, Box<dyn Error>> {
    let options = FunctionOptions {
        library: Some(lib.to_owned()),
        ..FunctionOptions::default()
    };
    Ok(table.function_with("step", &options)?)
}

/// Particles spread over the box, moving at `speed`.
fn particles(speed: f32) -> Vec<Particle> {
    (0..COUNT)
        .map(|i| {
            let f = i as f32 / COUNT as f32;
            Particle {
                pos: [BOX * f, BOX * (1.0 - f)],
                vel: [speed * (1.0 + f), speed * (0.5 - f)],
            }
        })
        .collect()
}

/// The particles' x positions on a line of `WIDTH` characters.
fn draw(particles: &[Particle]) -> String {
    let mut line = vec!['.'; WIDTH];
    for p in particles {
        let at = ((p.pos[0] / BOX) * (WIDTH - 1) as f32).round() as usize;
        if let Some(c) = line.get_mut(at) {
            *c = 'o';
        }
    }
    line.into_iter().collect()
}

/// Builds the Rust plugin with cargo, as a user would.
fn build_rust(root: &Path, target: &Path) -> Result<PathBuf, Box<dyn Error>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--quiet", "-p", "particles-rust"])
        .arg("--target-dir")
        .arg(target)
        .status()?;
    if !status.success() {
        return Err("`cargo build -p particles-rust` failed".into());
    }
    Ok(target.join("debug").join(library_name("particles_rust")))
}

/// Builds the C plugin into `out`: aside, then renamed over it, so that the
/// watcher never sees half a build.
fn build_c(cc: &CCompiler, source: &Path, out: &Path) -> Result<(), Box<dyn Error>> {
    std::fs::create_dir_all(out.parent().expect("the output has a directory"))?;
    let aside = out.with_extension("building");
    cc.build(
        source,
        &aside,
        &[Path::new(particles_interface::C_INCLUDE)],
        &[],
    )?;
    std::fs::rename(&aside, out)?;
    Ok(())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn library_name(name: &str) -> String {
    format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

struct Args {
    frames: Option<u64>,
    fps: f64,
    c_source: Option<PathBuf>,
}

fn args() -> Result<Args, String> {
    let mut frames = None;
    let mut fps = 20.0;
    let mut c_source = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--frames" => {
                frames = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--frames {value}: not a count"))?,
                )
            }
            "--fps" => {
                fps = value
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f > 0.0)
                    .ok_or(format!("--fps {value}: not a positive number"))?;
            }
            "--c-source" => c_source = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {arg}")),
        }
    }
    Ok(Args {
        frames,
        fps,
        c_source,
    })
}
