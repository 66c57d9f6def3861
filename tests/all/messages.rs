//! The messages a new user meets first, each with its exact text: a
//! misspelt import with `--lib`, a C plugin without `get_version`, a
//! library that cannot be loaded, a directory or a library where a program
//! was meant, a literal of the wrong width; and the numbers and names a
//! report, an error's `Debug` and `inspect --json` show.

use std::path::Path;

use hotslot::ReloadOptions;
use hotslot_tests::{built, hotslot, library_name, table, tempdir};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn an_import_no_lib_exports_names_what_the_lib_has_near_its_name() {
    let dir = tempdir();
    let prog = write(
        dir.path(),
        "typo.hsasm",
        ".import 0 math_ad (i32, i32) -> i32\nPUSH 1\nPUSH 2\nCALL_NATIVE 0\nPRINT\nHALT\n",
    );
    let lib = built().c("math_ops");
    let (status, out, err) = hotslot(&["run", &prog, "--lib", &lib.display().to_string()]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert_eq!(out, "");
    assert_eq!(
        err.trim_end(),
        format!(
            "hotslot: slot 0: `{}` has no function `math_ad` (did you mean `math_add`?)",
            lib.display()
        )
    );
    // Nothing near: the first names it exports.
    let prog = write(
        dir.path(),
        "stranger.hsasm",
        ".import 0 scale (i32, i32) -> i32\nHALT\n",
    );
    let (status, _, err) = hotslot(&["run", &prog, "--lib", &lib.display().to_string()]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "hotslot: slot 0: `{}` has no function `scale` (it exports `math_add`, `math_mul`, \
             `math_add_i64`, `math_mul_i64`, `math_add_f64`, `math_mul_f64`)",
            lib.display()
        )
    );
    // No library at all: how to bind it.
    let (status, _, err) = hotslot(&["run", &prog]);
    assert_eq!(status.code(), Some(3), "{err}");
    assert_eq!(
        err.trim_end(),
        "hotslot: slot 0 (`scale`) is not bound: add --bind 0=LIB or --lib LIB"
    );
}

#[test]
fn hs_plugin_gives_get_version_and_a_plugin_without_one_is_told_what_to_add() {
    let dir = tempdir();
    let include = built().root.join("plugin-api/include");
    let build = |name: &str, source: &str| {
        let src = dir.path().join(format!("{name}.c"));
        std::fs::write(&src, source).unwrap();
        let out = dir.path().join(library_name(name));
        built().cc.build(&src, &out, &[&include], &[]).unwrap();
        out
    };
    let plugin = "#include \"hotslot_shim.h\"\n\
                  static int32_t twice(int32_t x) { return 2 * x; }\n\
                  HS_FUNCTION(i32, twice, (i32), 3, 0, 0)\n\
                  HS_PLUGIN(\"twice\", 3, 0, 0, twice)\n";
    // HS_PLUGIN defines it: the plugin loads, and its major is 3.
    let lib = build("twice", plugin);
    let table = table();
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    assert_eq!(
        table.function::<i32, i32>("twice").unwrap().call(21),
        Ok(42)
    );
    // A source that says it has its own, and has none.
    let none = build("none", &format!("#define HS_OWN_GET_VERSION\n{plugin}"));
    let e = table
        .bind_library(&none, &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot load `{0}`: `{0}` does not export `get_version`, the function returning its \
             major version: a C plugin gets it from HS_PLUGIN of hotslot_shim.h (ABI 1.2), or \
             defines `HS_EXPORT int get_version(void) {{ return 1; }}` (its major version); a \
             Rust plugin from `plugin!`",
            none.display()
        )
    );
}

#[test]
fn a_library_that_cannot_be_loaded_says_why_in_its_message() {
    let dir = tempdir();
    let table = table();
    let missing = dir.path().join(library_name("missing"));
    let e = table
        .bind_library(&missing, &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot load `{0}`: library file `{0}` does not exist",
            missing.display()
        )
    );
    // Its Debug says the same, not the table's numbers.
    assert_eq!(
        format!("{e:?}"),
        format!(
            "SlotError(cannot load `{0}`: library file `{0}` does not exist)",
            missing.display()
        )
    );
    // A crate's directory where its library file was meant.
    let e = table
        .bind_library(dir.path(), &ReloadOptions::default())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot load `{0}`: `{0}` is a directory, not a library: name the library file \
             (cargo builds a crate `NAME`'s as `target/debug/{1}NAME{2}`)",
            dir.path().display(),
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    );
}

