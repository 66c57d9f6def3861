//! Tests of `descriptor.rs`.

use super::*;
use hotslot_plugin_api::{HS_ABI_MAJOR, HS_ABI_MINOR, HsValue};

unsafe extern "C" fn entry(
    _: *mut HsCallCtx,
    _: *const HsValue,
    _: usize,
    _: *mut HsValue,
) -> HsStatus {
    HsStatus::OK
}

const I32X2: [HsType; 2] = [HsType::I32, HsType::I32];

fn function(name: &'static str, params: &'static [HsType]) -> HsFunctionDescriptor {
    HsFunctionDescriptor {
        struct_size: size_of::<HsFunctionDescriptor>() as u32,
        name: HsStr::from_str(name),
        params: params.as_ptr(),
        param_count: params.len(),
        ret: HsType::I32,
        version: HsVersion::new(1, 2, 3),
        call: Some(entry),
    }
}

fn plugin(functions: &[*const HsFunctionDescriptor]) -> HsPluginDescriptor {
    HsPluginDescriptor {
        magic: HS_MAGIC,
        abi_major: HS_ABI_MAJOR,
        abi_minor: HS_ABI_MINOR,
        struct_size: size_of::<HsPluginDescriptor>() as u32,
        name: HsStr::from_str("test"),
        version: HsVersion::new(1, 0, 0),
        functions: functions.as_ptr(),
        function_count: functions.len(),
        state_version: 0,
        save_state: None,
        load_state: None,
    }
}

/// Reads a plugin whose function table holds `fs`, after `edit`.
fn read_with(
    fs: &[HsFunctionDescriptor],
    edit: impl FnOnce(&mut HsPluginDescriptor),
) -> Result<PluginInfo, AbiError> {
    let table: Vec<*const HsFunctionDescriptor> = fs.iter().map(|f| f as *const _).collect();
    let mut d = plugin(&table);
    edit(&mut d);
    // SAFETY: `d`, `table` and `fs` are live, and every pointer in them
    // is valid for the lengths they give.
    unsafe { read_descriptor(&d) }
}

fn read_fn(f: HsFunctionDescriptor) -> Result<PluginInfo, AbiError> {
    read_with(&[f], |_| {})
}

/// `changed_since` of a descriptor read, then edited by `edit`.
fn change(
    edit: impl FnOnce(&mut HsPluginDescriptor, &mut [HsFunctionDescriptor]),
) -> Option<String> {
    static TAGS: [HsType; 2] = [HsType::I32, HsType::F64];
    let mut fs = [function("add", &I32X2), function("half", &TAGS)];
    // The table and the edits reach the functions through one pointer,
    // as a plugin changing its own descriptor would.
    let base = fs.as_mut_ptr();
    let table: Vec<*const HsFunctionDescriptor> = (0..fs.len())
        .map(|i| base.wrapping_add(i).cast_const())
        .collect();
    let mut d = plugin(&table);
    // SAFETY: `d`, `table` and `fs` are live and valid for their lengths.
    let info = unsafe { read_descriptor(&d) }.unwrap();
    // SAFETY: as above: nothing was changed yet.
    assert_eq!(unsafe { changed_since(&d, &info) }, None);
    // SAFETY: `base` points to the two functions, borrowed by nothing
    // else while `edit` runs.
    edit(&mut d, unsafe { std::slice::from_raw_parts_mut(base, 2) });
    // SAFETY: the edits keep every pointer valid for its length.
    unsafe { changed_since(&d, &info) }
}

