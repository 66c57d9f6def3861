//! Tests of `asm.rs`.

use super::*;

fn err(src: &str) -> AsmError {
    assemble(src).expect_err("assembly must fail")
}

#[test]
fn the_math_program() {
    let p = assemble(
        ".import 0 math_add (i32, i32) -> i32 ^1.0\n  PUSH 10\n  PUSH 5\n  CALL_NATIVE 0\n  PRINT\n  HALT\n",
    )
    .unwrap();
    assert_eq!(p.imports.len(), 1);
    assert_eq!(
        p.imports[0].requirement,
        Some(VersionReq::parse("^1.0").unwrap())
    );
    assert_eq!(
        p.code,
        vec![
            Instr::Push(Const::I32(10)),
            Instr::Push(Const::I32(5)),
            Instr::CallNative(0),
            Instr::Print,
            Instr::Halt
        ]
    );
}

#[test]
fn labels_functions_and_locals() {
    let p = assemble(
        "
        .local n i32
            PUSH 3
            STORE n
        top: LOAD n
            CALL twice
            PRINT
            LOAD n
            PUSH 1
            SUB
            DUP
            STORE n
            JNZ top
            HALT
        .func twice (x: i32) -> i32
            LOAD x
            LOAD 0
            ADD
            RET
        .end
        ",
    )
    .unwrap();
    assert_eq!(p.functions.len(), 2);
    assert_eq!(p.functions[1].start, 12);
    assert_eq!(p.code[3], Instr::Call(1));
    assert_eq!(p.code[10], Instr::Jnz(2));
    assert_eq!(p.code[12], Instr::Load(0));
}

#[test]
fn constants() {
    let p = assemble(
        r#"PUSH -7
           PUSH i64 -9000000000
           PUSH 2.5
           PUSH f64 nan
           PUSH false
           PUSH "a\"b\n\u{e9}"
           PUSH 0x10"#,
    )
    .unwrap();
    assert_eq!(p.code[0], Instr::Push(Const::I32(-7)));
    assert_eq!(p.code[1], Instr::Push(Const::I64(-9_000_000_000)));
    assert_eq!(p.code[2], Instr::Push(Const::F64(2.5)));
    assert_eq!(p.code[3], Instr::Push(Const::F64(f64::NAN)));
    assert_eq!(p.code[4], Instr::Push(Const::Bool(false)));
    assert_eq!(p.code[5], Instr::Push(Const::Str("a\"b\n\u{e9}".into())));
    assert_eq!(p.code[6], Instr::Push(Const::I32(16)));
}

#[test]
fn errors_point_at_line_and_column() {
    let e = err("  PUSH 1\n  PUHS 2\n");
    assert_eq!((e.line, e.column), (2, 3));
    assert!(
        matches!(e.kind, AsmErrorKind::UnknownInstruction { .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "line 2, column 3: unknown instruction `PUHS`"
    );

    let e = err("PUSH 3000000000");
    assert!(matches!(e.kind, AsmErrorKind::OutOfRange { .. }), "{e}");
    assert_eq!(e.column, 6);

    let e = err("JMP nowhere");
    assert!(matches!(e.kind, AsmErrorKind::UnknownLabel { .. }), "{e}");

    let e = err("a: NOP\na: NOP");
    assert!(
        matches!(e.kind, AsmErrorKind::DuplicateLabel { first_line: 1, .. }),
        "{e}"
    );

    let e = err(".import 0 f () -> void\n.import 0 g () -> void");
    assert!(
        matches!(e.kind, AsmErrorKind::DuplicateSlot { slot: 0, .. }),
        "{e}"
    );

    let e = err(".import 0 f (i32, u8) -> void");
    assert!(matches!(e.kind, AsmErrorKind::UnknownType { .. }), "{e}");
    assert_eq!(e.column, 19);

    let e = err(".import 0 f () -> void ^^1");
    assert!(matches!(e.kind, AsmErrorKind::BadRequirement { .. }), "{e}");

    let e = err(".func f () -> void\nRET");
    assert!(
        matches!(e.kind, AsmErrorKind::UnclosedFunction { .. }),
        "{e}"
    );

    let e = err("PUSH \"abc");
    assert!(matches!(e.kind, AsmErrorKind::UnterminatedString), "{e}");

    let e = err("PUSH \"\\q\"");
    assert!(matches!(e.kind, AsmErrorKind::BadEscape { .. }), "{e}");

    let e = err("LOAD nothing");
    assert!(matches!(e.kind, AsmErrorKind::UnknownLocal { .. }), "{e}");

    let e = err("CALL nothing");
    assert!(
        matches!(e.kind, AsmErrorKind::UnknownFunction { .. }),
        "{e}"
    );

    let e = err("CALL_NATIVE nothing");
    assert!(matches!(e.kind, AsmErrorKind::UnknownImport { .. }), "{e}");

    let e = err("POP 1");
    assert!(matches!(e.kind, AsmErrorKind::Unexpected { .. }), "{e}");

    let e = err(".end");
    assert!(matches!(e.kind, AsmErrorKind::StrayEnd), "{e}");

    let e = err(".func f () -> void\n.func g () -> void");
    assert!(matches!(e.kind, AsmErrorKind::NestedFunction { .. }), "{e}");

    let e = err(".func main () -> void\n.end");
    assert!(
        matches!(e.kind, AsmErrorKind::DuplicateFunction { .. }),
        "{e}"
    );

    let e = err(".local x i32\n.local x i64");
    assert!(matches!(e.kind, AsmErrorKind::DuplicateLocal { .. }), "{e}");

    let e = err(".bogus");
    assert!(
        matches!(e.kind, AsmErrorKind::UnknownDirective { .. }),
        "{e}"
    );

    let e = err("PUSH 1 @");
    assert!(
        matches!(e.kind, AsmErrorKind::Unexpected { ref found } if found == "@"),
        "{e}"
    );
    assert_eq!(e.to_string(), "line 1, column 8: unexpected `@`");

    let e = err("PUSH");
    assert!(matches!(e.kind, AsmErrorKind::Expected { .. }), "{e}");

    let e = err("PUSH i32 1.5");
    assert!(matches!(e.kind, AsmErrorKind::BadConstant { .. }), "{e}");

    let e = err("9lives: NOP");
    assert!(matches!(e.kind, AsmErrorKind::BadName { .. }), "{e}");
}

#[test]
fn comments_and_case() {
    let p = assemble("push 1 ; a comment with \"quotes\"\n; whole line\nhalt").unwrap();
    assert_eq!(p.code, vec![Instr::Push(Const::I32(1)), Instr::Halt]);
    let p = assemble("PUSH \"; not a comment\"").unwrap();
    assert_eq!(
        p.code,
        vec![Instr::Push(Const::Str("; not a comment".into()))]
    );
}
