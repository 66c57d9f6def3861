//! The README and the book (`docs/src`), tested as a reader uses them.
//!
//! Every fenced block is one of:
//!
//! - ` ```rust `: a doc test of the `hotslot` crate (its `lib.rs` includes
//!   every page under `cfg(doctest)`); ` ```rust,ignore ` only for blocks
//!   that include a file of the workspace, which the workspace builds;
//! - ` ```c `: compiled with `-std=c11 -Wall -Wextra -Werror` against the
//!   headers `hotslot header` writes;
//! - ` ```asm `: assembled, verified and run with `c-shim/math_ops.c` and
//!   `c-shim/string_ops.c` bound, printing what its `; Result:` comments
//!   say; ` ```asm,fails `: refused, with its `; error:` comment's text;
//!   ` ```asm,module `: a script module, inspected by `hotslot inspect`
//!   and bound beside the C plugins for every ` ```asm ` block of its page;
//! - ` ```sh `: run by bash (`-euo pipefail`), a page's blocks in order in one
//!   scratch directory that sees the repository's folders, with the built
//!   `hotslot` on `PATH` (a block that runs cargo runs at the root);
//!   ` ```sh,mingw ` the same where mingw-w64 is installed (CI requires it:
//!   `HOTSLOT_DOCS_MINGW=1`); ` ```sh,ci ` is what `.ci/run` runs;
//! - ` ```toml `: crates, versions and features that exist;
//! - ` ```text `: output, shown as printed.
//!
//! `{{#include PATH[:ANCHOR]}}` is expanded as mdBook does.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hotslot_tests::{built, tempdir};

