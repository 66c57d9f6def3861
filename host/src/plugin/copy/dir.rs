//! Private copies as files in a directory of this user's that no one else
//! can enter: where memory files cannot be used, or one is chosen.
//!
//! Each copy is created exclusively (mode 0600) in a per-process directory
//! `pid-N`; it is removed when its last user drops it, the per-process
//! directory with the last copy; [`remove_private_copies`] removes them
//! all (the command line calls it on SIGINT and SIGTERM); and the
//! directories of processes that died without cleaning up (SIGKILL, a
//! crash) are removed the next time a process uses the directory.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::plugin::error::{CopyDirError, LoadError};
use crate::plugin::sys;

/// A new file in this process's directory inside `dir`, holding what
/// `source` holds.
pub(crate) fn create(
    source: &mut impl std::io::Read,
    name: &str,
    dir: &Path,
) -> Result<PathBuf, LoadError> {
    let process_dir = acquire_process_dir(dir)?;
    let path = process_dir.join(format!("{name}.{}", std::env::consts::DLL_EXTENSION));
    let io = |source| LoadError::Copy {
        place: format!("`{}`", path.display()),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    sys::private_file(&mut options);
    let mut file = options.open(&path).map_err(|e| {
        release_process_dir(&process_dir);
        io(e)
    })?;
    if let Err(e) = std::io::copy(source, &mut file) {
        remove(&path);
        return Err(io(e));
    }
    Ok(path)
}

/// Removes a copy's file, and its directory with the directory's last copy.
pub(crate) fn remove(path: &Path) {
    let _ = fs::remove_file(path);
    if let Some(dir) = path.parent() {
        release_process_dir(dir);
    }
}

/// The directory private copies go to when memory files cannot be used and
/// none was chosen: `$XDG_RUNTIME_DIR/hotslot` (a memory-backed directory
/// of this user's) if set, else `hotslot-UID` in the temporary directory.
pub fn default_copy_dir() -> PathBuf {
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(runtime).join("hotslot");
    }
    std::env::temp_dir().join(format!("hotslot-{}", sys::user_tag()))
}

/// Per-process directories in use, with how many copies each holds.
static PROCESS_DIRS: Mutex<Option<HashMap<PathBuf, usize>>> = Mutex::new(None);

fn process_dirs() -> std::sync::MutexGuard<'static, Option<HashMap<PathBuf, usize>>> {
    PROCESS_DIRS.lock().unwrap_or_else(|e| e.into_inner())
}

/// This process's directory inside `dir`, counted as holding one more
/// copy: `dir` is checked (or created) and swept of dead processes'
/// directories on first use.
fn acquire_process_dir(dir: &Path) -> Result<PathBuf, LoadError> {
    let mut dirs = process_dirs();
    let dirs = dirs.get_or_insert_with(HashMap::new);
    let process_dir = dir.join(format!("pid-{}", std::process::id()));
    if let Some(count) = dirs.get_mut(&process_dir) {
        *count += 1;
        return Ok(process_dir);
    }
    check_copy_dir(dir)?;
    sweep(dir);
    // A directory of this process's ID that this process did not make
    // belongs to a process that ended and had the same ID (Windows reuses
    // IDs soon, wine sooner): what it left is removed, so that its files,
    // such as a copy the system kept loaded until that process ended, do
    // not collide with this one's.
    if fs::symlink_metadata(&process_dir).is_ok() {
        let _ = fs::remove_dir_all(&process_dir);
    }
    match sys::create_private_dir(&process_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            check_private(&process_dir).map_err(|reason| LoadError::CopyDir {
                dir: process_dir.clone(),
                reason,
            })?;
        }
        Err(source) => {
            return Err(LoadError::Copy {
                place: format!("the directory `{}`", process_dir.display()),
                source,
            });
        }
    }
    dirs.insert(process_dir.clone(), 1);
    Ok(process_dir)
}

/// One copy fewer in `process_dir`; the last one removes the directory.
fn release_process_dir(process_dir: &Path) {
    let mut dirs = process_dirs();
    let Some(dirs) = dirs.as_mut() else { return };
    if let Some(count) = dirs.get_mut(process_dir) {
        *count -= 1;
        if *count == 0 {
            dirs.remove(process_dir);
            let _ = fs::remove_dir_all(process_dir);
        }
    }
}

/// Removes every private copy file of this process and their directories;
/// for a process about to exit (the command line calls it on SIGINT and
/// SIGTERM). Memory copies need nothing: they vanish with the process.
pub fn remove_private_copies() {
    let dirs = process_dirs().take().unwrap_or_default();
    for dir in dirs.keys() {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Checks that `dir` can hold private copies: it belongs to this user and
/// no one else can use it (creating it so when missing).
pub(crate) fn check_copy_dir(dir: &Path) -> Result<(), LoadError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            sys::create_private_dir(dir).or_else(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Ok(()),
                _ => Err(LoadError::Copy {
                    place: format!("the directory `{}`", dir.display()),
                    source: e,
                }),
            })?;
        }
        Err(source) => {
            return Err(LoadError::Copy {
                place: format!("the directory `{}`", dir.display()),
                source,
            });
        }
        Ok(_) => {}
    }
    check_private(dir).map_err(|reason| LoadError::CopyDir {
        dir: dir.to_owned(),
        reason,
    })
}

/// Why `dir` is not a private directory of this user, if it is not.
fn check_private(dir: &Path) -> Result<(), CopyDirError> {
    let meta = fs::symlink_metadata(dir).map_err(|e| CopyDirError::Unreadable {
        reason: e.to_string(),
    })?;
    if meta.file_type().is_symlink() {
        return Err(CopyDirError::Symlink);
    }
    if !meta.is_dir() {
        return Err(CopyDirError::NotADirectory);
    }
    // Its owner is this user, and no one else may use it.
    sys::check_private_dir(dir, &meta)
}

/// Removes the directories of processes that no longer run.
fn sweep(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("pid-"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !sys::process_alive(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::fs;

    use crate::plugin::copy::{CopyPlace, PrivateCopy};

    #[test]
    fn a_directory_others_can_enter_is_refused_by_name_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("open");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let e = PrivateCopy::create(&mut &b"x"[..], "x", &CopyPlace::Dir(dir.clone())).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot keep private copies in `{}`: it has mode 0777, which lets other users in; it must be a directory of yours that no one else can use (mode 0700; on Windows, an access list that lets only you in)",
                dir.display()
            )
        );
        // A missing one is created closed.
        let made = parent.path().join("made");
        let copy = PrivateCopy::create(&mut &b"x"[..], "x", &CopyPlace::Dir(made.clone())).unwrap();
        assert_eq!(
            fs::metadata(&made).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let file = copy.load_path();
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let process_dir = file.parent().unwrap().to_owned();
        drop(copy);
        assert!(
            !file.exists() && !process_dir.exists(),
            "the last copy removes its directory"
        );
    }
}
