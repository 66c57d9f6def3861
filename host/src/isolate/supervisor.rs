//! The supervisor: the process a host starts for an isolated build. It runs
//! no plugin code. It forks the worker that loads the build, and takes the
//! worker, and everything the worker started, with it when it goes.
//!
//! # Why a supervisor, and why a child subreaper
//!
//! A plugin may close any descriptor of its process, fork, daemonize
//! (double fork and `setsid`), or crash. So the worker's link to its host
//! cannot be a descriptor of the worker's, and what the worker started
//! cannot be found from the worker once it is gone. The supervisor holds
//! the link instead (the lifeline pipe, whose other end only the host
//! holds: it reads as ended when the host is gone or stops the build), and
//! is the worker's parent and a *child subreaper* (`PR_SET_CHILD_SUBREAPER`):
//! every process the worker starts, however deep and whatever session or
//! group it moves to, is re-parented to the supervisor when its own parent
//! ends, never to `init`. When the worker ends (a crash, an exit), when the
//! lifeline ends, or on SIGINT, SIGTERM or SIGHUP, the supervisor kills
//! every child it has with SIGKILL and reaps it, again until none is left
//! (each kill re-parents that process's children to it), reports how the
//! worker ended, and exits. The worker dies with the supervisor besides
//! (`PR_SET_PDEATHSIG`, set before it loads anything).
//!
//! Rejected: a process group or session (a daemon leaves it with
//! `setsid`); a cgroup (needs a delegated hierarchy most systems do not
//! give an unprivileged process); a PID namespace (needs user namespaces,
//! which many systems restrict, and makes the worker `init`, which ignores
//! the signals `abort` sends itself).
//!
//! What it does not contain: a plugin that attacks the supervisor itself
//! (a signal or `ptrace` from the same user) can leave it, as it can reach
//! any other process of the user. Isolation contains faults; it is not a
//! sandbox.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The descriptor the library's sealed copy is handed over as.
pub(crate) const LIBRARY_FD: i32 = 3;
/// The descriptor of the channel's memory file.
pub(crate) const CHANNEL_FD: i32 = 4;
/// The read end of a pipe whose write end only the host holds: it reads
/// as ended when the host is gone or stops the build.
pub(crate) const LIFELINE_FD: i32 = 5;
/// The write end of the pipe the supervisor reports on: the worker's
/// process id, then how it ended.
pub(crate) const REPORT_FD: i32 = 6;

/// Which process returned from [`start`].
pub(crate) enum Role {
    /// The worker: load the build and serve it.
    Worker,
    /// The supervisor, whose work is done: exit with this code.
    Done(std::process::ExitCode),
}

/// How the worker ended, as the report says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Killed by this signal.
    Signal(i32),
    /// Exited with this code.
    Exit(i32),
}

impl Ended {
    /// The report's last line.
    fn line(self) -> String {
        match self {
            Ended::Signal(s) => format!("end signal {s}\n"),
            Ended::Exit(c) => format!("end exit {c}\n"),
        }
    }

    /// Reads a report's last line.
    pub(crate) fn parse(line: &str) -> Option<Ended> {
        let mut words = line.trim().split(' ');
        let ended = match (words.next()?, words.next()?, words.next()?.parse().ok()?) {
            ("end", "signal", s) => Ended::Signal(s),
            ("end", "exit", c) => Ended::Exit(c),
            _ => return None,
        };
        words.next().is_none().then_some(ended)
    }

    fn of(status: libc::c_int) -> Ended {
        if libc::WIFSIGNALED(status) {
            Ended::Signal(libc::WTERMSIG(status))
        } else {
            Ended::Exit(libc::WEXITSTATUS(status))
        }
    }
}

/// Becomes the supervisor: forks the worker, which returns
/// [`Role::Worker`]; the supervisor returns once the worker and everything
/// it started are gone.
pub(crate) fn start() -> Role {
    // SAFETY: the host handed these descriptors over, open, to this
    // process alone (the numbers are the host's contract with it).
    let (lifeline, report) = unsafe {
        (
            OwnedFd::from_raw_fd(LIFELINE_FD),
            std::fs::File::from(OwnedFd::from_raw_fd(REPORT_FD)),
        )
    };
    let fail = |what: &str| {
        let _ = writeln!(
            std::io::stderr(),
            "hotslot-worker: {what}: {}",
            std::io::Error::last_os_error()
        );
        Role::Done(std::process::ExitCode::from(2))
    };
    // Orphans below the worker come here, not to init.
    if rustix::process::set_child_subreaper(Some(rustix::process::getpid())).is_err() {
        return fail("cannot become a child subreaper");
    }
    // The signals the supervisor waits for are read from a descriptor,
    // blocked before the fork so that none is lost; the worker unblocks
    // them.
    // SAFETY: a zeroed `sigset_t` is a valid argument for `sigemptyset`,
    // which initializes it; the calls take pointers to it only for their
    // duration.
    let (mask, old) = unsafe {
        let mut mask: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&raw mut mask);
        for s in [libc::SIGCHLD, libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&raw mut mask, s);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &raw const mask, &raw mut old);
        (mask, old)
    };
    // SAFETY: `mask` is initialized; -1 asks for a new descriptor.
    let signals = unsafe { libc::signalfd(-1, &raw const mask, libc::SFD_CLOEXEC) };
    if signals < 0 {
        return fail("cannot read signals");
    }
    // SAFETY: `signalfd` returned a new descriptor owned by no one else.
    let signals = unsafe { OwnedFd::from_raw_fd(signals) };
    let me = rustix::process::getpid();
    // SAFETY: this process has one thread (nothing of the program's has
    // started another), so the child may go on running Rust code.
    let worker = unsafe { libc::fork() };
    if worker < 0 {
        return fail("cannot fork the worker");
    }
    if worker == 0 {
        // The worker: it dies with the supervisor, holds neither the
        // lifeline nor the report, and gets the signal mask it would have.
        if rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))
            .is_err()
            || rustix::process::getppid() != Some(me)
        {
            // The supervisor is gone already (or the link cannot be made).
            // SAFETY: ends this process at once.
            unsafe { libc::_exit(3) };
        }
        drop((lifeline, report, signals));
        // SAFETY: `old` is the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &raw const old, std::ptr::null_mut()) };
        return Role::Worker;
    }
    // The supervisor keeps nothing of the build's.
    for fd in [LIBRARY_FD, CHANNEL_FD] {
        // SAFETY: handed over to this process, and used by the worker only,
        // which has its own copy of each.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    Role::Done(supervise(worker, &lifeline, &signals, report))
}