/// The READMEs, then every page of the book, with its text.
fn pages() -> Vec<(PathBuf, String)> {
    let root = &built().root;
    let mut paths: Vec<PathBuf> = [
        "README.md",
        "c-shim/README.md",
        "c-shim/cbuild/README.md",
        "plugin-api/README.md",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    let mut book: Vec<PathBuf> = std::fs::read_dir(root.join("docs/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    book.sort();
    paths.extend(book);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

/// The page's path from the root, for messages.
fn name(page: &Path) -> String {
    page.strip_prefix(&built().root)
        .unwrap_or(page)
        .display()
        .to_string()
}

/// A fenced block: its info string, its text (includes expanded), and the
/// line it starts on.
struct Block {
    info: String,
    text: String,
    line: usize,
    includes_only: bool,
    includes: bool,
}

fn blocks(page: &Path, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut body = Vec::new();
        loop {
            let (_, l) = lines
                .next()
                .unwrap_or_else(|| panic!("{}:{}: a block is not closed", name(page), i + 1));
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push(l.get(indent..).unwrap_or(l.trim_start()));
        }
        let includes_only = !body.is_empty()
            && body
                .iter()
                .all(|l| l.trim().starts_with("{{#include ") || l.trim().is_empty());
        let includes = body.iter().any(|l| l.trim().starts_with("{{#include "));
        let mut text = String::new();
        for l in body {
            match l.trim().strip_prefix("{{#include ") {
                Some(rest) => text.push_str(&include(page, rest.trim_end_matches("}}"))),
                None => {
                    text.push_str(l);
                    text.push('\n');
                }
            }
        }
        out.push(Block {
            info: info.trim().to_owned(),
            text,
            line: i + 1,
            includes_only,
            includes,
        });
    }
    out
}

/// `PATH` or `PATH:ANCHOR`, relative to the page, as mdBook reads it.
fn include(page: &Path, spec: &str) -> String {
    let (path, anchor) = match spec.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (spec, None),
    };
    let file = page.parent().unwrap().join(path);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: cannot include `{path}`: {e}", name(page)));
    let Some(anchor) = anchor else { return text };
    let (start, end) = (format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}"));
    let mut inside = false;
    let mut found = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.contains(&start) {
            (inside, found) = (true, true);
        } else if line.contains(&end) {
            inside = false;
        } else if inside && !line.contains("ANCHOR") {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(found, "{}: `{path}` has no anchor `{anchor}`", name(page));
    out
}

/// Every block of every page with the info string `info`.
fn all(info: &str) -> Vec<(PathBuf, Block)> {
    pages()
        .into_iter()
        .flat_map(|(page, text)| {
            blocks(&page, &text)
                .into_iter()
                .filter(|b| b.info == info)
                .map(move |b| (page.clone(), b))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs `cmd`, failing the test if it takes longer than `limit` (a hang is
/// a failure, not a stuck suite).
fn output_within(mut cmd: Command, limit: Duration, what: &str) -> std::process::Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            // SAFETY: a plain kill(2) of the child this test started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("{what} took longer than {limit:?}");
        }
    }
}

const KNOWN: &[&str] = &[
    "rust",
    "rust,ignore",
    "c",
    "asm",
    "asm,fails",
    "asm,module",
    "sh",
    "sh,ci",
    "sh,mingw",
    "toml",
    "text",
];

#[test]
fn every_block_is_of_a_kind_the_tests_check_and_every_page_is_in_the_summary() {
    let root = &built().root;
    let summary = std::fs::read_to_string(root.join("docs/src/SUMMARY.md")).unwrap();
    for (page, text) in pages() {
        for b in blocks(&page, &text) {
            assert!(
                KNOWN.contains(&b.info.as_str()),
                "{}:{}: a block of kind `{}`, which no test checks (known: {KNOWN:?})",
                name(&page),
                b.line,
                b.info
            );
            if b.info == "rust" {
                assert!(
                    !b.includes,
                    "{}:{}: a doc test cannot include a file: make it `rust,ignore`",
                    name(&page),
                    b.line
                );
            }
            if b.info == "rust,ignore" {
                assert!(
                    b.includes_only,
                    "{}:{}: an ignored Rust block must only include files the workspace builds",
                    name(&page),
                    b.line
                );
            }
        }
        let file = page.file_name().unwrap().to_str().unwrap();
        if page.starts_with(root.join("docs/src")) && file != "SUMMARY.md" {
            assert!(
                summary.contains(&format!("({file})")),
                "{file} is not in SUMMARY.md"
            );
        }
    }
}

#[test]
fn every_link_to_a_file_of_the_repository_resolves() {
    let link = |text: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            out.push(rest[..end].to_owned());
        }
        out
    };
    let mut checked = 0;
    for (page, text) in pages() {
        for target in link(&text) {
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let path = target.split('#').next().unwrap();
            let file = page.parent().unwrap().join(path);
            assert!(
                file.exists(),
                "{} links to `{target}`, which does not exist",
                name(&page)
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} links found");
}

/// Every page is included by `lib.rs` under `cfg(doctest)`, so its Rust
/// blocks run as doc tests.
#[test]
fn every_page_is_a_doc_test_of_the_crate() {
    let root = &built().root;
    let lib = std::fs::read_to_string(root.join("host/src/lib.rs")).unwrap();
    for (page, _) in pages() {
        if !page.ends_with("SUMMARY.md") {
            let relative = page.strip_prefix(root).unwrap().display().to_string();
            assert!(
                lib.contains(&format!("include_str!(\"../../{relative}\")")),
                "host/src/lib.rs does not include {relative} as a doc test"
            );
        }
    }
}

#[test]
fn every_c_block_compiles_with_werror_against_the_headers_hotslot_header_writes() {
    let b = built();
    let dir = tempdir();
    let include = dir.path().join("include");
    std::fs::create_dir(&include).unwrap();
    hotslot_cbuild::write_headers(&include).unwrap();
    let interface = b.root.join("examples/particles/interface/include");
    let blocks = all("c");
    assert!(blocks.len() >= 3, "{}", blocks.len());
    for (n, (page, block)) in blocks.into_iter().enumerate() {
        let source = dir.path().join(format!("block{n}.c"));
        std::fs::write(&source, &block.text).unwrap();
        let out = dir
            .path()
            .join(hotslot_tests::library_name(&format!("block{n}")));
        b.cc.build(&source, &out, &[&include, &interface], &[])
            .unwrap_or_else(|e| panic!("{}:{}: {e}", name(&page), block.line));
        // A plugin, as the page says: every check passes.
        // SAFETY: a build of the book's own source.
        let table = unsafe { hotslot::SlotTable::new() }.unwrap();
        // (One that asks for the application's host table is bound by
        // its example's host, which hands the table over.)
        if !block.text.contains("HS_HOST(") {
            table
                .bind_library(&out, &hotslot::ReloadOptions::default())
                .unwrap_or_else(|e| panic!("{}:{}: {e}", name(&page), block.line));
        }
    }
}

#[test]
fn every_assembly_block_runs_and_prints_what_its_comments_say() {
    let b = built();
    let dir = tempdir();
    let libs = [b.c("math_ops"), b.c("string_ops_c")];
    // Each page's modules: described whole, then bound for its programs.
    let mut modules: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (page, block) in all("asm,module") {
        let at = format!("{}:{}", name(&page), block.line);
        let file = dir.path().join(format!("module{}.hsasm", modules.len()));
        std::fs::write(&file, &block.text).unwrap();
        let mut cmd = Command::new(b.hotslot());
        cmd.arg("inspect").arg(&file);
        let out = output_within(cmd, Duration::from_secs(120), &at);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{at}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for export in block
            .text
            .lines()
            .filter_map(|l| l.trim().strip_prefix(".export "))
        {
            let export = export.split_whitespace().next().unwrap();
            assert!(stdout.contains(export), "{at}: {export} in\n{stdout}");
        }
        modules.push((page, file));
    }
    assert!(modules.len() >= 2, "{}", modules.len());
    let mut ran = 0;
    for info in ["asm", "asm,fails"] {
        for (page, block) in all(info) {
            let at = format!("{}:{}", name(&page), block.line);
            let file = dir.path().join(format!("block{ran}.hsasm"));
            std::fs::write(&file, &block.text).unwrap();
            let mut cmd = Command::new(b.hotslot());
            cmd.arg("run").arg(&file);
            for lib in &libs {
                cmd.arg("--lib").arg(lib);
            }
            for (_, module) in modules.iter().filter(|(p, _)| *p == page) {
                cmd.arg("--lib").arg(module);
            }
            let out = output_within(cmd, Duration::from_secs(120), &at);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let comments = |tag: &str| -> Vec<String> {
                block
                    .text
                    .lines()
                    .filter_map(|l| l.split_once(tag).map(|(_, said)| said.trim().to_owned()))
                    .collect()
            };
            if info == "asm" {
                assert!(out.status.success(), "{at}: {stderr}");
                let printed: Vec<&str> = stdout
                    .lines()
                    .filter_map(|l| l.strip_prefix("Result: "))
                    .collect();
                assert_eq!(printed, comments("; Result:"), "{at}");
            } else {
                assert_eq!(out.status.code(), Some(1), "{at}: refused before running");
                let said = comments("; error:");
                assert_eq!(said.len(), 1, "{at}: one `; error:` comment");
                assert!(stderr.contains(&said[0]), "{at}: {stderr}");
            }
            ran += 1;
        }
    }
    assert!(ran >= 8, "{ran}");
}

/// A page's shell blocks, in order, in one scratch directory.
fn run_shell(page: &Path, blocks: &[Block]) {
    let b = built();
    let scratch = tempdir();
    for entry in [
        "c-shim",
        "plugin-api",
        "host",
        "examples",
        "plugins",
        "tests",
    ] {
        #[cfg(unix)]
        std::os::unix::fs::symlink(b.root.join(entry), scratch.path().join(entry)).unwrap();
    }
    let path = std::env::join_paths(std::iter::once(b.debug_dir.clone()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    for block in blocks {
        let at = format!("{}:{}", name(page), block.line);
        let cargo = block
            .text
            .lines()
            .any(|l| l.trim_start().starts_with("cargo "));
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c", &block.text])
            .current_dir(if cargo { &b.root } else { scratch.path() })
            .env("PATH", &path)
            .env("CARGO_TARGET_DIR", &b.target);
        let out = output_within(cmd, Duration::from_secs(600), &at);
        assert!(
            out.status.success(),
            "{at}: {}\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[cfg(unix)]
#[test]
fn every_shell_block_runs() {
    let mingw = Command::new("x86_64-w64-mingw32-gcc")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        mingw || std::env::var_os("HOTSLOT_DOCS_MINGW").is_none(),
        "HOTSLOT_DOCS_MINGW is set and x86_64-w64-mingw32-gcc does not run"
    );
    let mut ran = 0;
    for (page, text) in pages() {
        let blocks: Vec<Block> = blocks(&page, &text)
            .into_iter()
            .filter(|b| b.info == "sh" || (b.info == "sh,mingw" && mingw))
            .collect();
        ran += blocks.len();
        run_shell(&page, &blocks);
    }
    assert!(ran >= 10, "{ran}");
}

/// A `sh,ci` block says what CI runs: each of its commands is in `.ci/run`.
#[test]
fn the_commands_the_docs_say_ci_runs_are_in_ci() {
    let b = built();
    let ci = std::fs::read_to_string(b.root.join(".ci/run")).unwrap();
    let blocks = all("sh,ci");
    assert!(!blocks.is_empty());
    for (page, block) in blocks {
        for line in block.text.lines() {
            let command = line.split(" #").next().unwrap().trim();
            if !command.is_empty() {
                assert!(
                    ci.lines().any(|l| l.trim() == command),
                    "{}:{}: `{command}` is not a line of .ci/run",
                    name(&page),
                    block.line
                );
            }
        }
    }
}

/// The dependencies a page shows: each hotslot crate exists, at the
/// version it says, with the features it names.
#[test]
fn every_toml_block_names_crates_versions_and_features_that_exist() {
    let b = built();
    let manifest = |dir: &str| -> toml::Table {
        std::fs::read_to_string(b.root.join(dir).join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap()
    };
    let workspace = manifest(".");
    let version: semver::Version = workspace["workspace"]["package"]["version"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let crates = [
        ("hotslot", "host"),
        ("hotslot-plugin-api", "plugin-api"),
        ("hotslot-cbuild", "c-shim/cbuild"),
    ];
    let mut checked = 0;
    for (page, block) in all("toml") {
        let at = format!("{}:{}", name(&page), block.line);
        let table: toml::Table = block.text.parse().unwrap_or_else(|e| panic!("{at}: {e}"));
        for section in ["dependencies", "build-dependencies", "dev-dependencies"] {
            let Some(deps) = table.get(section).and_then(|d| d.as_table()) else {
                continue;
            };
            for (dep, spec) in deps {
                let Some((_, dir)) = crates.iter().find(|(c, _)| c == dep) else {
                    continue;
                };
                let features = manifest(dir)
                    .get("features")
                    .and_then(|f| f.as_table())
                    .cloned()
                    .unwrap_or_default();
                if let Some(req) = spec.get("version").or(spec.as_str().map(|_| spec)) {
                    let req: semver::VersionReq = req.as_str().unwrap().parse().unwrap();
                    assert!(req.matches(&version), "{at}: {dep} {req} is not {version}");
                }
                for feature in spec
                    .get("features")
                    .and_then(|f| f.as_array())
                    .into_iter()
                    .flatten()
                {
                    let feature = feature.as_str().unwrap();
                    assert!(
                        features.contains_key(feature),
                        "{at}: {dep} has no feature `{feature}`"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "{checked}");
}

/// The README: at most 200 lines, opening with the two commands.
#[test]
fn the_readme_is_short_and_starts_with_the_two_commands() {
    let b = built();
    let readme = std::fs::read_to_string(b.root.join("README.md")).unwrap();
    assert!(readme.lines().count() <= 200, "{}", readme.lines().count());
    let first = &blocks(&b.root.join("README.md"), &readme)[0];
    assert_eq!(first.info, "sh,ci");
    let commands: Vec<&str> = first
        .text
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .collect();
    assert_eq!(
        commands,
        [
            "cargo run --release -p hotslot -- demo",
            "cargo test --workspace"
        ]
    );
}

/// `docs/src/instructions.md` is the VM's table of instructions, as
/// `vm/isa.rs` defines it: `HOTSLOT_BLESS=1` rewrites it.
#[test]
fn the_instruction_reference_is_generated_from_the_isa_table() {
    let b = built();
    let path = b.root.join("docs/src/instructions.md");
    let fresh = format!(
        "# Instructions\n\n\
         Every instruction of the [assembly language](assembly.md), with its operand and its \
         effect on the stack (`before -- after`, the top last).\n\n{}",
        hotslot::testing::assembly_reference()
    );
    if std::env::var_os("HOTSLOT_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == fresh,
        "docs/src/instructions.md is not what vm/isa.rs says: \
         HOTSLOT_BLESS=1 cargo test -p hotslot-tests --test all -- docs:: rewrites it"
    );
}

/// The crate documentation's map of the code names files that exist.
#[test]
fn the_crate_docs_name_source_files_that_exist() {
    let b = built();
    let lib = std::fs::read_to_string(b.root.join("host/src/lib.rs")).unwrap();
    let mut named = 0;
    for part in lib.split('`') {
        if part.ends_with(".rs") || part.ends_with('/') && !part.contains(' ') && part.len() > 1 {
            assert!(
                b.root.join("host/src").join(part).exists() || b.root.join(part).exists(),
                "host/src/lib.rs names `{part}`, which does not exist"
            );
            named += 1;
        }
    }
    assert!(named >= 15, "{named}");
}
