//! Well-typed programs from arbitrary bytes, for the differential test of
//! the two engines: every program this writes verifies, and exercises what
//! the engines must agree on (integer edges, division faults, floats with
//! NaN and infinities, strings, bools, loops, branches, calls between
//! functions with recursion, native calls with errors and string results,
//! `HALT` in any function).

use std::fmt::Write;

use super::differential::DIFFERENTIAL_IMPORTS;
use crate::types::ValType;

/// The bytes, read one at a time (zeros once they run out).
struct Bytes<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    fn below(&mut self, n: usize) -> usize {
        self.next() as usize % n
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
}

const TYPES: [ValType; 5] = [
    ValType::I32,
    ValType::I64,
    ValType::F64,
    ValType::Bool,
    ValType::Str,
];

/// A native function of [`DIFFERENTIAL_IMPORTS`]: its slot, parameters and
/// result.
struct Native {
    slot: u32,
    params: &'static [ValType],
    ret: ValType,
}

const NATIVES: [Native; 6] = [
    Native {
        slot: 0,
        params: &[ValType::I32, ValType::I32],
        ret: ValType::I32,
    },
    Native {
        slot: 1,
        params: &[ValType::Str, ValType::Str],
        ret: ValType::Str,
    },
    Native {
        slot: 2,
        params: &[ValType::I32],
        ret: ValType::I32,
    },
    Native {
        slot: 3,
        params: &[ValType::I64],
        ret: ValType::Bool,
    },
    Native {
        slot: 4,
        params: &[ValType::F64],
        ret: ValType::F64,
    },
    Native {
        slot: 5,
        params: &[ValType::I64],
        ret: ValType::Str,
    },
];

struct Func {
    name: String,
    params: Vec<ValType>,
    ret: Option<ValType>,
    /// Every local: the parameters, then the declared ones.
    locals: Vec<ValType>,
    /// Loop counters, declared as `i32` locals after the others.
    counters: usize,
}

struct Gen<'a> {
    b: Bytes<'a>,
    funcs: Vec<Func>,
    labels: usize,
    /// Statements left to write, over the whole program.
    budget: usize,
}

/// A program built from `bytes`, as assembly text: a `main` and up to
/// three functions, each a sequence of statements chosen by the bytes.
pub fn program_from_bytes(bytes: &[u8]) -> String {
    let mut g = Gen {
        b: Bytes { bytes, at: 0 },
        funcs: Vec::new(),
        labels: 0,
        budget: 200,
    };
    let extra = g.b.below(4);
    g.funcs.push(Func {
        name: "main".into(),
        params: Vec::new(),
        ret: None,
        locals: Vec::new(),
        counters: 0,
    });
    for i in 0..extra {
        let params = (0..g.b.below(4)).map(|_| TYPES[g.b.below(5)]).collect();
        let ret = match g.b.below(6) {
            5 => None,
            t => Some(TYPES[t]),
        };
        g.funcs.push(Func {
            name: format!("f{i}"),
            params,
            ret,
            locals: Vec::new(),
            counters: 0,
        });
    }
    for f in &mut g.funcs {
        f.locals = f.params.clone();
        for _ in 0..g.b.below(4) {
            f.locals.push(TYPES[g.b.below(5)]);
        }
    }
    let mut bodies = Vec::new();
    for fi in 0..g.funcs.len() {
        let mut body = String::new();
        let mut stack = Vec::new();
        g.statements(fi, &mut stack, &mut body, 0);
        g.finish(fi, &mut stack, &mut body);
        bodies.push(body);
    }
    let mut out = String::from(DIFFERENTIAL_IMPORTS);
    for (fi, (f, body)) in g.funcs.iter().zip(bodies).enumerate() {
        if fi > 0 {
            let params: Vec<String> = f
                .params
                .iter()
                .enumerate()
                .map(|(i, t)| format!("l{i}: {t}"))
                .collect();
            let ret = f.ret.map_or("void", |t| t.name());
            let _ = writeln!(out, "\n.func {} ({}) -> {ret}", f.name, params.join(", "));
        }
        for (i, t) in f.locals.iter().enumerate().skip(f.params.len()) {
            let _ = writeln!(out, ".local l{i} {t}");
        }
        for c in 0..f.counters {
            let _ = writeln!(out, ".local k{c} i32");
        }
        out.push_str(&body);
        if fi > 0 {
            out.push_str(".end\n");
        }
    }
    out
}

