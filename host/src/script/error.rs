//! Why a script module was refused.

use std::path::PathBuf;

use crate::plugin::LoadError;
use crate::vm::{AsmError, DecodeError, VerifyError};

/// Why a script module could not be loaded: its file (as for a library),
/// its text or bytecode, its verification, or its declarations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The file was refused before it was read: who could have written it,
    /// its size, its hash.
    #[error(transparent)]
    File(#[from] LoadError),
    /// The text does not assemble.
    #[error("`{}` does not assemble: {source}", path.display())]
    Asm {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: AsmError,
    },
    /// The bytecode does not decode.
    #[error("`{}` is not valid bytecode: {source}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: DecodeError,
    },
    /// The program does not verify.
    #[error("`{}` does not verify: {source}", path.display())]
    Verify {
        /// The file.
        path: PathBuf,
        /// Where and why.
        #[source]
        source: VerifyError,
    },
    /// A program without a `.module` declaration: it exports nothing.
    #[error(
        "`{}` declares no `.module`: it is a program (a module declares `.module NAME VERSION` and `.export`s its functions)",
        path.display()
    )]
    NotAModule {
        /// The file.
        path: PathBuf,
    },
    /// The text is not UTF-8 (and not bytecode).
    #[error("`{}` is neither assembly text (UTF-8) nor bytecode (`HSBC`)", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
    },
    /// A script module asked to run isolated.
    #[error("`{}` runs verified on the host's own machines: only native libraries run isolated", path.display())]
    Isolated {
        /// The file.
        path: PathBuf,
    },
    /// The machine its calls run on could not be made.
    #[error("`{}`: cannot make a machine for its calls: {reason}", path.display())]
    Machine {
        /// The file.
        path: PathBuf,
        /// Why (the system would not reserve its stack).
        reason: String,
    },
}
