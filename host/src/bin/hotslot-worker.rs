//! The worker process of an isolated binding: started by a host with a
//! library's sealed copy and a channel, it loads the one build and serves
//! its calls (see `hotslot::isolate`). Not meant to be run by hand.

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    hotslot::isolate::worker_main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!("hotslot-worker: isolated bindings are available on Linux only");
    std::process::ExitCode::FAILURE
}
