//! A call counter whose count survives a reload: the old build saves it,
//! the new build restores it.
//!
//! Build: `cargo build -p hotslot-counter`. In `hotslot repl --watch`, bind
//! its `count` to a slot, call it a few times, rebuild: the count goes on.

use std::sync::atomic::{AtomicI64, Ordering};

static COUNT: AtomicI64 = AtomicI64::new(0);

#[cfg(not(feature = "state-v2"))]
const STATE_VERSION: u32 = 1;
#[cfg(feature = "state-v2")]
const STATE_VERSION: u32 = 2;

// ANCHOR: hooks
/// The state: the count, 8 little-endian bytes.
fn save() -> Vec<u8> {
    COUNT.load(Ordering::SeqCst).to_le_bytes().to_vec()
}

/// Restores a count saved by a build with the same state format.
fn load(version: u32, state: &[u8]) -> Result<(), String> {
    if version != STATE_VERSION {
        return Err(format!("state version {version} is not {STATE_VERSION}"));
    }
    let bytes: [u8; 8] = state
        .try_into()
        .map_err(|_| format!("expected 8 bytes of state, found {}", state.len()))?;
    COUNT.store(i64::from_le_bytes(bytes), Ordering::SeqCst);
    Ok(())
}

hotslot_plugin_api::plugin! {
    name = "counter";
    version = "1.0.0";
    state = { version: STATE_VERSION, save: save, load: load };

    /// Counts this call and returns the count so far.
    pub fn count() -> i64 {
        COUNT.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The count so far.
    pub fn peek() -> i64 {
        COUNT.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: hooks
