//! The plugin interface of the particles example: what the host and its
//! plugins (Rust and C) share. The host and the Rust plugin depend on this
//! crate; C plugins include the header cbindgen generates from it
//! (`include/particles.h`, and [`C_INCLUDE`] at build time).
//!
//! Each type is `#[repr(C)]` and derives `StableAbi`: the host checks every
//! plugin's view of it before binding, with `abi_stable` for a Rust plugin
//! and field by field for a C one.

use abi_stable::StableAbi;
use hotslot_plugin_api::HsStr;

/// A point moving in the box, `0..=BOX` on each axis.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, Default, PartialEq)]
pub struct Particle {
    /// Where it is.
    pub pos: [f32; 2],
    /// How fast it moves, in units per second.
    pub vel: [f32; 2],
}

/// What plugins may ask of the host (version 1.0).
#[repr(C)]
#[derive(StableAbi)]
pub struct Host {
    /// Writes a line to the host's log.
    pub log: unsafe extern "C" fn(message: HsStr),
}

impl Host {
    /// Writes a line to the host's log.
    pub fn log(&self, message: &str) {
        // SAFETY: the host's `log` takes a view valid for the call.
        unsafe { (self.log)(HsStr::from_str(message)) }
    }
}

/// The side of the box, on both axes.
pub const BOX: f32 = 10.0;

hotslot_plugin_api::hs_struct!(Particle);
hotslot_plugin_api::hs_host_table!(Host, "particles.Host", 1, 0);

/// The directory with `particles.h`, `hotslot.h` and `hotslot_shim.h`, as
/// this crate's build wrote them.
pub const C_INCLUDE: &str = concat!(env!("OUT_DIR"), "/include");
