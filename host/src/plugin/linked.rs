//! Plugins linked into the host: no file, the same checks of their
//! exports.

use hotslot_plugin_api::{HsPluginDescriptor, HsPluginExt, HsRustLayout};

/// A plugin linked into the host: its three exports, as the `plugin!`
/// macro (or a C plugin's shim) defines them.
#[derive(Clone, Copy, Debug)]
pub struct LinkedPlugin {
    pub(crate) descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
    pub(crate) get_version: unsafe extern "C" fn() -> i32,
    pub(crate) rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
    pub(crate) ext: Option<unsafe extern "C" fn() -> *const HsPluginExt>,
}

impl LinkedPlugin {
    /// The plugin whose exports are `descriptor` (`hotslot_plugin`),
    /// `get_version` and, for a Rust plugin, `rust_layout`
    /// (`hotslot_rust_layout`).
    ///
    /// # Safety
    ///
    /// The functions keep the ABI's promises for these exports: each takes
    /// no arguments; `descriptor` returns null or a descriptor readable as
    /// far as its `struct_size`, whose pointers are null or valid for the
    /// lengths it gives, and whose entry points follow the ABI for the
    /// signatures it declares; `rust_layout` returns null or a valid
    /// `HsRustLayout`. All of it lives as long as the process.
    pub const unsafe fn new(
        descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
        get_version: unsafe extern "C" fn() -> i32,
        rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
    ) -> LinkedPlugin {
        LinkedPlugin {
            descriptor,
            get_version,
            rust_layout,
            ext: None,
        }
    }

    /// The same plugin with its ABI 1.1 export `hotslot_plugin_ext`.
    ///
    /// # Safety
    ///
    /// `ext` returns null or an `HsPluginExt` whose pointers are null or
    /// valid for the lengths it gives, all of it living as long as the
    /// process; the layouts it gives are the types' in this build; its
    /// host table request's `set` stores the table it is given.
    pub const unsafe fn with_ext(
        self,
        ext: unsafe extern "C" fn() -> *const HsPluginExt,
    ) -> LinkedPlugin {
        LinkedPlugin {
            ext: Some(ext),
            ..self
        }
    }
}