impl Gen<'_> {
    /// Writes statements of function `fi` that leave `stack` (the types
    /// on the operand stack) as they choose, nested `depth` deep.
    fn statements(&mut self, fi: usize, stack: &mut Vec<ValType>, out: &mut String, depth: usize) {
        let n = 1 + self.b.below(12);
        for _ in 0..n {
            if self.budget == 0 || self.b.done() {
                return;
            }
            self.budget -= 1;
            self.statement(fi, stack, out, depth);
            while stack.len() > 12 {
                stack.pop();
                out.push_str("    POP\n");
            }
        }
    }

    /// Writes statements that leave `stack` as it was: they work on values
    /// of their own, popped at the end.
    fn balanced(&mut self, fi: usize, out: &mut String, depth: usize) {
        let mut own = Vec::new();
        self.statements(fi, &mut own, out, depth);
        for _ in own {
            out.push_str("    POP\n");
        }
    }

    fn constant(&mut self, ty: ValType) -> String {
        match ty {
            ValType::I32 => {
                const V: [i32; 9] = [0, 1, -1, 2, 7, -3, 1000, i32::MIN, i32::MAX];
                V[self.b.below(V.len())].to_string()
            }
            ValType::I64 => {
                const V: [i64; 8] = [0, 1, -1, 3, -7, 1 << 40, i64::MIN, i64::MAX];
                format!("i64 {}", V[self.b.below(V.len())])
            }
            ValType::F64 => {
                const V: [&str; 8] = ["0", "-0.0", "1.5", "-2.25", "1e300", "nan", "inf", "-inf"];
                format!("f64 {}", V[self.b.below(V.len())])
            }
            ValType::Bool => ["true", "false"][self.b.below(2)].into(),
            _ => {
                const V: [&str; 4] = ["\"\"", "\"a\"", "\"hé\"", "\"zz\\n\""];
                V[self.b.below(V.len())].into()
            }
        }
    }

    /// Pushes a value of `ty`: a local of that type or a constant.
    fn operand(&mut self, fi: usize, ty: ValType, s: &mut Vec<ValType>, out: &mut String) {
        let local = self.funcs[fi].locals.iter().position(|x| *x == ty);
        match local {
            Some(l) if self.b.below(2) == 0 => {
                let _ = writeln!(out, "    LOAD l{l}");
            }
            _ => {
                let c = self.constant(ty);
                let _ = writeln!(out, "    PUSH {c}");
            }
        }
        s.push(ty);
    }

    /// Pushes what `params` needs above the stack's top, unless the top
    /// already has it.
    fn arguments(&mut self, fi: usize, params: &[ValType], s: &mut Vec<ValType>, out: &mut String) {
        let n = s.len();
        if n >= params.len() && s[n - params.len()..] == *params {
            return;
        }
        for ty in params {
            self.operand(fi, *ty, s, out);
        }
    }

    fn numeric(&mut self) -> ValType {
        [ValType::I32, ValType::I64, ValType::F64][self.b.below(3)]
    }

    fn statement(&mut self, fi: usize, s: &mut Vec<ValType>, out: &mut String, depth: usize) {
        match self.b.below(20) {
            0..=2 => {
                let ty = TYPES[self.b.below(5)];
                self.operand(fi, ty, s, out);
            }
            3 => {
                if let Some(&t) = s.last()
                    && let Some(l) = self.funcs[fi].locals.iter().position(|x| *x == t)
                {
                    let _ = writeln!(out, "    STORE l{l}");
                    s.pop();
                }
            }
            4..=6 => {
                // Arithmetic: on the top value when it is a number.
                let ty = match s.last() {
                    Some(t @ (ValType::I32 | ValType::I64 | ValType::F64)) => *t,
                    _ => {
                        let t = self.numeric();
                        self.operand(fi, t, s, out);
                        t
                    }
                };
                self.operand(fi, ty, s, out);
                let op = ["ADD", "SUB", "MUL", "DIV", "MOD"][self.b.below(5)];
                let _ = writeln!(out, "    {op}");
                s.pop();
            }
            7 => match s.last() {
                Some(ValType::I32 | ValType::I64 | ValType::F64) => out.push_str("    NEG\n"),
                Some(ValType::Bool) => out.push_str("    NOT\n"),
                _ => {}
            },
            8 | 9 => {
                let ty = match s.last() {
                    Some(t) => *t,
                    None => {
                        let t = TYPES[self.b.below(5)];
                        self.operand(fi, t, s, out);
                        t
                    }
                };
                self.operand(fi, ty, s, out);
                let ops: &[&str] = if ty == ValType::Bool {
                    &["EQ", "NE"]
                } else {
                    &["EQ", "NE", "LT", "LE", "GT", "GE"]
                };
                let _ = writeln!(out, "    {}", ops[self.b.below(ops.len())]);
                s.pop();
                s.pop();
                s.push(ValType::Bool);
            }
            10 => {
                if let Some(&t) = s.last() {
                    let n = s.len();
                    match self.b.below(4) {
                        0 => {
                            out.push_str("    DUP\n");
                            s.push(t);
                        }
                        1 if n >= 2 => {
                            out.push_str("    SWAP\n");
                            s.swap(n - 1, n - 2);
                        }
                        2 => {
                            out.push_str("    PRINT\n");
                            s.pop();
                        }
                        _ => {
                            out.push_str("    POP\n");
                            s.pop();
                        }
                    }
                }
            }
            11 | 12 => {
                let native = &NATIVES[self.b.below(NATIVES.len())];
                self.arguments(fi, native.params, s, out);
                let _ = writeln!(out, "    CALL_NATIVE {}", native.slot);
                s.truncate(s.len() - native.params.len());
                s.push(native.ret);
            }
            13..=15 if self.funcs.len() > 1 => {
                let g = 1 + self.b.below(self.funcs.len() - 1);
                let params = self.funcs[g].params.clone();
                self.arguments(fi, &params, s, out);
                let _ = writeln!(out, "    CALL {}", self.funcs[g].name);
                s.truncate(s.len() - params.len());
                if let Some(r) = self.funcs[g].ret {
                    s.push(r);
                }
            }
            16 if depth < 3 => {
                // if / else on a condition.
                if !matches!(s.last(), Some(ValType::I32 | ValType::Bool)) {
                    let t = [ValType::I32, ValType::Bool][self.b.below(2)];
                    self.operand(fi, t, s, out);
                }
                s.pop();
                let (otherwise, end) = (self.label(), self.label());
                let _ = writeln!(out, "    {} {otherwise}", ["JZ", "JNZ"][self.b.below(2)]);
                self.balanced(fi, out, depth + 1);
                let _ = writeln!(out, "    JMP {end}\n{otherwise}:");
                self.balanced(fi, out, depth + 1);
                let _ = writeln!(out, "{end}:");
            }
            17 if depth < 3 => {
                // A counted loop: at most 4 rounds.
                let c = self.funcs[fi].counters;
                self.funcs[fi].counters += 1;
                let head = self.label();
                let rounds = 1 + self.b.below(4);
                let _ = writeln!(out, "    PUSH {rounds}\n    STORE k{c}\n{head}:");
                self.balanced(fi, out, depth + 1);
                let _ = writeln!(
                    out,
                    "    LOAD k{c}\n    PUSH 1\n    SUB\n    DUP\n    STORE k{c}\n    JNZ {head}"
                );
            }
            18 if self.b.below(8) == 0 => {
                // A halt, in whichever function: the run stops with every
                // frame as it stands.
                out.push_str("    HALT\n");
                // What follows is unreachable, and the stack is free.
                let after = self.label();
                let _ = writeln!(out, "{after}:");
                s.clear();
            }
            _ => {}
        }
    }

    fn label(&mut self) -> String {
        self.labels += 1;
        format!("L{}", self.labels)
    }

    /// Ends function `fi`: its result pushed (a local or a constant of its
    /// type) above whatever is left, which is popped first.
    fn finish(&mut self, fi: usize, stack: &mut Vec<ValType>, out: &mut String) {
        for _ in stack.drain(..) {
            out.push_str("    POP\n");
        }
        match self.funcs[fi].ret {
            None if fi == 0 => out.push_str("    HALT\n"),
            None => out.push_str("    RET\n"),
            Some(t) => {
                match self.funcs[fi].locals.iter().position(|x| *x == t) {
                    Some(l) if self.b.below(2) == 0 => {
                        let _ = writeln!(out, "    LOAD l{l}");
                    }
                    _ => {
                        let c = self.constant(t);
                        let _ = writeln!(out, "    PUSH {c}");
                    }
                }
                out.push_str("    RET\n");
            }
        }
    }
}
