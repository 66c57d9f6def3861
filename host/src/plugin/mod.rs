//! Plugin libraries: loading, checking and releasing them.

mod descriptor;
mod layout;
mod library;
mod trust;

pub use descriptor::{
    Entry, FunctionInfo, Header, LoadHook, PluginInfo, SaveHook, StateHooks, is_identifier,
    read_descriptor, read_header, tag_name,
};
pub use library::{Library, LoadOptions, PluginKind, Retained, ShadowFile, retained_libraries};
pub use trust::{TrustPolicy, hex, parse_sha256};