#[test]
fn a_second_look_sees_every_change() {
    unsafe extern "C" fn other(
        _: *mut HsCallCtx,
        _: *const HsValue,
        _: usize,
        _: *mut HsValue,
    ) -> HsStatus {
        HsStatus::ERROR
    }
    unsafe extern "C" fn save(_: *mut HsCallCtx) -> HsStatus {
        HsStatus::OK
    }
    unsafe extern "C" fn load(_: *mut HsCallCtx, _: u32, _: HsBytes) -> HsStatus {
        HsStatus::OK
    }
    static I32_I64: [HsType; 2] = [HsType::I32, HsType::I64];
    let plugin_changed = "plugin test 1.0.0 became another (its name, version or ABI changed)";
    let half = "`half` (i32, f64) -> i32 1.2.3 changed";
    type Edit = fn(&mut HsPluginDescriptor, &mut [HsFunctionDescriptor]);
    let cases: [(&str, Edit, &str); 12] = [
        (
            "plugin name",
            |d, _| d.name = HsStr::from_str("tesT"),
            plugin_changed,
        ),
        (
            "plugin name length",
            |d, _| d.name = HsStr::from_str("tes"),
            plugin_changed,
        ),
        ("plugin version", |d, _| d.version.patch = 1, plugin_changed),
        ("ABI minor", |d, _| d.abi_minor += 1, plugin_changed),
        (
            "function count",
            |d, _| d.function_count = 1,
            "2 functions became 1",
        ),
        (
            "state hooks",
            |d, _| {
                d.save_state = Some(save);
                d.load_state = Some(load);
            },
            "the state hooks changed",
        ),
        (
            "function name",
            |_, fs| fs[1].name = HsStr::from_str("halF"),
            half,
        ),
        (
            "parameter tag",
            |_, fs| fs[1].params = I32_I64.as_ptr(),
            half,
        ),
        ("parameter count", |_, fs| fs[1].param_count = 1, half),
        ("return tag", |_, fs| fs[1].ret = HsType::F64, half),
        ("function version", |_, fs| fs[1].version.major = 2, half),
        ("entry point", |_, fs| fs[1].call = Some(other), half),
    ];
    for (what, edit, message) in cases {
        assert_eq!(change(edit).as_deref(), Some(message), "{what}");
    }
    // A table that became null is refused without being read.
    assert_eq!(
        change(|d, _| d.functions = std::ptr::null()).as_deref(),
        Some("the function table moved to an invalid address")
    );
}

#[test]
fn a_valid_descriptor_is_copied() {
    let info = read_fn(function("math_add", &I32X2)).unwrap();
    assert_eq!(info.name, "test");
    assert_eq!(info.version, Version::new(1, 0, 0));
    assert_eq!(info.abi, AbiVersion::CURRENT);
    assert_eq!(info.functions.len(), 1);
    let f = &info.functions[0];
    assert_eq!(f.name, "math_add");
    assert_eq!(f.signature.to_string(), "(i32, i32) -> i32");
    assert_eq!(f.version, Version::new(1, 2, 3));
    assert!(info.state.is_none());
}

#[test]
fn null_descriptor() {
    // SAFETY: null is allowed.
    let e = unsafe { read_descriptor(std::ptr::null()) }.unwrap_err();
    assert!(matches!(e, AbiError::NullDescriptor), "{e}");
}

#[test]
fn bad_magic() {
    let e = read_with(&[], |d| d.magic = 0xdead_beef).unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::BadMagic {
                found: 0xdead_beef,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "bad descriptor magic: expected 0x544c5348 (`HSLT`), found 0xdeadbeef"
    );
}

#[test]
fn abi_major_mismatch() {
    let e = read_with(&[], |d| d.abi_major = 2).unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::AbiMajor {
                expected: 1,
                found: 2
            }
        ),
        "{e}"
    );
}

#[test]
fn newer_minor_is_accepted() {
    let info = read_with(&[], |d| d.abi_minor = 7).unwrap();
    assert_eq!(info.abi, AbiVersion::new(1, 7));
}

#[test]
fn struct_too_small() {
    let e = read_with(&[], |d| d.struct_size = 12).unwrap_err();
    assert!(
        matches!(e, AbiError::StructTooSmall { found: 12, .. }),
        "{e}"
    );
    let mut f = function("f", &[]);
    f.struct_size = 8;
    let e = read_fn(f).unwrap_err();
    assert!(
        matches!(e, AbiError::StructTooSmall { found: 8, .. }),
        "{e}"
    );
}

#[test]
fn names_are_checked() {
    static BAD: [u8; 3] = [b'a', 0xff, b'b'];
    let e = read_with(&[], |d| {
        d.name = HsStr {
            ptr: BAD.as_ptr(),
            len: 3,
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::PluginName {
                reason: NameError::NotUtf8 { valid_up_to: 1 }
            }
        ),
        "{e}"
    );
    let e = read_with(&[], |d| d.name = HsStr::EMPTY).unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::PluginName {
                reason: NameError::Empty
            }
        ),
        "{e}"
    );
    let e = read_with(&[], |d| {
        d.name = HsStr {
            ptr: std::ptr::null(),
            len: 4,
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::PluginName {
                reason: NameError::Null { len: 4 }
            }
        ),
        "{e}"
    );
    let e = read_with(&[], |d| {
        d.name = HsStr {
            ptr: BAD.as_ptr(),
            len: 1 << 20,
        }
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::PluginName {
                reason: NameError::TooLong { .. }
            }
        ),
        "{e}"
    );
    let e = read_fn(function("not an identifier", &[])).unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::FunctionName {
                index: 0,
                reason: NameError::NotIdentifier { .. }
            }
        ),
        "{e}"
    );
}

