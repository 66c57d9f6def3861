//! Malformed programs: a corpus in `tests/programs/malformed`, each file
//! naming on its first line (`; rejects: Kind`) the error the assembler or
//! the verifier must give it, and no other.

use hotslot::vm::{assemble, verify};

#[test]
fn every_malformed_program_gets_its_own_error() {
    let dir = hotslot_tests::built().root.join("tests/programs/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus is in {}", dir.display());
    let mut kinds = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("; rejects: "))
            .unwrap_or_else(|| {
                panic!(
                    "{}: the first line must be `; rejects: Kind`",
                    file.display()
                )
            })
            .trim()
            .to_owned();
        let found = match assemble(&text) {
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
        let kind = found.split([' ', '{', '(']).next().unwrap().to_owned();
        assert_eq!(kind, expected, "{}: {found}", file.display());
        kinds.insert(kind);
    }
    assert!(kinds.len() >= 30, "the corpus covers {} kinds", kinds.len());
}
