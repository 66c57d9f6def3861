//! The host's side of an isolated build: its worker process, the channel,
//! calls, and a new worker after a crash.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotslot_plugin_api::{HsCallCtx, HsStatus, HsStr, HsValue};

use super::channel::{self, Region};
use super::supervisor::{CHANNEL_FD, Ended, LIBRARY_FD, LIFELINE_FD, REPORT_FD};
use super::{Crash, IsolateError, IsolateOptions, IsolatedFailure, describe};
use crate::plugin::{PluginInfo, PluginKind, PrivateCopy};
use crate::types::ValType;

/// How long a worker may take to load its build and describe it.
const START_WITHIN: Duration = Duration::from_secs(10);

/// How long a supervisor may take to take its worker down once told to:
/// it runs no plugin code, so only a supervisor stopped from outside
/// (SIGSTOP) takes longer, and is then killed.
const STOP_WITHIN: Duration = Duration::from_secs(5);

pub(crate) use crate::routed::{route, route_load, route_save};

/// The shared memory of one isolated build: the memory file, sealed
/// against resizing, and its mapping in this process, reached through raw
/// pointers and atomics only (see `channel.rs`).
struct Channel {
    file: std::fs::File,
    map: memmap2::MmapRaw,
}

impl Channel {
    fn new(name: &str) -> std::io::Result<Channel> {
        use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, memfd_create};
        let fd = memfd_create(
            format!("hotslot-channel-{name}"),
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        let file = std::fs::File::from(fd);
        file.set_len(channel::REGION_SIZE as u64)?;
        // A worker gets this file: it can neither shrink it under this
        // process's mapping (which would fault it), nor grow it, nor add a
        // seal that would keep the next worker from mapping it.
        fcntl_add_seals(&file, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)?;
        let map = memmap2::MmapRaw::map_raw(&file)?;
        if map.len() < channel::REGION_SIZE {
            return Err(std::io::Error::other("the channel's mapping is too short"));
        }
        Ok(Channel { file, map })
    }

    fn region(&self) -> &Region {
        // SAFETY: the mapping is page-aligned and at least `REGION_SIZE`
        // long, zeroed when made, sealed against shrinking, and lives as
        // long as `self`, which the result borrows; every field of `Region`
        // is an atomic, valid for any bits, and the region has no padding:
        // what the worker writes, it writes into atomics this process reads
        // as atomics.
        unsafe { &*self.map.as_mut_ptr().cast::<Region>() }
    }
}

/// One worker process, its supervisor, and the thread that waits for
/// their end.
struct Process {
    /// The worker's process id (the process running the plugin).
    pid: u32,
    /// The supervisor, killed if it does not end when told to.
    supervisor: OwnedFd,
    /// The end of the lifeline this process holds: dropped to stop.
    lifeline: Option<OwnedFd>,
    /// Set by the waiting thread when the worker has ended, and with it
    /// everything it started.
    ended: Arc<(Mutex<Option<Crash>>, Condvar)>,
    waiter: Option<JoinHandle<()>>,
}

