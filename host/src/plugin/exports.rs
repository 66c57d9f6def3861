//! Step 6 of opening a library: its exports, found by their ABI names and
//! checked in order: the descriptor's head, the layout (Rust plugins), the
//! whole descriptor and its extension, `get_version`, and that nothing
//! changes between two reads. A plugin linked into the host gets the same.

use std::path::Path;

use hotslot_plugin_api::{
    HS_DESCRIPTOR_SYMBOL, HS_EXT_SYMBOL, HS_GET_VERSION_SYMBOL, HS_RUST_LAYOUT_SYMBOL,
    HsPluginDescriptor, HsPluginExt, HsRustLayout,
};

use super::descriptor::{self, PluginInfo, PluginKind};
use super::error::LoadError;
use super::layout;
use super::structs::{self, Ext};

/// A plugin's exports, found in an opened library or linked in.
pub(crate) struct Exports {
    pub(crate) descriptor: unsafe extern "C" fn() -> *const HsPluginDescriptor,
    pub(crate) get_version: unsafe extern "C" fn() -> i32,
    pub(crate) rust_layout: Option<unsafe extern "C" fn() -> *const HsRustLayout>,
    pub(crate) ext: Option<unsafe extern "C" fn() -> *const HsPluginExt>,
}

impl Exports {
    /// Looks the exports up in `lib` by their ABI names.
    pub(crate) fn of(lib: &libloading::Library, source: &Path) -> Result<Exports, LoadError> {
        let missing = |symbol| LoadError::SymbolMissing {
            path: source.to_owned(),
            symbol,
        };
        // SAFETY: a plugin's `hotslot_plugin` export has this signature by
        // the ABI's definition; the pointer is used while `lib` is open.
        let descriptor = unsafe {
            lib.get::<unsafe extern "C" fn() -> *const HsPluginDescriptor>(HS_DESCRIPTOR_SYMBOL)
        }
        .map_err(|_| missing(HS_DESCRIPTOR_SYMBOL))?;
        // SAFETY: as above, for `get_version`.
        let get_version =
            unsafe { lib.get::<unsafe extern "C" fn() -> i32>(HS_GET_VERSION_SYMBOL) }
                .map_err(|_| missing(HS_GET_VERSION_SYMBOL))?;
        // SAFETY: as above, for `hotslot_rust_layout`, exported by Rust plugins only.
        let rust_layout = unsafe {
            lib.get::<unsafe extern "C" fn() -> *const HsRustLayout>(HS_RUST_LAYOUT_SYMBOL)
        }
        .ok();
        // SAFETY: as above, for `hotslot_plugin_ext`, exported by plugins
        // of ABI 1.1 that need it.
        let ext =
            unsafe { lib.get::<unsafe extern "C" fn() -> *const HsPluginExt>(HS_EXT_SYMBOL) }.ok();
        Ok(Exports {
            descriptor: *descriptor,
            get_version: *get_version,
            rust_layout: rust_layout.map(|f| *f),
            ext: ext.map(|f| *f),
        })
    }

    /// The checks made on a plugin's exports, in order: the descriptor's
    /// head, the layout (Rust plugins), the whole descriptor, `get_version`,
    /// and that neither changes between two reads.
    ///
    /// # Safety
    ///
    /// The exports keep the ABI's promises (see [`LinkedPlugin::new`]) and
    /// their code stays loaded during the call.
    pub(crate) unsafe fn check(&self) -> Result<(PluginInfo, PluginKind), LoadError> {
        // SAFETY: calling the export runs plugin code, which the caller
        // vouches for; it takes no arguments.
        let ptr = unsafe { (self.descriptor)() };
        // SAFETY: the export promises a readable descriptor head or null.
        let header = unsafe { descriptor::read_header(ptr)? };
        let mut kind = PluginKind::C;
        if let Some(rust_layout) = self.rust_layout {
            // SAFETY: the export takes no arguments and returns a pointer
            // the check validates; the plugin stays loaded meanwhile.
            unsafe { layout::check(rust_layout())? };
            kind = PluginKind::Rust;
        }
        // SAFETY: the export promises a descriptor whose pointers are valid
        // for the lengths it gives; `read_descriptor` checks every length
        // against its limit before reading.
        let ext = unsafe { self.ext(header)? };
        // SAFETY: as above.
        let info = unsafe { descriptor::read_descriptor_with(ptr, &ext)? };

        // The version function must agree with the descriptor, and
        // neither may change between two reads.
        // SAFETY: `get_version` takes no arguments.
        let first = unsafe { (self.get_version)() };
        let expected = info.version.major;
        if i64::from(first) != expected as i64 {
            return Err(LoadError::GetVersionMismatch {
                expected,
                found: first,
                descriptor: info.version.clone(),
            });
        }
        // SAFETY: as for the first calls above.
        let (second, again) = unsafe { ((self.get_version)(), (self.descriptor)()) };
        if second != first {
            return Err(LoadError::Unstable {
                what: format!("`get_version()` returned {first}, then {second}"),
            });
        }
        if again != ptr {
            return Err(LoadError::Unstable {
                what: "`hotslot_plugin()` returned two different pointers".into(),
            });
        }
        // SAFETY: as for the first read.
        if let Some(what) = unsafe { descriptor::changed_since(again, &info) } {
            return Err(LoadError::Unstable { what });
        }
        // SAFETY: as for the first read.
        if unsafe { self.ext(header)? } != ext {
            return Err(LoadError::Unstable {
                what: "`hotslot_plugin_ext` described other types or another host table".into(),
            });
        }
        Ok((info, kind))
    }
}

impl Exports {
    /// What `hotslot_plugin_ext` says, for a plugin of ABI 1.1 or later
    /// that exports it (a 1.0 plugin has nothing of it).
    ///
    /// # Safety
    ///
    /// As for [`Exports::check`].
    unsafe fn ext(&self, header: descriptor::Header) -> Result<Ext, LoadError> {
        match self.ext {
            Some(ext) if header.abi.minor >= 1 => {
                // SAFETY: the export takes no arguments and promises a
                // readable extension or null.
                Ok(unsafe { structs::read_ext(ext())? })
            }
            _ => Ok(Ext::default()),
        }
    }
}
