//! Malformed programs: a corpus in `tests/programs/malformed`, each file
//! naming on its first line (`; rejects: Kind`) the error the assembler or
//! the verifier must give it, and no other. Inputs the fuzzers found
//! (`fuzz/regressions/asm`) carry the same first line.

use std::path::{Path, PathBuf};

use hotslot::vm::{assemble, disassemble, verify};

fn files_in(dir: &str) -> Vec<PathBuf> {
    let dir = hotslot_tests::built().root.join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// The error kind the file's first line names.
fn expected(file: &Path, text: &str) -> String {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("; rejects: "))
        .unwrap_or_else(|| {
            panic!(
                "{}: the first line must be `; rejects: Kind`",
                file.display()
            )
        })
        .trim()
        .to_owned()
}

/// The kind of the error the assembler or the verifier gives `text`.
fn rejection(file: &Path, text: &str) -> String {
    let found = match assemble(text) {
        Err(e) => {
            assert!(
                e.line > 1,
                "{}: the error must point into the program: {e}",
                file.display()
            );
            format!("{:?}", e.kind)
        }
        Ok(p) => match verify(p) {
            Err(e) => format!("{:?}", e.kind),
            Ok(_) => panic!("{} was accepted", file.display()),
        },
    };
    found.split([' ', '{', '(']).next().unwrap().to_owned()
}

#[test]
fn every_malformed_program_gets_its_own_error() {
    let files = files_in("tests/programs/malformed");
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let mut kinds = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let kind = rejection(&file, &text);
        assert_eq!(kind, expected(&file, &text), "{}", file.display());
        kinds.insert(kind);
    }
    assert!(kinds.len() >= 30, "the corpus covers {} kinds", kinds.len());
}

#[test]
fn what_the_fuzzers_found_round_trips_and_gets_its_error() {
    let files = files_in("fuzz/regressions/asm");
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        if let Ok(program) = assemble(&text) {
            let again = disassemble(&program);
            assert_eq!(
                assemble(&again).as_ref(),
                Ok(&program),
                "{}: the round trip changed the program:\n{again}",
                file.display()
            );
        }
        assert_eq!(
            rejection(&file, &text),
            expected(&file, &text),
            "{}",
            file.display()
        );
    }
}
