//! How a library is loaded: what every step of `open.rs` reads.

use super::copy::CopyPlace;
use super::trust::{Sha256, TrustPolicy};

/// How to load a library.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Where the private copy goes.
    pub copies: CopyPlace,
    /// Where the file may come from.
    pub trust: TrustPolicy,
    /// What the file must be: the SHA-256 of its content, checked on the
    /// sealed private copy that is then opened.
    pub pin: Option<Sha256>,
    /// The largest file loaded, in bytes: a larger one is refused before
    /// any of it is copied.
    pub max_size: u64,
}

/// The largest library file loaded unless a table says otherwise: 1 GiB,
/// above the largest debug builds of real plugins.
pub const DEFAULT_MAX_LIBRARY_SIZE: u64 = 1 << 30;

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            copies: CopyPlace::default(),
            trust: TrustPolicy::default(),
            pin: None,
            max_size: DEFAULT_MAX_LIBRARY_SIZE,
        }
    }
}
