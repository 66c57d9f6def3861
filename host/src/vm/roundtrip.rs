//! Property tests: any program survives assembly text and bytecode.

use std::sync::Arc;

use proptest::prelude::*;
use semver::VersionReq;

use super::*;
use crate::types::{Signature, ValType};

fn val_type() -> impl Strategy<Value = ValType> {
    prop::sample::select(ValType::ALL.to_vec())
}

fn ret_type() -> impl Strategy<Value = Option<ValType>> {
    prop::option::of(val_type())
}

fn constant() -> impl Strategy<Value = Const> {
    prop_oneof![
        any::<i32>().prop_map(Const::I32),
        any::<i64>().prop_map(Const::I64),
        prop_oneof![
            any::<f64>().prop_filter("canonical NaN only", |f| !f.is_nan()),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-0.0),
        ]
        .prop_map(Const::F64),
        any::<bool>().prop_map(Const::Bool),
        ".{0,12}".prop_map(|s| Const::Str(Arc::from(s))),
    ]
}

/// One instruction of a function at `start` of length `len`, in a program
/// with `functions` functions.
fn instr(start: u32, len: u32, functions: u32) -> impl Strategy<Value = Instr> {
    let target = start..start + len;
    prop_oneof![
        prop::sample::select(vec![
            Instr::Nop,
            Instr::Halt,
            Instr::Print,
            Instr::Pop,
            Instr::Dup,
            Instr::Swap,
            Instr::Add,
            Instr::Sub,
            Instr::Mul,
            Instr::Div,
            Instr::Mod,
            Instr::Neg,
            Instr::Not,
            Instr::Eq,
            Instr::Ne,
            Instr::Lt,
            Instr::Le,
            Instr::Gt,
            Instr::Ge,
            Instr::Ret,
        ]),
        constant().prop_map(Instr::Push),
        (0u32..6).prop_map(Instr::Load),
        (0u32..6).prop_map(Instr::Store),
        target.clone().prop_map(Instr::Jmp),
        target.clone().prop_map(Instr::Jz),
        target.prop_map(Instr::Jnz),
        (0..functions).prop_map(Instr::Call),
        (0u32..8).prop_map(Instr::CallNative),
    ]
}

fn program() -> impl Strategy<Value = Program> {
    let imports = prop::collection::btree_map(
        0u32..8,
        (
            "[a-z_][a-z0-9_]{0,6}",
            prop::collection::vec(val_type(), 0..4),
            ret_type(),
            prop::option::of(prop::sample::select(vec![
                "^1.0",
                ">=1.2, <3",
                "=2",
                "~0.3.1",
                "*",
            ])),
        ),
        0..4,
    );
    // Each function: parameters, result, extra locals, code length.
    let functions = prop::collection::vec(
        (
            prop::collection::vec(val_type(), 0..3),
            ret_type(),
            prop::collection::vec(val_type(), 0..3),
            1u32..12,
        ),
        1..4,
    );
    (imports, functions)
        .prop_flat_map(|(imports, shapes)| {
            let n = shapes.len() as u32;
            let mut start = 0;
            let mut layout = Vec::new();
            for (i, (params, ret, extra, len)) in shapes.into_iter().enumerate() {
                let (params, ret) = if i == 0 {
                    (Vec::new(), None)
                } else {
                    (params, ret)
                };
                let locals: Vec<Local> = params
                    .iter()
                    .chain(&extra)
                    .enumerate()
                    .map(|(k, &ty)| Local {
                        name: format!("v{k}"),
                        ty,
                    })
                    .collect();
                layout.push(Function {
                    name: if i == 0 {
                        "main".into()
                    } else {
                        format!("f{i}")
                    },
                    params,
                    ret,
                    locals,
                    start,
                    end: start + len,
                });
                start += len;
            }
            let code: Vec<_> = layout
                .iter()
                .flat_map(|f| (f.start..f.end).map(move |_| instr(f.start, f.end - f.start, n)))
                .collect();
            let imports: Vec<Import> = imports
                .into_iter()
                .map(|(slot, (name, params, ret, req))| Import {
                    slot,
                    name,
                    signature: Signature::new(params, ret),
                    requirement: req.map(|r| VersionReq::parse(r).unwrap()),
                })
                .collect();
            (Just(imports), Just(layout), code)
        })
        .prop_map(|(imports, functions, code)| Program {
            imports,
            functions,
            code,
            module: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    #[cfg_attr(miri, ignore = "proptest is too slow under Miri")]
    fn assembly_text_round_trips(p in program()) {
        let text = disassemble(&p);
        let again = assemble(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&again, &p, "{}", text);
        prop_assert_eq!(disassemble(&again), text);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest is too slow under Miri")]
    fn bytecode_round_trips(p in program()) {
        prop_assert_eq!(decode(&encode(&p)).unwrap(), p);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest is too slow under Miri")]
    fn verification_never_panics(p in program()) {
        let _ = verify(p);
    }

    #[test]
    #[cfg_attr(miri, ignore = "proptest is too slow under Miri")]
    fn decoding_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut input = b"HSBC\x01".to_vec();
        input.extend(bytes);
        let _ = decode(&input);
    }
}