#[test]
fn unknown_type_tags() {
    static TAGS: [HsType; 2] = [HsType::I32, HsType(42)];
    let e = read_fn(function("f", &TAGS)).unwrap_err();
    assert!(matches!(e, AbiError::UnknownType { tag: 42, .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "`f` has unknown type tag 42 in parameter 1: expected 0 void, 1 i32, 2 i64, 3 f64, 4 bool, 5 str, 6 bytes, 7 ref, 8 ref mut, 9 slice or 10 slice mut"
    );
    let mut f = function("g", &[]);
    f.ret = HsType(9);
    let e = read_fn(f).unwrap_err();
    assert!(matches!(e, AbiError::UnknownType { tag: 9, .. }), "{e}");
}

#[test]
fn void_parameter() {
    static TAGS: [HsType; 1] = [HsType::VOID];
    let e = read_fn(function("f", &TAGS)).unwrap_err();
    assert!(matches!(e, AbiError::VoidParam { index: 0, .. }), "{e}");
}

#[test]
fn too_many_parameters() {
    static TAGS: [HsType; 17] = [HsType::I32; 17];
    let e = read_fn(function("f", &TAGS)).unwrap_err();
    assert!(
        matches!(
            e,
            AbiError::TooManyParams {
                found: 17,
                max: 16,
                ..
            }
        ),
        "{e}"
    );
    let mut f = function("f", &[]);
    f.param_count = 2;
    f.params = std::ptr::null();
    let e = read_fn(f).unwrap_err();
    assert!(matches!(e, AbiError::NullParams { count: 2, .. }), "{e}");
}

#[test]
fn null_entry_point() {
    let mut f = function("f", &I32X2);
    f.call = None;
    let e = read_fn(f).unwrap_err();
    assert!(matches!(e, AbiError::NullEntry { .. }), "{e}");
}

#[test]
fn duplicate_names() {
    let e = read_with(&[function("f", &[]), function("f", &I32X2)], |_| {}).unwrap_err();
    assert!(
        matches!(e, AbiError::DuplicateFunction { ref name } if name == "f"),
        "{e}"
    );
}

#[test]
fn function_table_problems() {
    let e = read_with(&[], |d| d.function_count = HS_MAX_FUNCTIONS + 1).unwrap_err();
    assert!(matches!(e, AbiError::TooManyFunctions { .. }), "{e}");
    let e = read_with(&[], |d| {
        d.function_count = 3;
        d.functions = std::ptr::null();
    })
    .unwrap_err();
    assert!(matches!(e, AbiError::NullFunctionTable { count: 3 }), "{e}");
    let table = [std::ptr::null::<HsFunctionDescriptor>()];
    let d = plugin(&table);
    // SAFETY: `d` and `table` are live; the null entry is what is tested.
    let e = unsafe { read_descriptor(&d) }.unwrap_err();
    assert!(matches!(e, AbiError::NullFunction { index: 0 }), "{e}");
}

#[test]
fn misaligned_descriptor() {
    let buf = [0u64; 16];
    let p = (buf.as_ptr() as *const u8).wrapping_add(1) as *const HsPluginDescriptor;
    // SAFETY: the pointer is rejected before anything is read through it.
    let e = unsafe { read_descriptor(p) }.unwrap_err();
    assert!(matches!(e, AbiError::Misaligned { .. }), "{e}");
}

#[test]
fn state_hooks_need_both() {
    unsafe extern "C" fn save(_: *mut HsCallCtx) -> HsStatus {
        HsStatus::OK
    }
    unsafe extern "C" fn load(_: *mut HsCallCtx, _: u32, _: HsBytes) -> HsStatus {
        HsStatus::OK
    }
    let info = read_with(&[], |d| {
        d.save_state = Some(save);
        d.state_version = 3;
    })
    .unwrap();
    assert!(info.state.is_none());
    let info = read_with(&[], |d| {
        d.save_state = Some(save);
        d.load_state = Some(load);
        d.state_version = 3;
    })
    .unwrap();
    assert_eq!(info.state.map(|s| s.version), Some(3));
}

#[test]
fn identifiers() {
    assert!(is_identifier("math_add"));
    assert!(is_identifier("_x9"));
    assert!(!is_identifier("9x"));
    assert!(!is_identifier(""));
    assert!(!is_identifier("a-b"));
    assert!(!is_identifier("ünï"));
}
