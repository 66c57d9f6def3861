//! The suite's programs, each in hotslot's assembly, Lua 5.4 and wasm text,
//! with the result all must give.
//!
//! No program is shaped to fit hotslot's superinstructions or its compiler:
//! loops keep their counters in locals, load them, compare and store them
//! back, as the assembly manual's examples do. `checksum` and `mixed` were
//! written after the compiler, as hold-outs.

use std::fmt::Write as _;

/// What a program leaves: a number, or a string.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Answer {
    Int(i64),
    Text(String),
}

/// One program of the suite, in each language.
#[cfg_attr(
    not(any(feature = "peers", feature = "wasmtime")),
    allow(
        dead_code,
        reason = "the peers' sources are read when they are built in"
    )
)]
pub(crate) struct Program {
    pub(crate) key: &'static str,
    pub(crate) label: String,
    /// hotslot assembly; the result is left on the stack.
    pub(crate) hotslot: String,
    /// A Lua chunk returning the result.
    pub(crate) lua: String,
    /// A wasm module (text) exporting `run` returning the result (for a
    /// string program: its length, the bytes at offset 0 of its memory).
    pub(crate) wat: String,
    pub(crate) expect: Answer,
    /// The work one run does, for the figure per unit (iterations, calls).
    pub(crate) units: f64,
}

const SUM_N: i64 = 5_000_000;
const FIB_N: i32 = 27;
const NESTED_N: i32 = 700;
const CALLS_N: i32 = 2_000_000;
const TEXT_N: i32 = 1_000_000;
const CHECKSUM_N: i32 = 2_000_000;
const MIXED_N: i32 = 1_000_000;

/// Every program, with its expected result.
pub(crate) fn programs() -> Vec<Program> {
    let mut all = vec![
        sum(),
        fib(),
        nested(),
        native_loop(),
        text(),
        checksum(),
        mixed(),
    ];
    all.extend((0..=6).map(args));
    all
}

/// A hold-out program (written after the compiler, and shaped to nothing
/// it does): a checksum of bytes made from `i`, with a branch per byte.
fn checksum() -> Program {
    let n = CHECKSUM_N;
    let mut c: i32 = 0;
    for i in 1..=n {
        let b = (i * 31 + 7) % 256;
        c = if b > 127 {
            (c * 3 + b) % 1_000_003
        } else {
            (c + b * 5) % 1_000_003
        };
    }
    Program {
        key: "checksum",
        label: format!("a checksum of bytes, a branch per byte ({n} bytes; hold-out)"),
        hotslot: format!(
            "
            .local i i32
            .local b i32
            .local c i32
                PUSH 1
                STORE i
            top:
                LOAD i
                PUSH 31
                MUL
                PUSH 7
                ADD
                PUSH 256
                MOD
                STORE b
                LOAD b
                PUSH 127
                GT
                JZ low
                LOAD c
                PUSH 3
                MUL
                LOAD b
                ADD
                PUSH 1000003
                MOD
                STORE c
                JMP next
            low:
                LOAD c
                LOAD b
                PUSH 5
                MUL
                ADD
                PUSH 1000003
                MOD
                STORE c
            next:
                LOAD i
                PUSH 1
                ADD
                STORE i
                LOAD i
                PUSH {n}
                LE
                JNZ top
                LOAD c
                HALT
            "
        ),
        lua: format!(
            "local c = 0 for i = 1, {n} do local b = (i * 31 + 7) % 256 \
             if b > 127 then c = (c * 3 + b) % 1000003 else c = (c + b * 5) % 1000003 end end return c"
        ),
        wat: format!(
            r#"(module (func (export "run") (result i32) (local $i i32) (local $b i32) (local $c i32)
                (local.set $i (i32.const 1))
                (loop $top
                    (local.set $b (i32.rem_s (i32.add (i32.mul (local.get $i) (i32.const 31)) (i32.const 7)) (i32.const 256)))
                    (if (i32.gt_s (local.get $b) (i32.const 127))
                        (then (local.set $c (i32.rem_s (i32.add (i32.mul (local.get $c) (i32.const 3)) (local.get $b)) (i32.const 1000003))))
                        (else (local.set $c (i32.rem_s (i32.add (local.get $c) (i32.mul (local.get $b) (i32.const 5))) (i32.const 1000003)))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $top (i32.le_s (local.get $i) (i32.const {n}))))
                (local.get $c)))"#
        ),
        expect: Answer::Int(i64::from(c)),
        units: f64::from(n),
    }
}