/// Waits until the worker ends, the lifeline ends or a signal says to
/// stop; then takes everything down and reports.
fn supervise(
    worker: libc::pid_t,
    lifeline: &OwnedFd,
    signals: &OwnedFd,
    mut report: std::fs::File,
) -> std::process::ExitCode {
    let _ = report.write_all(format!("pid {worker}\n").as_bytes());
    let mut ended = None;
    'watch: loop {
        let mut fds = [
            libc::pollfd {
                fd: lifeline.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: signals.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: `fds` is an array of two initialized entries.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        // Nothing is ever written: readable means ended.
        if fds[0].revents != 0 {
            break;
        }
        if fds[1].revents != 0 {
            let mut info = [0_u8; size_of::<libc::signalfd_siginfo>()];
            // SAFETY: reads into a buffer of one `signalfd_siginfo`.
            let _ =
                unsafe { libc::read(signals.as_raw_fd(), info.as_mut_ptr().cast(), info.len()) };
            let signal = u32::from_ne_bytes(info[..4].try_into().expect("4 bytes"));
            if signal != libc::SIGCHLD as u32 {
                break;
            }
            // Reap what ended: the worker, or an orphan re-parented here.
            while let Some((pid, status)) = reap(libc::WNOHANG) {
                if pid == worker {
                    ended = Some(Ended::of(status));
                    break 'watch;
                }
            }
        }
    }
    take_down(worker, &mut ended);
    let ended = ended.unwrap_or(Ended::Signal(libc::SIGKILL));
    let _ = report.write_all(ended.line().as_bytes());
    std::process::ExitCode::SUCCESS
}

/// One ended child, reaped: its pid and wait status. `None` when no child
/// ended (with `WNOHANG`) or none is left.
fn reap(options: libc::c_int) -> Option<(libc::pid_t, libc::c_int)> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is writable for the call.
        let pid = unsafe { libc::waitpid(-1, &raw mut status, options) };
        if pid > 0 {
            return Some((pid, status));
        }
        if pid < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return None;
    }
}

/// Kills every child of this process with SIGKILL, and reaps it, until
/// none is left: each kill re-parents the killed one's children here.
/// Records how `worker` ended when it is reaped here.
fn take_down(worker: libc::pid_t, ended: &mut Option<Ended>) {
    let me = std::process::id() as libc::pid_t;
    loop {
        // Whatever ended already.
        while let Some((pid, status)) = reap(libc::WNOHANG) {
            if pid == worker {
                *ended = Some(Ended::of(status));
            }
        }
        let children = children_of(me);
        if children.is_empty() {
            // None listed: none left, or one re-parented since the list
            // was read; a blocking reap tells.
            match reap(0) {
                Some((pid, status)) => {
                    if pid == worker {
                        *ended = Some(Ended::of(status));
                    }
                    continue;
                }
                None => return,
            }
        }
        for child in children {
            // A child's process id cannot be reused before it is reaped
            // here: the signal reaches that child.
            // SAFETY: `kill` with a pid and a signal number.
            unsafe { libc::kill(child, libc::SIGKILL) };
        }
        if let Some((pid, status)) = reap(0)
            && pid == worker
        {
            *ended = Some(Ended::of(status));
        }
    }
}

/// The processes whose parent is `parent`, from `/proc`.
fn children_of(parent: libc::pid_t) -> Vec<libc::pid_t> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<libc::pid_t>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // After the name in parentheses, which may hold anything:
                // the state, then the parent's pid.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse().ok())
                    == Some(parent)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_line_round_trips_and_nothing_else_reads_as_one() {
        for e in [Ended::Signal(11), Ended::Exit(42), Ended::Exit(0)] {
            assert_eq!(Ended::parse(&e.line()), Some(e));
        }
        for bad in [
            "",
            "end",
            "end signal",
            "end signal x",
            "end exit 1 2",
            "pid 5",
        ] {
            assert_eq!(Ended::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_children_of_this_process_are_listed() {
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .spawn()
            .unwrap();
        let listed = children_of(std::process::id() as libc::pid_t);
        let _ = child.kill();
        let _ = child.wait();
        assert!(listed.contains(&(child.id() as libc::pid_t)), "{listed:?}");
    }
}
