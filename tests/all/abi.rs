//! Loading plugins: the C and Rust builds of math_ops describe the same
//! table, their functions answer through the VM, and every broken fixture
//! is refused with its own error, by the API and by `hotslot inspect`.

use hotslot::plugin::{Library, LoadOptions, PluginKind};
use hotslot::{AbiError, LoadError, NameError};
use hotslot_tests::{BROKEN, built, hotslot};

fn load(path: &std::path::Path) -> Result<Library, LoadError> {
    hotslot_tests::open(path, &LoadOptions::default())
}

#[test]
fn c_and_rust_math_ops_describe_the_same_table() {
    let b = built();
    let c = load(&b.c("math_ops")).expect("the C build loads");
    let rust = load(&b.rust("hotslot-math-ops")).expect("the Rust build loads");
    assert_eq!(c.kind(), PluginKind::C);
    assert_eq!(rust.kind(), PluginKind::Rust);
    let table = |l: &Library| -> Vec<String> {
        l.info()
            .functions
            .iter()
            .map(|f| format!("{} {} {}", f.name, f.signature, f.version))
            .collect()
    };
    assert_eq!(table(&c), table(&rust));
    assert_eq!(c.info().name, rust.info().name);
    assert_eq!(c.info().version, rust.info().version);
    assert!(table(&c).contains(&"math_add (i32, i32) -> i32 1.0.0".to_owned()));

    let c_out = hotslot(&["inspect", "--json", b.c("math_ops").to_str().unwrap()]);
    let rust_out = hotslot(&[
        "inspect",
        "--json",
        b.rust("hotslot-math-ops").to_str().unwrap(),
    ]);
    assert!(
        c_out.0.success() && rust_out.0.success(),
        "{c_out:?} {rust_out:?}"
    );
    assert_eq!(
        c_out.1, rust_out.1,
        "`inspect --json` differs between the C and Rust builds"
    );
    let json: serde_json::Value = serde_json::from_str(&c_out.1).unwrap();
    assert_eq!(json["plugin"]["name"], "math_ops");
    assert_eq!(json["abi"]["major"], 1);
    assert_eq!(json["functions"][0]["name"], "math_add");
    assert_eq!(
        json["functions"][0]["params"],
        serde_json::json!(["i32", "i32"])
    );
    assert_eq!(json["functions"][0]["ret"], "i32");
    assert_eq!(json["functions"][0]["version"], "1.0.0");
    assert!(c_out.1.starts_with(&format!(
        r#"{{"plugin":{{"name":"math_ops","version":"1.0.0"}},"abi":{{"major":1,"minor":{}}},"functions":["#,
        hotslot_plugin_api::HS_ABI_MINOR
    )));

    let text = hotslot(&["inspect", b.c("math_ops").to_str().unwrap()]).1;
    assert!(
        text.contains("math_add (i32, i32) -> i32      v1.0.0"),
        "{text}"
    );
    assert!(text.contains("plugin    math_ops 1.0.0"), "{text}");
    assert!(
        text.contains(&format!(
            "abi       1.{} (C)",
            hotslot_plugin_api::HS_ABI_MINOR
        )),
        "{text}"
    );
}

#[test]
fn the_unbroken_fixture_loads() {
    // Each broken fixture differs from this one by a single define.
    let lib = load(&built().c("broken_none")).expect("the fixture without defects loads");
    assert_eq!(lib.info().functions.len(), 2);
}

fn refusal(name: &str) -> LoadError {
    load(&built().broken(name)).expect_err(name)
}

