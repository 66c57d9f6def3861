//! Descriptor validation over descriptors built in memory from fuzz input:
//! every field may hold anything, and every length either matches the
//! memory behind it or exceeds the ABI's limit (which the validator must
//! refuse before reading). It never panics, and what it accepts is sound.
#![no_main]

use arbitrary::Arbitrary;
use hotslot::testing::{is_identifier, read_descriptor};
use hotslot_plugin_api::*;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    magic: Option<u32>,
    abi_major: u16,
    abi_minor: u16,
    struct_size: Option<u32>,
    name: Name,
    version: (u32, u32, u32),
    functions: Vec<Function>,
    table: Table,
    state_version: u32,
    hooks: (bool, bool),
}

#[derive(Arbitrary, Debug)]
enum Name {
    Bytes(Vec<u8>),
    /// A length over the limit, with memory behind none of it.
    TooLong(u16),
    Null(u8),
}

#[derive(Arbitrary, Debug)]
enum Table {
    AsIs,
    Null,
    /// A count over the limit.
    TooMany(u16),
    NullEntry(u8),
}

#[derive(Arbitrary, Debug)]
struct Function {
    struct_size: Option<u32>,
    name: Name,
    params: Vec<u8>,
    too_many_params: Option<u8>,
    null_params: bool,
    ret: u8,
    version: (u32, u32, u32),
    null_entry: bool,
}

unsafe extern "C" fn entry(_: *mut HsCallCtx, _: *const HsValue, _: usize, _: *mut HsValue) -> HsStatus {
    HsStatus::OK
}
unsafe extern "C" fn save(_: *mut HsCallCtx) -> HsStatus {
    HsStatus::OK
}
unsafe extern "C" fn load(_: *mut HsCallCtx, _: u32, _: HsBytes) -> HsStatus {
    HsStatus::OK
}

fn name(n: &Name, keep: &mut Vec<Vec<u8>>) -> HsStr {
    match n {
        Name::Bytes(b) => {
            keep.push(b.clone());
            let b = keep.last().unwrap();
            HsStr { ptr: if b.is_empty() { std::ptr::null() } else { b.as_ptr() }, len: b.len() }
        }
        Name::TooLong(extra) => HsStr { ptr: [0u8; 1].as_ptr(), len: HS_MAX_NAME_LEN + 1 + *extra as usize },
        Name::Null(len) => HsStr { ptr: std::ptr::null(), len: *len as usize },
    }
}

fn v((a, b, c): (u32, u32, u32)) -> HsVersion {
    HsVersion::new(a, b, c)
}

fuzz_target!(|input: Input| {
    let mut names = Vec::new();
    let mut tags: Vec<Vec<HsType>> = Vec::new();
    let mut fns: Vec<HsFunctionDescriptor> = Vec::new();
    for f in &input.functions {
        tags.push(f.params.iter().map(|&t| HsType(t)).collect());
        let params = tags.last().unwrap();
        let (ptr, count) = match (f.null_params, f.too_many_params) {
            (_, Some(extra)) => (params.as_ptr(), HS_MAX_PARAMS + 1 + extra as usize),
            (true, None) if !params.is_empty() => (std::ptr::null(), params.len()),
            _ => (params.as_ptr(), params.len()),
        };
        fns.push(HsFunctionDescriptor {
            struct_size: f.struct_size.unwrap_or(size_of::<HsFunctionDescriptor>() as u32)
                .min(size_of::<HsFunctionDescriptor>() as u32),
            name: name(&f.name, &mut names),
            params: ptr,
            param_count: count,
            ret: HsType(f.ret),
            version: v(f.version),
            call: if f.null_entry { None } else { Some(entry) },
        });
    }
    let mut table: Vec<*const HsFunctionDescriptor> = fns.iter().map(|f| f as *const _).collect();
    let (functions, function_count) = match input.table {
        Table::AsIs => (table.as_ptr(), table.len()),
        Table::Null if !table.is_empty() => (std::ptr::null(), table.len()),
        Table::Null => (table.as_ptr(), 0),
        Table::TooMany(extra) => (table.as_ptr(), HS_MAX_FUNCTIONS + 1 + extra as usize),
        Table::NullEntry(i) => {
            if !table.is_empty() {
                let i = i as usize % table.len();
                table[i] = std::ptr::null();
            }
            (table.as_ptr(), table.len())
        }
    };
    let d = HsPluginDescriptor {
        magic: input.magic.unwrap_or(HS_MAGIC),
        abi_major: input.abi_major % 3,
        abi_minor: input.abi_minor,
        struct_size: input
            .struct_size
            .unwrap_or(size_of::<HsPluginDescriptor>() as u32)
            .min(size_of::<HsPluginDescriptor>() as u32),
        name: name(&input.name, &mut names),
        version: v(input.version),
        functions,
        function_count,
        state_version: input.state_version,
        save_state: if input.hooks.0 { Some(save) } else { None },
        load_state: if input.hooks.1 { Some(load) } else { None },
    };
    // SAFETY: every pointer in `d` is null or valid for the length given,
    // except lengths over the ABI's limits, which are refused unread.
    let Ok(info) = (unsafe { read_descriptor(&d) }) else { return };
    assert_eq!(info.functions.len(), function_count);
    for f in &info.functions {
        assert!(is_identifier(&f.name), "{:?}", f.name);
        assert!(f.signature.params.len() <= HS_MAX_PARAMS);
    }
    let mut seen: Vec<&str> = info.functions.iter().map(|f| f.name.as_str()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), info.functions.len(), "duplicate names accepted");
});