impl Process {
    /// How it ended, once it has.
    fn crash(&self) -> Option<Crash> {
        *self.ended.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops it (its supervisor kills the worker and everything the worker
    /// started), and waits until the waiting thread has seen them end.
    fn kill(&mut self) {
        drop(self.lifeline.take());
        let (ended, condvar) = &*self.ended;
        let guard = ended.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = condvar
            .wait_timeout_while(guard, STOP_WITHIN, |e| e.is_none())
            .unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            // Stopped from outside: only a kill ends it now (the worker
            // dies with it; what the worker started is left).
            let _ =
                rustix::process::pidfd_send_signal(&self.supervisor, rustix::process::Signal::KILL);
        }
        drop(guard);
        if let Some(waiter) = self.waiter.take() {
            let _ = waiter.join();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// What calls share: the worker serving now, if one is running, and how
/// long the host spins for its replies.
struct Serving {
    process: Option<Process>,
    spin: Duration,
    /// The number of the last call asked for: the host's own count, never
    /// read back from the channel.
    call: u32,
    /// When the worker failed (crashed or missed a deadline), within the
    /// rollback window.
    failures: std::collections::VecDeque<Instant>,
}

/// An isolated build: its copy, its channel, its worker.
pub(crate) struct Remote {
    source: PathBuf,
    copy: Arc<PrivateCopy>,
    options: IsolateOptions,
    worker: PathBuf,
    channel: Arc<Channel>,
    /// What the first worker said; each new one must say the same.
    description: Vec<u8>,
    serving: Mutex<Serving>,
    /// Set when failures reach the rollback limit; taken by the caller that
    /// rolls back.
    rollback_due: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("source", &self.source)
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// Starts a worker for `copy` (checked by the caller), and reads and
    /// checks its description of the build.
    pub(crate) fn start(
        source: &Path,
        copy: Arc<PrivateCopy>,
        options: &IsolateOptions,
        worker: PathBuf,
    ) -> Result<(Remote, PluginInfo, PluginKind), IsolateError> {
        let name = source
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("plugin");
        let channel = Arc::new(Channel::new(name).map_err(|e| IsolateError::Spawn {
            worker: worker.clone(),
            source: e,
        })?);
        let mut remote = Remote {
            source: source.to_owned(),
            copy,
            options: options.clone(),
            worker,
            channel,
            description: Vec::new(),
            serving: Mutex::new(Serving {
                process: None,
                spin: Duration::ZERO,
                call: 0,
                failures: std::collections::VecDeque::new(),
            }),
            rollback_due: std::sync::atomic::AtomicBool::new(false),
        };
        let spin = remote.spin();
        let (process, description) = remote.spawn(spin)?;
        let routes = describe::Routes {
            function: route,
            save: route_save,
            load: route_load,
        };
        let (info, kind) = describe::read(&description, &routes)
            .map_err(|problem| IsolateError::Description { problem })?;
        remote.description = description;
        let serving = remote.serving.get_mut().expect("new");
        serving.process = Some(process);
        serving.spin = spin;
        Ok((remote, info, kind))
    }

    /// The worker program.
    pub(crate) fn worker(&self) -> &Path {
        &self.worker
    }

    /// The process id of the worker serving now, if one is running.
    pub(crate) fn pid(&self) -> Option<u32> {
        let serving = self.serving.lock().unwrap_or_else(|e| e.into_inner());
        serving
            .process
            .as_ref()
            .filter(|p| p.crash().is_none())
            .map(|p| p.pid)
    }

    /// The options it was started with.
    pub(crate) fn options(&self) -> &IsolateOptions {
        &self.options
    }

    /// How long each side spins before it sleeps, for a worker started by
    /// this thread: not at all when this thread may run on one CPU only
    /// (pinned, or a one-CPU machine), since the worker inherits its CPUs
    /// and could not answer while its caller spins.
    fn spin(&self) -> Duration {
        let one_cpu = rustix::thread::sched_getaffinity(None).is_ok_and(|cpus| cpus.count() == 1);
        if one_cpu {
            return Duration::ZERO;
        }
        self.options.spin.unwrap_or(super::DEFAULT_SPIN)
    }

    /// Starts a worker (under its supervisor) that spins `spin` for each
    /// next call, and waits for its description.
    fn spawn(&self, spin: Duration) -> Result<(Process, Vec<u8>), IsolateError> {
        let spawn_error = |e: std::io::Error| IsolateError::Spawn {
            worker: self.worker.clone(),
            source: e,
        };
        let region = self.channel.region();
        region.state.store(channel::STARTING, Ordering::Release);
        let Some(library) = self.copy.memory_fd() else {
            return Err(IsolateError::Unsupported {
                reason: "the private copy is not a memory file",
            });
        };
        let chan = self.channel.file.as_raw_fd();
        let lib = library.as_raw_fd();
        // The supervisor's lifeline: it reads the other end until this one
        // closes, which happens when this process stops the build or ends,
        // however it ends. And the pipe it reports on.
        let (lifeline_read, lifeline) = pipe().map_err(spawn_error)?;
        let (report, report_write) = pipe().map_err(spawn_error)?;
        let (line, rep) = (lifeline_read.as_raw_fd(), report_write.as_raw_fd());
        let mut command = Command::new(&self.worker);
        command
            .arg(&self.source)
            .arg(spin.as_nanos().to_string())
            .stdin(Stdio::null());
        // SAFETY: between fork and exec the closure calls only `fcntl` and
        // `dup2`, which are async-signal-safe, on descriptors this process
        // keeps open until the spawn returns. (Not `PR_SET_PDEATHSIG` for
        // the supervisor: it fires when the *thread* that started it ends.)
        unsafe {
            command.pre_exec(move || {
                // Out of the way first, so that none lands on another's
                // target number before that one is moved.
                let moved =
                    [lib, chan, line, rep].map(|fd| libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10));
                let targets = [LIBRARY_FD, CHANNEL_FD, LIFELINE_FD, REPORT_FD];
                if moved.iter().any(|fd| *fd < 0)
                    || moved
                        .iter()
                        .zip(targets)
                        .any(|(fd, target)| libc::dup2(*fd, target) < 0)
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // A worker program written a moment ago (a host installing or
        // updating it while it runs; a test) may still be open for writing
        // in a child another thread of this process forked meanwhile, until
        // that child execs: exec fails with ETXTBSY for that moment. Tried
        // again a few times; a program someone keeps open for writing is
        // refused with that error after some 0.2 s.
        let mut spawned = command.spawn();
        for wait in [1, 4, 16, 64, 128] {
            match &spawned {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(Duration::from_millis(wait));
                    spawned = command.spawn();
                }
                _ => break,
            }
        }
        drop((lifeline_read, report_write));
        let mut child = spawned.map_err(spawn_error)?;
        let supervisor = rustix::process::Pid::from_child(&child);
        let supervisor =
            match rustix::process::pidfd_open(supervisor, rustix::process::PidfdFlags::empty()) {
                Ok(fd) => fd,
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(spawn_error(e.into()));
                }
            };
        // The supervisor's first line: the worker's process id.
        let mut report = std::io::BufReader::new(std::fs::File::from(report));
        let mut first = String::new();
        let pid = match std::io::BufRead::read_line(&mut report, &mut first) {
            Ok(_) => first
                .trim()
                .strip_prefix("pid ")
                .and_then(|p| p.parse::<u32>().ok()),
            Err(_) => None,
        };
        let Some(pid) = pid else {
            drop(lifeline);
            let status = child.wait().map_err(spawn_error)?;
            return Err(IsolateError::Died {
                how: crash_of(status),
            });
        };
        let ended = Arc::new((Mutex::new(None), Condvar::new()));
        let waiter = {
            let ended = Arc::clone(&ended);
            let channel = Arc::clone(&self.channel);
            std::thread::Builder::new()
                .name("hotslot-worker-wait".into())
                .spawn(move || {
                    // The supervisor's last line says how the worker ended;
                    // then the supervisor exits, with everything below it
                    // gone. No last line: the supervisor itself was killed.
                    let mut rest = String::new();
                    let _ = std::io::Read::read_to_string(&mut report, &mut rest);
                    let told = rest.lines().last().and_then(Ended::parse);
                    let status = child.wait();
                    let crash = match (told, status) {
                        (Some(Ended::Signal(signal)), _) => Crash::Signal { signal },
                        (Some(Ended::Exit(code)), _) => Crash::Exit { code },
                        (None, Ok(status)) => crash_of(status),
                        (None, Err(_)) => Crash::Signal { signal: 0 },
                    };
                    *ended.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(crash);
                    ended.1.notify_all();
                    // Reaped: nothing can write the channel any more. A
                    // refusal stays: it is the worker's last word, which the
                    // host may not have read yet.
                    let state = &channel.region().state;
                    let _ = state.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                        (s != channel::REFUSED).then_some(channel::DEAD)
                    });
                    let _ = rustix::thread::futex::wake(
                        state,
                        rustix::thread::futex::Flags::empty(),
                        1,
                    );
                })
                .map_err(spawn_error)?
        };
        let mut process = Process {
            pid,
            supervisor,
            lifeline: Some(lifeline),
            ended,
            waiter: Some(waiter),
        };
        let deadline = Instant::now() + START_WITHIN;
        match channel::wait_while(
            &region.state,
            channel::STARTING,
            self.spin(),
            Some(deadline),
        ) {
            channel::READY => {
                let len = region.reply_len.load(Ordering::Relaxed) as usize;
                Ok((process, channel::take(&region.reply_bytes, len)))
            }
            channel::REFUSED => {
                let len = region.reply_len.load(Ordering::Relaxed) as usize;
                let reason =
                    String::from_utf8_lossy(&channel::take(&region.reply_bytes, len)).into_owned();
                Err(IsolateError::Refused { reason })
            }
            channel::STARTING => {
                process.kill();
                Err(IsolateError::Slow {
                    after: START_WITHIN,
                })
            }
            _ => {
                process.kill();
                Err(match process.crash() {
                    Some(how) => IsolateError::Died { how },
                    None => IsolateError::Description {
                        problem: "the worker wrote an unknown state".into(),
                    },
                })
            }
        }
    }

    /// Calls function `index` of the build (of signature `params` ->
    /// `ret`) in the worker, as an in-process call would be made: its
    /// scalar result into `*out`, its string result or error message through
    /// `ctx`'s callbacks. `Err` when the worker could not answer.
    ///
    /// # Safety
    ///
    /// `args` points to the function's arguments, each of its declared
    /// type (strings readable for their length); `out` is writable; `ctx`
    /// is a valid call context whose callbacks copy what they are given.
    pub(crate) unsafe fn call(
        &self,
        index: usize,
        params: &[ValType],
        ret: Option<ValType>,
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        out: *mut HsValue,
    ) -> Result<HsStatus, IsolatedFailure> {
        let write = |region: &Region| {
            let mut used = 0;
            for (i, ty) in params.iter().enumerate() {
                // SAFETY: the caller passes one argument per parameter.
                let arg = unsafe { &*args.add(i) };
                let word = &region.args[i];
                let bits = match ty {
                    ValType::Str => {
                        // SAFETY: a string argument is readable for its length.
                        let bytes = unsafe { arg.str.as_bytes() };
                        let end = used + bytes.len();
                        if end > channel::ARG_BYTES {
                            let needed = used
                                + params[i..]
                                    .iter()
                                    .enumerate()
                                    .filter(|(_, t)| **t == ValType::Str)
                                    // SAFETY: as above.
                                    .map(|(j, _)| unsafe { (*args.add(i + j)).str.len })
                                    .sum::<usize>();
                            return Err(IsolatedFailure::TooLarge {
                                needed,
                                capacity: channel::ARG_BYTES,
                            });
                        }
                        channel::put(&region.arg_bytes[used..], bytes);
                        word.offset.store(used as u32, Ordering::Relaxed);
                        word.len.store(bytes.len() as u32, Ordering::Relaxed);
                        used = end;
                        0
                    }
                    // SAFETY: the argument is of its declared type, a scalar.
                    scalar => unsafe { scalar_bits(*scalar, arg) },
                };
                word.bits.store(bits, Ordering::Relaxed);
            }
            Ok(params.len() as u32)
        };
        let (_serving, reply) = self.exchange(index as u32, true, write)?;
        let bits = reply.bits;
        // SAFETY: `out` is writable (the caller's promise); each arm writes
        // the field of the declared result type.
        unsafe {
            match ret {
                Some(ValType::I32) => (*out).i32 = bits as u32 as i32,
                Some(ValType::I64) => (*out).i64 = bits as i64,
                Some(ValType::F64) => (*out).f64 = f64::from_bits(bits),
                Some(ValType::Bool) => (*out).boolean = bits != 0,
                _ => {}
            }
        }
        match reply.kind {
            channel::REPLY_STR => {
                // SAFETY: `ctx` is valid (the caller's promise); the
                // callback copies the bytes, which live until it returns.
                unsafe { ((*ctx).return_str)(ctx, raw_str(&reply.bytes)) };
            }
            channel::REPLY_ERROR => {
                // SAFETY: as above.
                unsafe { ((*ctx).set_error)(ctx, raw_str(&reply.bytes)) };
            }
            channel::REPLY_TOO_LONG => {
                return Err(IsolatedFailure::ResultTooLarge {
                    len: reply.len,
                    capacity: channel::REPLY_BYTES,
                });
            }
            _ => {}
        }
        Ok(HsStatus(reply.status))
    }

    /// Saves the build's state in its worker (its `save_state` hook): the
    /// bytes, or why there are none. A worker that is not running (it
    /// crashed) has no state to save: none is made up by starting another.
    pub(crate) fn save_state(&self) -> Result<Vec<u8>, String> {
        let (_serving, reply) = self
            .exchange(channel::SAVE_STATE, false, |_| Ok(0))
            .map_err(|e| format!("its worker gave no answer: {e}"))?;
        match reply.kind {
            _ if HsStatus(reply.status) != HsStatus::OK => {
                Err(String::from_utf8_lossy(&reply.bytes).into_owned())
            }
            channel::REPLY_BYTES_KIND => Ok(reply.bytes),
            channel::REPLY_TOO_LONG => Err(format!(
                "its state of {} bytes is larger than the {} an isolated worker carries",
                reply.len,
                channel::REPLY_BYTES
            )),
            _ => Ok(Vec::new()),
        }
    }

    /// Loads a state saved in format `version` into the build's worker
    /// (its `load_state` hook): `Err` with the plugin's message, or why the
    /// worker could not take it.
    pub(crate) fn load_state(&self, version: u32, state: &[u8]) -> Result<(), String> {
        if state.len() > channel::ARG_BYTES {
            return Err(format!(
                "the state of {} bytes is larger than the {} an isolated worker takes",
                state.len(),
                channel::ARG_BYTES
            ));
        }
        let write = |region: &Region| {
            channel::put(&region.arg_bytes, state);
            region.args[0]
                .bits
                .store(u64::from(version), Ordering::Relaxed);
            region.args[0].offset.store(0, Ordering::Relaxed);
            region.args[0]
                .len
                .store(state.len() as u32, Ordering::Relaxed);
            Ok(1)
        };
        let (_serving, reply) = self
            .exchange(channel::LOAD_STATE, true, write)
            .map_err(|e| format!("its worker gave no answer: {e}"))?;
        if HsStatus(reply.status) == HsStatus::OK {
            return Ok(());
        }
        Err(String::from_utf8_lossy(&reply.bytes).into_owned())
    }

    /// One request to the worker: `write` fills in its arguments and gives
    /// their count, then `function` is asked for and the reply waited for.
    /// A worker that is not running is started first when `restart`.
    /// Returns the reply, read once and bounded, with the guard that keeps
    /// other callers out until the caller is done with it.
    fn exchange(
        &self,
        function: u32,
        restart: bool,
        write: impl Fn(&Region) -> Result<u32, IsolatedFailure>,
    ) -> Result<(std::sync::MutexGuard<'_, Serving>, channel::Reply), IsolatedFailure> {
        let mut serving = self.serving.lock().unwrap_or_else(|e| e.into_inner());
        // A worker that died before it took the call (killed while idle,
        // its end not yet seen) ran none of it: the call is made again, in
        // a new worker, once.
        let mut retried = false;
        loop {
            if serving.process.as_ref().is_none_or(|p| p.crash().is_some()) {
                serving.process = None;
                if !restart {
                    return Err(IsolatedFailure::Restart {
                        reason: "it is not running".into(),
                    });
                }
                let spin = self.spin();
                let (process, description) =
                    self.spawn(spin).map_err(|e| IsolatedFailure::Restart {
                        reason: e.to_string(),
                    })?;
                if description != self.description {
                    return Err(IsolatedFailure::Restart {
                        reason: "the new worker described the build differently".into(),
                    });
                }
                serving.process = Some(process);
                serving.spin = spin;
            }
            let region = self.channel.region();
            let nargs = write(region)?;
            serving.call = serving.call.wrapping_add(1);
            let call = serving.call;
            let started = Instant::now();
            channel::request(region, call, function, nargs);
            let deadline = self.options.deadline.map(|d| started + d);
            let state = channel::wait_while(&region.state, channel::CALL, serving.spin, deadline);
            let process = serving.process.as_mut().expect("started above");
            match state {
                channel::DONE => match channel::read_reply(region, call) {
                    Ok(reply) => return Ok((serving, reply)),
                    Err(wrong) => {
                        process.kill();
                        serving.process = None;
                        self.failed(&mut serving);
                        return Err(IsolatedFailure::Protocol {
                            expected: wrong.expected,
                            found: wrong.found,
                        });
                    }
                },
                channel::CALL => {
                    process.kill();
                    serving.process = None;
                    self.failed(&mut serving);
                    return Err(IsolatedFailure::Timeout {
                        after: self.options.deadline.expect("a deadline passed"),
                    });
                }
                _ => {
                    // Dead, or a worker that wrote a state it should not:
                    // either way it is done.
                    process.kill();
                    let how = process.crash().unwrap_or(Crash::Signal { signal: 9 });
                    serving.process = None;
                    let untouched = region.taken.load(Ordering::Acquire) != call;
                    // It died before it took the request: as if found dead
                    // above (its end was not yet seen), whatever the timing.
                    if untouched && !restart {
                        return Err(IsolatedFailure::Restart {
                            reason: "it is not running".into(),
                        });
                    }
                    if untouched && !retried {
                        retried = true;
                        continue;
                    }
                    self.failed(&mut serving);
                    return Err(IsolatedFailure::Crashed { how });
                }
            }
        }
    }
}

/// How a process ended, from its wait status.
fn crash_of(status: std::process::ExitStatus) -> Crash {
    match status.signal() {
        Some(signal) => Crash::Signal { signal },
        None => Crash::Exit {
            code: status.code().unwrap_or(-1),
        },
    }
}

/// A pipe, both ends closed on `exec`: (read, write).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe2` writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `pipe2` succeeded: both are new descriptors owned by no one
    // else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A view of `bytes` to pass to a context's callback.
fn raw_str(bytes: &[u8]) -> HsStr {
    HsStr {
        ptr: bytes.as_ptr(),
        len: bytes.len(),
    }
}

impl Remote {
    /// Counts a failure of the worker; past the rollback limit, marks the
    /// build for a rollback (once).
    fn failed(&self, serving: &mut Serving) {
        let Some(limit) = self.options.rollback_after else {
            return;
        };
        let now = Instant::now();
        serving.failures.push_back(now);
        while serving
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) > limit.within)
        {
            serving.failures.pop_front();
        }
        if serving.failures.len() >= limit.failures as usize {
            serving.failures.clear();
            self.rollback_due.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the build's failures reached its rollback limit since this
    /// was last asked; the limit, when so.
    pub(crate) fn take_rollback(&self) -> Option<super::CrashLimit> {
        self.rollback_due
            .swap(false, Ordering::Relaxed)
            .then_some(self.options.rollback_after)
            .flatten()
    }
}

/// The bits of a scalar argument of type `ty`, as the channel carries them.
///
/// # Safety
///
/// `value` holds a value of `ty`, one of `i32`, `i64`, `f64` and `bool`.
unsafe fn scalar_bits(ty: ValType, value: &HsValue) -> u64 {
    // SAFETY: the caller's promise: the field of `ty` is the one written; a
    // boolean is read as a byte, so that any value is defined.
    unsafe {
        match ty {
            ValType::I32 => value.i32 as u32 as u64,
            ValType::I64 => value.i64 as u64,
            ValType::F64 => value.f64.to_bits(),
            _ => u64::from(*(value as *const HsValue).cast::<u8>() != 0),
        }
    }
}

/// Finds the worker program: `explicit`, else `$HOTSLOT_WORKER`, else
/// `hotslot-worker` beside the running program or in the directory above
/// it, else on `$PATH`.
pub(crate) fn find_worker(explicit: Option<&Path>) -> Result<PathBuf, IsolateError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    if let Some(path) = std::env::var_os("HOTSLOT_WORKER").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let name = format!("hotslot-worker{}", std::env::consts::EXE_SUFFIX);
    let mut looked = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.parent().into_iter().flat_map(|d| [Some(d), d.parent()]) {
            looked.extend(dir.map(|d| d.join(&name)));
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        looked.extend(std::env::split_paths(&path).map(|d| d.join(&name)));
    }
    looked
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or(IsolateError::WorkerNotFound { looked })
}