/// Whether `e` is exactly the error the broken fixture `name` was built to
/// provoke: its variant and the expected and found values it names. Shared
/// with the reload tests, which must see the same error on the reload path.
pub(crate) fn is_its_own_error(name: &str, e: &LoadError) -> bool {
    use AbiError as A;
    match name {
        "NO_DESCRIPTOR" => matches!(
            e,
            LoadError::SymbolMissing {
                symbol: "hotslot_plugin",
                ..
            }
        ),
        "NO_GET_VERSION" => matches!(
            e,
            LoadError::SymbolMissing {
                symbol: "get_version",
                ..
            }
        ),
        "NULL_DESCRIPTOR" => matches!(e, LoadError::Abi(A::NullDescriptor)),
        "BAD_MAGIC" => matches!(
            e,
            LoadError::Abi(A::BadMagic {
                found: 0x464C457F,
                ..
            })
        ),
        "ABI_MAJOR" => matches!(
            e,
            LoadError::Abi(A::AbiMajor {
                expected: 1,
                found: 2
            })
        ),
        "TOO_SMALL" => matches!(e, LoadError::Abi(A::StructTooSmall { found: 16, .. })),
        "NAME_NOT_UTF8" => matches!(
            e,
            LoadError::Abi(A::FunctionName {
                index: 0,
                reason: NameError::NotUtf8 { valid_up_to: 2 }
            })
        ),
        "UNKNOWN_TYPE" => matches!(e, LoadError::Abi(A::UnknownType { tag: 42, .. })),
        "VOID_PARAM" => matches!(e, LoadError::Abi(A::VoidParam { index: 0, .. })),
        "TOO_MANY_PARAMS" => matches!(e, LoadError::Abi(A::TooManyParams { found: 17, .. })),
        "NULL_ENTRY" => matches!(e, LoadError::Abi(A::NullEntry { .. })),
        "NULL_FUNCTION" => matches!(e, LoadError::Abi(A::NullFunction { index: 1 })),
        "DUPLICATE_NAME" => matches!(e, LoadError::Abi(A::DuplicateFunction { .. })),
        "VERSION_MISMATCH" => matches!(
            e,
            LoadError::GetVersionMismatch {
                expected: 1,
                found: 2,
                ..
            }
        ),
        "UNSTABLE" => matches!(e, LoadError::Unstable { .. }),
        other => panic!("no expectation for fixture {other}"),
    }
}

#[test]
fn every_broken_fixture_is_refused_with_its_own_error() {
    for name in BROKEN {
        let e = refusal(name);
        assert!(
            is_its_own_error(name, &e),
            "fixture {name}: unexpected error {e:?}"
        );
    }
}

#[test]
fn missing_and_non_library_files_are_refused() {
    let dir = hotslot_tests::tempdir();
    let e = load(&dir.path().join("absent.so")).unwrap_err();
    assert!(matches!(e, LoadError::FileMissing { .. }), "{e}");
    let text = dir.path().join("notes.so");
    std::fs::write(
        &text,
        "not a library, but long enough to have an ELF header's size: ".repeat(4),
    )
    .unwrap();
    let e = load(&text).unwrap_err();
    assert!(matches!(e, LoadError::NotSharedLibrary { .. }), "{e}");
    // Refused by its first bytes, before it is copied or opened.
    let format = if cfg!(windows) {
        "a PE file"
    } else {
        "an ELF file"
    };
    assert!(
        e.to_string().ends_with(&format!(
            "it is not {format}: its first bytes are 6e 6f 74 20"
        )),
        "{e}"
    );
    let e = load(dir.path()).unwrap_err();
    assert!(matches!(e, LoadError::Directory { .. }), "{e}");
}