/// A hold-out program: several locals, and a native call per iteration.
fn mixed() -> Program {
    let n = MIXED_N;
    let (mut a, mut b, mut d) = (0_i32, 0_i32, 0_i32);
    for i in 1..=n {
        a = (a % 65536).wrapping_add(i);
        b = (b + a % 13) % 100_000;
        d = (d + b * 2 + i % 7) % 1_000_003;
    }
    Program {
        key: "mixed",
        label: format!("several locals and a native call per iteration ({n} iterations; hold-out)"),
        hotslot: format!(
            "
            .import 0 math_add (i32, i32) -> i32
            .local i i32
            .local a i32
            .local b i32
            .local d i32
                PUSH 1
                STORE i
            top:
                LOAD a
                PUSH 65536
                MOD
                LOAD i
                CALL_NATIVE math_add
                STORE a
                LOAD b
                LOAD a
                PUSH 13
                MOD
                ADD
                PUSH 100000
                MOD
                STORE b
                LOAD d
                LOAD b
                PUSH 2
                MUL
                ADD
                LOAD i
                PUSH 7
                MOD
                ADD
                PUSH 1000003
                MOD
                STORE d
                LOAD i
                PUSH 1
                ADD
                STORE i
                LOAD i
                PUSH {n}
                LE
                JNZ top
                LOAD a
                LOAD b
                ADD
                LOAD d
                ADD
                HALT
            "
        ),
        lua: format!(
            "local f = math_add local a, b, d = 0, 0, 0 for i = 1, {n} do a = f(a % 65536, i) \
             b = (b + a % 13) % 100000 d = (d + b * 2 + i % 7) % 1000003 end return a + b + d"
        ),
        wat: format!(
            r#"(module (import "env" "math_add" (func $f (param i32 i32) (result i32)))
                (func (export "run") (result i32) (local $i i32) (local $a i32) (local $b i32) (local $d i32)
                (local.set $i (i32.const 1))
                (loop $top
                    (local.set $a (call $f (i32.rem_s (local.get $a) (i32.const 65536)) (local.get $i)))
                    (local.set $b (i32.rem_s (i32.add (local.get $b) (i32.rem_s (local.get $a) (i32.const 13))) (i32.const 100000)))
                    (local.set $d (i32.rem_s (i32.add (i32.add (local.get $d) (i32.mul (local.get $b) (i32.const 2))) (i32.rem_s (local.get $i) (i32.const 7))) (i32.const 1000003)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $top (i32.le_s (local.get $i) (i32.const {n}))))
                (i32.add (i32.add (local.get $a) (local.get $b)) (local.get $d))))"#
        ),
        expect: Answer::Int(i64::from(a + b + d)),
        units: f64::from(n),
    }
}

/// `s = s + i` for `i` in 1..=N, over `i64` locals.
fn sum() -> Program {
    let n = SUM_N;
    Program {
        key: "sum",
        label: format!("sum loop over i64 locals (1..={n})"),
        hotslot: format!(
            "
            .local i i64
            .local s i64
                PUSH i64 1
                STORE i
            top:
                LOAD s
                LOAD i
                ADD
                STORE s
                LOAD i
                PUSH i64 1
                ADD
                STORE i
                LOAD i
                PUSH i64 {n}
                LE
                JNZ top
                LOAD s
                HALT
            "
        ),
        lua: format!("local s = 0 for i = 1, {n} do s = s + i end return s"),
        wat: format!(
            r#"(module (func (export "run") (result i64) (local $i i64) (local $s i64)
                (local.set $i (i64.const 1))
                (loop $top
                    (local.set $s (i64.add (local.get $s) (local.get $i)))
                    (local.set $i (i64.add (local.get $i) (i64.const 1)))
                    (br_if $top (i64.le_s (local.get $i) (i64.const {n}))))
                (local.get $s)))"#
        ),
        expect: Answer::Int(n * (n + 1) / 2),
        units: n as f64,
    }
}

