//! The loader's platform code, behind one seam (as libloading's `os::unix`
//! and `os::windows`): the trust checks' view of owners and permissions,
//! private copy directories, whether a process runs, opening a library and
//! asking the system's loader what it has loaded. The shared code above
//! calls these by one name on every platform.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

#[cfg(not(any(unix, windows)))]
compile_error!("hotslot loads libraries on Unix and Windows only");