#[test]
fn a_rust_layout_mismatch_is_refused() {
    let e = load(&built().rust("hotslot-fixture-layout-mismatch")).unwrap_err();
    assert!(matches!(e, LoadError::Layout { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("expected HsPluginDescriptor, found OldPluginDescriptor"),
        "{e}"
    );
}

#[test]
fn inspect_refuses_each_fixture_with_one_line() {
    let b = built();
    let mut paths: Vec<std::path::PathBuf> = BROKEN.iter().map(|n| b.broken(n)).collect();
    paths.push(b.rust("hotslot-fixture-layout-mismatch"));
    paths.push(b.c("data_descriptor"));
    paths.push(b.c("data_get_version"));
    paths.push(b.root.join("Cargo.toml"));
    paths.push(b.root.join("no-such-library.so"));
    let mut messages = std::collections::HashSet::new();
    for p in &paths {
        let (status, stdout, stderr) = hotslot(&["inspect", p.to_str().unwrap()]);
        assert_eq!(status.code(), Some(3), "refused: {}: {stderr}", p.display());
        assert!(stdout.is_empty(), "{}: {stdout}", p.display());
        assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", p.display());
        assert!(stderr.starts_with("hotslot: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        messages.insert(stderr.replace(p.to_str().unwrap(), "<path>"));
    }
    assert_eq!(
        messages.len(),
        paths.len(),
        "two fixtures share a message: {messages:#?}"
    );
}

#[test]
fn an_export_that_is_a_variable_is_refused_before_it_is_called() {
    let b = built();
    load(&b.c("data_exports")).expect("the same plugin with functions loads");
    for (fixture, symbol, found, expected) in [
        (
            "data_descriptor",
            "hotslot_plugin",
            "a data symbol",
            "a function returning `const HsPluginDescriptor *`",
        ),
        (
            "data_get_version",
            "get_version",
            "a data symbol",
            "a function returning `int`",
        ),
    ] {
        let path = b.c(fixture);
        let e = load(&path).unwrap_err();
        assert!(
            matches!(&e, LoadError::NotAFunction { symbol: s, found: f, .. } if *s == symbol && *f == found),
            "{e}"
        );
        let message = format!(
            "`{symbol}` in `{}` is {found}; it must be {expected}",
            path.display()
        );
        assert_eq!(e.to_string(), message);
        let (status, out, err) = hotslot(&["inspect", path.to_str().unwrap()]);
        assert_eq!(status.code(), Some(3), "{err}");
        assert_eq!(out, "");
        assert_eq!(err, format!("hotslot: {message}\n"));
    }
}

#[test]
fn a_library_for_another_machine_says_which_and_which_this_host_is() {
    let b = built();
    let dir = hotslot_tests::tempdir();
    // The same library, its header claiming another machine, class or byte
    // order: what a build for another target looks like before it is
    // mapped.
    let good = std::fs::read(b.c("math_ops")).unwrap();
    let variant = |edit: &dyn Fn(&mut Vec<u8>), name: &str| {
        let mut bytes = good.clone();
        edit(&mut bytes);
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    #[cfg(not(windows))]
    let cases = [
        (
            variant(
                &|b| b[18..20].copy_from_slice(&183u16.to_le_bytes()),
                "arm.so",
            ),
            "aarch64",
        ),
        (
            variant(
                &|b| b[18..20].copy_from_slice(&243u16.to_le_bytes()),
                "rv.so",
            ),
            "riscv64",
        ),
        (
            variant(&|b| b[5] = 2, "big.so"),
            "machine 15872 (64-bit) (big-endian)",
        ),
    ];
    // A PE file: the COFF header's machine, after the signature that the
    // DOS header's `e_lfanew` points to.
    #[cfg(windows)]
    let cases = {
        let machine = |m: u16| {
            move |b: &mut Vec<u8>| {
                let nt = u32::from_le_bytes(b[0x3c..0x40].try_into().unwrap()) as usize;
                assert_eq!(&b[nt..nt + 4], b"PE\0\0");
                b[nt + 4..nt + 6].copy_from_slice(&m.to_le_bytes());
            }
        };
        [
            (variant(&machine(0xaa64), "arm.dll"), "aarch64"),
            (variant(&machine(0x5064), "rv.dll"), "riscv64"),
            (
                variant(&machine(0x1234), "odd.dll"),
                "PE machine 0x1234 (64-bit)",
            ),
        ]
    };
    for (path, found) in cases {
        let e = load(&path).unwrap_err();
        assert!(matches!(e, LoadError::Architecture { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            format!(
                "`{}` is built for {found}; this host is x86_64",
                path.display()
            )
        );
    }
}