/// Recursive Fibonacci through bytecode calls.
fn fib() -> Program {
    let n = FIB_N;
    let calls = {
        // fib(n) makes calls(n) = calls(n-1) + calls(n-2) + 1 calls.
        let (mut a, mut b) = (1_u64, 1_u64);
        for _ in 2..=n {
            (a, b) = (b, a + b + 1);
        }
        b
    };
    let value = {
        let (mut a, mut b) = (0_i64, 1_i64);
        for _ in 0..n {
            (a, b) = (b, a + b);
        }
        a
    };
    Program {
        key: "fib",
        label: format!("recursive fib({n}) ({calls} calls)"),
        hotslot: format!(
            "
                PUSH {n}
                CALL fib
                HALT
            .func fib (n: i32) -> i32
                LOAD n
                PUSH 2
                LT
                JZ more
                LOAD n
                RET
            more:
                LOAD n
                PUSH 1
                SUB
                CALL fib
                LOAD n
                PUSH 2
                SUB
                CALL fib
                ADD
                RET
            .end
            "
        ),
        lua: format!(
            "local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end return fib({n})"
        ),
        wat: format!(
            r#"(module
                (func $fib (param $n i32) (result i32)
                    (if (result i32) (i32.lt_s (local.get $n) (i32.const 2))
                        (then (local.get $n))
                        (else (i32.add
                            (call $fib (i32.sub (local.get $n) (i32.const 1)))
                            (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
                (func (export "run") (result i32) (call $fib (i32.const {n}))))"#
        ),
        expect: Answer::Int(value),
        units: calls as f64,
    }
}

/// Two nested loops over locals: how many `i * j` (1..=N each) leave 3
/// modulo 7.
fn nested() -> Program {
    let n = NESTED_N;
    let count = (1..=i64::from(n))
        .flat_map(|i| (1..=i64::from(n)).map(move |j| i * j))
        .filter(|p| p % 7 == 3)
        .count() as i64;
    Program {
        key: "nested",
        label: format!("nested loops over locals ({n} x {n}, a test per pair)"),
        hotslot: format!(
            "
            .local i i32
            .local j i32
            .local c i32
                PUSH 1
                STORE i
            outer:
                PUSH 1
                STORE j
            inner:
                LOAD i
                LOAD j
                MUL
                PUSH 7
                MOD
                PUSH 3
                EQ
                JZ next
                LOAD c
                PUSH 1
                ADD
                STORE c
            next:
                LOAD j
                PUSH 1
                ADD
                STORE j
                LOAD j
                PUSH {n}
                LE
                JNZ inner
                LOAD i
                PUSH 1
                ADD
                STORE i
                LOAD i
                PUSH {n}
                LE
                JNZ outer
                LOAD c
                HALT
            "
        ),
        lua: format!(
            "local c = 0 for i = 1, {n} do for j = 1, {n} do if (i * j) % 7 == 3 then c = c + 1 end end end return c"
        ),
        wat: format!(
            r#"(module (func (export "run") (result i32) (local $i i32) (local $j i32) (local $c i32)
                (local.set $i (i32.const 1))
                (loop $outer
                    (local.set $j (i32.const 1))
                    (loop $inner
                        (if (i32.eq (i32.rem_s (i32.mul (local.get $i) (local.get $j)) (i32.const 7)) (i32.const 3))
                            (then (local.set $c (i32.add (local.get $c) (i32.const 1)))))
                        (local.set $j (i32.add (local.get $j) (i32.const 1)))
                        (br_if $inner (i32.le_s (local.get $j) (i32.const {n}))))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $outer (i32.le_s (local.get $i) (i32.const {n}))))
                (local.get $c)))"#
        ),
        expect: Answer::Int(count),
        units: f64::from(n) * f64::from(n),
    }
}

/// `s = math_add(s, i)` for `i` in 1..=N: a native call in a natural loop.
fn native_loop() -> Program {
    let n = CALLS_N;
    let s = (1..=n).fold(0_i32, i32::wrapping_add);
    Program {
        key: "native_loop",
        label: format!("s = math_add(s, i), a native call in a loop ({n} calls)"),
        hotslot: format!(
            "
            .import 0 math_add (i32, i32) -> i32
            .local i i32
            .local s i32
                PUSH 1
                STORE i
            top:
                LOAD s
                LOAD i
                CALL_NATIVE math_add
                STORE s
                LOAD i
                PUSH 1
                ADD
                STORE i
                LOAD i
                PUSH {n}
                LE
                JNZ top
                LOAD s
                HALT
            "
        ),
        lua: format!("local f = math_add local s = 0 for i = 1, {n} do s = f(s, i) end return s"),
        wat: format!(
            r#"(module (import "env" "math_add" (func $f (param i32 i32) (result i32)))
                (func (export "run") (result i32) (local $i i32) (local $s i32)
                (local.set $i (i32.const 1))
                (loop $top
                    (local.set $s (call $f (local.get $s) (local.get $i)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $top (i32.le_s (local.get $i) (i32.const {n}))))
                (local.get $s)))"#
        ),
        expect: Answer::Int(i64::from(s)),
        units: f64::from(n),
    }
}

/// A native function returning a 16-byte string, called in a loop; the
/// last string is the result.
fn text() -> Program {
    let n = TEXT_N;
    let last = if n % 2 == 0 {
        "item-even-000000"
    } else {
        "item-odd--000001"
    };
    Program {
        key: "text",
        label: format!("t = text(i), a native string result in a loop ({n} calls)"),
        hotslot: format!(
            "
            .import 0 text (i32) -> str
            .local i i32
            .local t str
                PUSH 1
                STORE i
            top:
                LOAD i
                CALL_NATIVE text
                STORE t
                LOAD i
                PUSH 1
                ADD
                STORE i
                LOAD i
                PUSH {n}
                LE
                JNZ top
                LOAD t
                HALT
            "
        ),
        lua: format!("local f = text local t for i = 1, {n} do t = f(i) end return t"),
        // The host copies the string into the module's memory at offset 0
        // and returns its length.
        wat: format!(
            r#"(module (import "env" "text" (func $f (param i32) (result i32)))
                (memory (export "memory") 1)
                (func (export "run") (result i32) (local $i i32) (local $t i32)
                (local.set $i (i32.const 1))
                (loop $top
                    (local.set $t (call $f (local.get $i)))
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $top (i32.le_s (local.get $i) (i32.const {n}))))
                (local.get $t)))"#
        ),
        expect: Answer::Text(last.to_owned()),
        units: f64::from(n),
    }
}

