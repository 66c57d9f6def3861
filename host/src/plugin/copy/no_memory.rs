//! Where the system has no sealed memory files (every system but Linux):
//! no memory copy can exist, and copies go to a private directory.

use std::path::PathBuf;

use super::CopyBytes;
use crate::plugin::error::LoadError;

/// A sealed memory file: none can be made here.
#[derive(Debug)]
pub(crate) enum Sealed {}

/// Memory copies cannot be made here.
pub(crate) fn available() -> Result<(), &'static str> {
    Err("this system has no sealed memory files")
}

/// Never called: [`available`] says no.
pub(crate) fn create(_: &mut impl std::io::Read, _: &str) -> Result<(Sealed, String), LoadError> {
    unreachable!("memory copies are not available on this system")
}

impl Sealed {
    pub(crate) fn len(&self) -> u64 {
        match *self {}
    }

    pub(crate) fn bytes(&self) -> std::io::Result<CopyBytes> {
        match *self {}
    }

    pub(crate) fn load_path(&self) -> PathBuf {
        match *self {}
    }

    pub(crate) fn renumber(&mut self) -> std::io::Result<()> {
        match *self {}
    }
}
