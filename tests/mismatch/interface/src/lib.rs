//! `examples/particles/interface` with `Particle` edited by one feature.

use abi_stable::StableAbi;
use hotslot_plugin_api::HsStr;

/// A point moving in the box.
#[cfg(not(any(
    feature = "added",
    feature = "reordered",
    feature = "resized",
    feature = "retyped"
)))]
#[repr(C)]
#[derive(StableAbi)]
pub struct Particle {
    pub pos: [f32; 2],
    pub vel: [f32; 2],
}

/// With a field added at the end.
#[cfg(feature = "added")]
#[repr(C)]
#[derive(StableAbi)]
pub struct Particle {
    pub pos: [f32; 2],
    pub vel: [f32; 2],
    pub mass: f32,
}

/// With its fields swapped.
#[cfg(feature = "reordered")]
#[repr(C)]
#[derive(StableAbi)]
pub struct Particle {
    pub vel: [f32; 2],
    pub pos: [f32; 2],
}

/// With `pos` in double precision.
#[cfg(feature = "resized")]
#[repr(C)]
#[derive(StableAbi)]
pub struct Particle {
    pub pos: [f64; 2],
    pub vel: [f32; 2],
}

/// With `pos` as integers.
#[cfg(feature = "retyped")]
#[repr(C)]
#[derive(StableAbi)]
pub struct Particle {
    pub pos: [i32; 2],
    pub vel: [f32; 2],
}

/// What plugins may ask of the host.
#[repr(C)]
#[derive(StableAbi)]
pub struct Host {
    pub log: unsafe extern "C" fn(message: HsStr),
}

hotslot_plugin_api::hs_struct!(Particle);
hotslot_plugin_api::hs_host_table!(Host, "particles.Host", 1, 0);