#[test]
fn a_library_given_as_the_program_and_a_narrow_literal_say_what_was_meant() {
    let lib = built().c("math_ops").display().to_string();
    let (status, _, err) = hotslot(&["run", &lib]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        format!("hotslot: `{lib}` is a library, not a program: did you mean `--lib {lib}`?")
    );

    let dir = tempdir();
    let prog = write(
        dir.path(),
        "wide.hsasm",
        ".import 0 math_add_i64 (i64, i64) -> i64\nPUSH 1\nPUSH 2\nCALL_NATIVE 0\nPRINT\nHALT\n",
    );
    let (status, _, err) = hotslot(&["run", &prog, "--lib", &lib]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "hotslot: `{prog}` does not verify: pc 2 (`CALL_NATIVE 0`): type mismatch: expected \
             (i64, i64), found (i32, i32) (a number is pushed as i32 unless its type is \
             written: `PUSH i64 10`, `PUSH f64 2.5`, `PUSH true`)"
        )
    );
}

#[test]
fn generations_are_numbered_in_binding_order_with_no_gap_for_a_refused_build() {
    let dir = tempdir();
    let lib = dir.path().join(library_name("adder"));
    std::fs::copy(hotslot_tests::adder(dir.path(), "a1", &[]), &lib).unwrap();
    let table = table();
    let first = table
        .bind_library(&lib, &ReloadOptions::default())
        .unwrap()
        .to_generation;
    let _op = table.function::<(i32, i32), i32>("op").unwrap();
    // A build of another major: loaded and checked, then refused (the
    // handle keeps the running major).
    std::fs::copy(
        hotslot_tests::adder(dir.path(), "a0", &["FN_MAJOR=2"]),
        &lib,
    )
    .unwrap();
    table.reload(&lib).unwrap_err();
    std::fs::copy(
        hotslot_tests::adder(dir.path(), "a2", &["FN_MINOR=1"]),
        &lib,
    )
    .unwrap();
    let report = table.reload(&lib).unwrap();
    assert_eq!(report.from_generation, Some(first));
    assert_eq!(
        report.to_generation,
        first + 1,
        "no number for the refused build"
    );
}

#[test]
fn a_typed_handle_reads_as_a_handle_in_reports_and_errors() {
    let table = table();
    let lib = built().c("math_ops");
    table.bind_library(&lib, &ReloadOptions::default()).unwrap();
    let add = table.function::<(i32, i32), i32>("math_add").unwrap();
    assert_eq!(
        format!("{add:?}"),
        "TypedFunc { name: \"math_add\", signature: \"(i32, i32) -> i32\", .. }"
    );
    let report = table.reload(&lib).unwrap();
    let swap = &report.swaps[0];
    assert!(
        format!("{swap:?}").starts_with("Swap { slot: typed handle 0, "),
        "{swap:?}"
    );
    let e = table.function::<(f64, f64), f64>("math_add").unwrap_err();
    assert_eq!(
        format!("{e:?}"),
        "SlotError(typed handle 1: signature mismatch for `math_add`: expected (f64, f64) -> f64, \
         found (i32, i32) -> i32)"
    );
}

#[test]
fn inspect_json_writes_the_applications_types_as_the_text_does() {
    let lib = built().c("particles_c").display().to_string();
    let (status, text, err) = hotslot(&["inspect", &lib]);
    assert!(status.success(), "{err}");
    assert!(
        text.contains("step (&mut [Particle], f64) -> void"),
        "{text}"
    );
    let (status, json, err) = hotslot(&["inspect", &lib, "--json"]);
    assert!(status.success(), "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let step = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "step")
        .unwrap();
    assert_eq!(
        step["params"],
        serde_json::json!(["&mut [Particle]", "f64"])
    );
    assert_eq!(step["ret"], "void");
}
