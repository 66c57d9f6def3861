//! How a call can fail other than by its function's own error: the process
//! running it ended, or it missed its deadline. Isolated bindings report
//! these (`crate::isolate`); the VM and typed handles carry them.

use std::fmt;
use std::time::Duration;

/// How a worker process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    /// Killed by a signal (a segfault, an abort, a kill from outside).
    Signal {
        /// The signal's number.
        signal: i32,
    },
    /// Exited by itself (its plugin called `exit`), with this code.
    Exit {
        /// The exit code.
        code: i32,
    },
}

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Crash::Signal { signal } => match signal_name(signal) {
                Some(name) => write!(f, "was killed by signal {signal} ({name})"),
                None => write!(f, "was killed by signal {signal}"),
            },
            Crash::Exit { code } => write!(f, "exited with code {code}"),
        }
    }
}

/// The usual name of a signal.
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        31 => "SIGSYS",
        _ => return None,
    })
}

/// Why an isolated call got no answer from its function.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IsolatedFailure {
    /// The worker process died during the call.
    #[error("its worker process {how} during the call; the next call starts a new worker")]
    Crashed {
        /// How it ended.
        how: Crash,
    },
    /// The call did not return within the deadline; the worker was killed.
    #[error(
        "it did not return within {after:?}, so its worker process was killed; \
         the next call starts a new worker"
    )]
    Timeout {
        /// The deadline.
        after: Duration,
    },
    /// The call's string arguments do not fit the channel.
    #[error(
        "its string arguments take {needed} bytes, more than the {capacity} an isolated call carries"
    )]
    TooLarge {
        /// Bytes needed.
        needed: usize,
        /// Bytes the channel has for them.
        capacity: usize,
    },
    /// A string result longer than the channel carries.
    #[error(
        "its string result of {len} bytes is longer than the {capacity} an isolated call carries"
    )]
    ResultTooLarge {
        /// The result's length.
        len: usize,
        /// Bytes the channel has for it.
        capacity: usize,
    },
    /// The worker answered a call it was not given (its reply carried
    /// another call's number): it wrote what it should not, and was
    /// stopped.
    #[error(
        "its worker process answered call {found}, not the call {expected} it was given, \
         so it was stopped; the next call starts a new worker"
    )]
    Protocol {
        /// The host's number of the call.
        expected: u32,
        /// The number the worker's reply gave.
        found: u32,
    },
    /// The worker of an earlier crash could not be started again.
    #[error("its worker could not be started again: {reason}")]
    Restart {
        /// Why.
        reason: String,
    },
}