/// `s = argsK(s, 1, 1, ...)` (`s = s + args0()` for none): calls of `k`
/// arguments in a loop.
fn args(k: usize) -> Program {
    let n = CALLS_N;
    let name = format!("args{k}");
    // What one call makes of `s`.
    let step = |s: i32| match k {
        0 => s.wrapping_add(1),
        1 => s.wrapping_add(1),
        _ => s.wrapping_add(k as i32 - 1),
    };
    let s = (0..n).fold(0_i32, |s, _| step(s));
    let params = vec!["i32"; k].join(", ");
    let mut call = String::new();
    if k == 0 {
        call.push_str("LOAD s\nCALL_NATIVE args0\nADD\n");
    } else {
        call.push_str("LOAD s\n");
        for _ in 1..k {
            call.push_str("PUSH 1\n");
        }
        writeln!(call, "CALL_NATIVE {name}").unwrap();
    }
    let lua_args: Vec<&str> = std::iter::once("s")
        .chain(std::iter::repeat_n("1", k.saturating_sub(1)))
        .take(k)
        .collect();
    let lua_call = if k == 0 {
        "s = s + f()".to_owned()
    } else {
        format!("s = f({})", lua_args.join(", "))
    };
    let wat_params = vec!["i32"; k].join(" ");
    let wat_call = if k == 0 {
        "(i32.add (local.get $s) (call $f))".to_owned()
    } else {
        let mut a = String::from("(local.get $s)");
        for _ in 1..k {
            a.push_str(" (i32.const 1)");
        }
        format!("(call $f {a})")
    };
    Program {
        key: [
            "args0", "args1", "args2", "args3", "args4", "args5", "args6",
        ][k],
        label: format!("s = {name}(..), a native call of {k} arguments in a loop ({n} calls)"),
        hotslot: format!(
            "
            .import 0 {name} ({params}) -> i32
            .local i i32
            .local s i32
                PUSH 1
                STORE i
            top:
                {call}
                STORE s
                LOAD i
                PUSH 1
                ADD
                STORE i
                LOAD i
                PUSH {n}
                LE
                JNZ top
                LOAD s
                HALT
            "
        ),
        lua: format!("local f = {name} local s = 0 for i = 1, {n} do {lua_call} end return s"),
        wat: format!(
            r#"(module (import "env" "{name}" (func $f (param {wat_params}) (result i32)))
                (func (export "run") (result i32) (local $i i32) (local $s i32)
                (local.set $i (i32.const 1))
                (loop $top
                    (local.set $s {wat_call})
                    (local.set $i (i32.add (local.get $i) (i32.const 1)))
                    (br_if $top (i32.le_s (local.get $i) (i32.const {n}))))
                (local.get $s)))"#
        ),
        expect: Answer::Int(i64::from(s)),
        units: f64::from(n),
    }
}
