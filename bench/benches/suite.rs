//! (l) The suite: programs written the way users write them, each in
//! hotslot's assembly, Lua 5.4, and wasm (run by wasmi, and by wasmtime as
//! the JIT reference), doing the same work and checked for the same result.
//! Native functions are the same C functions for all (`bench/c/quiet_math.c`),
//! each runtime calling them through its own binding: a slot for hotslot, a
//! Lua C function, a wasm host import.
//!
//! No program is shaped to fit hotslot's superinstructions: loops keep their
//! counters in locals, load them, compare and store them back, as the
//! assembly manual's examples do.

use std::fmt::Write as _;
use std::sync::Arc;

use hotslot::vm::{Value, assemble, verify};

use crate::REPEAT;
use crate::harness::{Candidate, Report, candidate, rounds, stats};
use crate::plugins::Plugins;

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

/// What a hotslot VM left on its stack.
fn answer_of(v: &Value) -> Answer {
    match v {
        Value::I32(x) => Answer::Int(i64::from(*x)),
        Value::I64(x) => Answer::Int(*x),
        Value::Str(s) => Answer::Text(s.to_string()),
        other => panic!("a suite program left {other:?}"),
    }
}

/// A `'static` key for a candidate of `program` in `runtime`.
fn key(runtime: &str, program: &Program) -> &'static str {
    Box::leak(format!("{runtime}:{}", program.key).into_boxed_str())
}

/// hotslot: the program in a VM whose slots are bound to the C plugin,
/// compiled to native code or interpreted.
fn hotslot_candidate(p: &Plugins, program: &Program, compiled: bool) -> Candidate {
    let verified = Arc::new(verify(assemble(&program.hotslot).unwrap()).unwrap());
    let table = hotslot_bench::table();
    let options = hotslot::vm::VmOptions {
        jit: hotslot::vm::JitOptions { enabled: compiled },
        ..hotslot::vm::VmOptions::default()
    };
    let mut vm = table.vm_with(verified, options).unwrap();
    assert_eq!(vm.engine().is_ok(), compiled, "{}", program.key);
    if program.hotslot.contains(".import") {
        table
            .bind_library(&p.c, &hotslot::ReloadOptions::default())
            .unwrap();
    }
    vm.run().unwrap();
    let got = answer_of(vm.stack().last().expect("a result"));
    assert_eq!(got, program.expect, "hotslot, {}", program.key);
    let (runtime, label) = if compiled {
        ("hotslot", "hotslot")
    } else {
        ("hotslot_interp", "hs interp")
    };
    candidate(key(runtime, program), label, move || {
        let _keep = &table;
        vm.run().unwrap();
    })
}

/// (l): every program, in every runtime built in, round after round; the
/// figures are ns per unit of work (per iteration, per call).
pub(crate) fn suite(p: &Plugins, r: &mut Report) {
    println!(
        "\nthe suite (ns per iteration or call; median (min–max) over {REPEAT} rounds; ratio to Lua 5.4):"
    );
    let natives = peers::Natives::open(&p.c);
    let mut ratios_to_lua: Vec<(String, f64)> = Vec::new();
    let mut interp_to_lua: Vec<(String, f64)> = Vec::new();
    let mut ratios_to_wasmtime: Vec<(String, f64)> = Vec::new();
    for program in programs() {
        let mut all = vec![
            hotslot_candidate(p, &program, true),
            hotslot_candidate(p, &program, false),
        ];
        #[cfg(feature = "peers")]
        {
            all.push(peers::lua(natives, &program));
            all.push(peers::wasmi(natives, &program));
        }
        #[cfg(feature = "wasmtime")]
        all.push(peers::wasmtime(natives, &program));
        let _ = natives;
        #[allow(unused_mut, reason = "LuaJIT joins with its feature")]
        let mut samples = rounds(&mut all, REPEAT, program.units);
        // LuaJIT runs in a process of its own, its rounds after these.
        #[cfg(feature = "luajit")]
        {
            samples.push(luajit::run(p, &program));
            all.push(candidate(key("luajit", &program), "LuaJIT", || {}));
        }
        println!("  (l) {}:", program.label);
        let lua = samples
            .iter()
            .zip(&all)
            .find(|(_, c)| c.label == "Lua 5.4")
            .map(|(s, _)| s.clone());
        let wasmtime = samples
            .iter()
            .zip(&all)
            .find(|(_, c)| c.label == "wasmtime")
            .map(|(s, _)| s.clone());
        for (c, s) in all.iter().zip(samples) {
            let versus = |other: &Option<Vec<f64>>| {
                other
                    .as_ref()
                    .map(|l| stats(s.iter().zip(l).map(|(x, y)| x / y).collect()))
            };
            let (versus_lua, versus_wasmtime) = (versus(&lua), versus(&wasmtime));
            let st = stats(s.clone());
            match &versus_lua {
                Some(v) if c.label != "Lua 5.4" => {
                    print!("      {:<10} {st}   {:.2}x Lua", c.label, v.median);
                    if c.label == "hotslot" {
                        ratios_to_lua.push((program.key.to_owned(), v.median));
                        if let Some(w) = &versus_wasmtime {
                            print!("   {:.2}x wasmtime", w.median);
                            ratios_to_wasmtime.push((program.key.to_owned(), w.median));
                        }
                    }
                    if c.label == "hs interp" {
                        interp_to_lua.push((program.key.to_owned(), v.median));
                    }
                    println!();
                }
                _ => println!("      {:<10} {st}", c.label),
            }
            r.rounds.insert(c.key.into(), s);
            r.record(
                c.key,
                &format!("(l) {}: {}", program.label, c.label),
                "ns",
                st,
            );
        }
    }
    let geomean = |ratios: &[(String, f64)]| {
        (ratios.iter().map(|(_, x)| x.ln()).sum::<f64>() / ratios.len() as f64).exp()
    };
    for (ratios, what, note) in [
        (&ratios_to_lua, "hotslot (compiled) / Lua 5.4", "suite_hotslot_over_lua"),
        (&interp_to_lua, "hotslot (interpreted) / Lua 5.4", "suite_interp_over_lua"),
        (&ratios_to_wasmtime, "hotslot (compiled) / wasmtime", "suite_hotslot_over_wasmtime"),
    ] {
        if !ratios.is_empty() {
            let g = geomean(ratios);
            println!("  (l) {what}, geometric mean over the suite: {g:.2}");
            r.note(note, serde_json::json!({ "programs": ratios, "geomean": g }));
        }
    }
}

/// LuaJIT, in a process of its own (`bench/luajit`).
#[cfg(feature = "luajit")]
mod luajit {
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;

    use super::{Answer, Program};
    use crate::REPEAT;
    use crate::plugins::Plugins;

    /// The LuaJIT runner, built once (release) the first time it is asked
    /// for.
    fn runner(p: &Plugins) -> &'static PathBuf {
        static BUILT: OnceLock<PathBuf> = OnceLock::new();
        BUILT.get_or_init(|| {
            let manifest = p.root.join("bench/luajit/Cargo.toml");
            let target = p.root.join("target/luajit");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--release", "--locked", "--quiet", "--manifest-path"])
                .arg(&manifest)
                .arg("--target-dir")
                .arg(&target)
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building bench/luajit");
            target.join("release/hotslot-bench-luajit")
        })
    }

    /// `program`'s Lua source run by LuaJIT, `REPEAT` rounds after a
    /// warm-up: ns per unit of work, each round; its result checked.
    pub(crate) fn run(p: &Plugins, program: &Program) -> Vec<f64> {
        let mut child = Command::new(runner(p))
            .arg(&p.c)
            .arg(REPEAT.to_string())
            .arg(program.units.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the LuaJIT runner starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(program.lua.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "LuaJIT, {}", program.key);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let got = match (&report["answer"]["int"], &report["answer"]["text"]) {
            (serde_json::Value::Number(x), _) => {
                let x = x.as_i64().unwrap();
                // The C functions' ints wrapped, as for Lua 5.4.
                match program.expect {
                    Answer::Int(e) if i64::from(x as i32) == e => Answer::Int(e),
                    _ => Answer::Int(x),
                }
            }
            (_, serde_json::Value::String(s)) => Answer::Text(s.clone()),
            other => panic!("LuaJIT reported {other:?}"),
        };
        assert_eq!(got, program.expect, "LuaJIT, {}", program.key);
        report["ns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }
}

/// The peers' bindings of the C functions, and their candidates.
mod peers {
    use std::path::Path;

    /// The plain C functions of the plugin, looked up once; the library
    /// stays loaded while this lives.
    #[cfg_attr(
        not(any(feature = "peers", feature = "wasmtime")),
        allow(dead_code, reason = "the peers call them when they are built in")
    )]
    pub(crate) struct Natives {
        _lib: libloading::Library,
        pub(crate) math_add: unsafe extern "C" fn(i32, i32) -> i32,
        pub(crate) args0: unsafe extern "C" fn() -> i32,
        pub(crate) args1: unsafe extern "C" fn(i32) -> i32,
        pub(crate) args2: unsafe extern "C" fn(i32, i32) -> i32,
        pub(crate) args3: unsafe extern "C" fn(i32, i32, i32) -> i32,
        pub(crate) args4: unsafe extern "C" fn(i32, i32, i32, i32) -> i32,
        pub(crate) args5: unsafe extern "C" fn(i32, i32, i32, i32, i32) -> i32,
        pub(crate) args6: unsafe extern "C" fn(i32, i32, i32, i32, i32, i32) -> i32,
        pub(crate) text: unsafe extern "C" fn(i32, *mut usize) -> *const u8,
    }

    impl Natives {
        /// Leaked: the bindings use it for the rest of the run.
        pub(crate) fn open(path: &Path) -> &'static Natives {
            // SAFETY: the benchmark's own C plugin, with no initializers
            // beyond the C runtime's.
            let lib = unsafe { libloading::Library::new(path) }.unwrap();
            macro_rules! get {
                ($name:literal) => {
                    // SAFETY: each symbol is a C function of the type its
                    // field declares (`bench/c/quiet_math.c`); the library
                    // stays loaded with the pointers.
                    unsafe { *lib.get($name).unwrap() }
                };
            }
            Box::leak(Box::new(Natives {
                math_add: get!(b"math_add\0"),
                args0: get!(b"args0\0"),
                args1: get!(b"args1\0"),
                args2: get!(b"args2\0"),
                args3: get!(b"args3\0"),
                args4: get!(b"args4\0"),
                args5: get!(b"args5\0"),
                args6: get!(b"args6\0"),
                text: get!(b"quiet_text\0"),
                _lib: lib,
            }))
        }
    }

    /// Links the C function `$f` of ints into a wasm linker (wasmi's or
    /// wasmtime's: their `func_wrap` is the same) as host import `$name` of
    /// module `env`.
    #[cfg(any(feature = "peers", feature = "wasmtime"))]
    macro_rules! link_int {
        ($linker:expr, $name:literal, $f:expr, [$($a:ident),*]) => {{
            let f = $f;
            $linker
                .func_wrap("env", $name, move |$($a: i32),*| -> i32 {
                    // SAFETY: a plain C function of ints.
                    unsafe { f($($a),*) }
                })
                .unwrap();
        }};
    }

    /// Links every C function of ints of `$n` (`Natives`).
    #[cfg(any(feature = "peers", feature = "wasmtime"))]
    macro_rules! link_ints {
        ($linker:expr, $n:expr) => {{
            link_int!($linker, "math_add", $n.math_add, [a, b]);
            link_int!($linker, "args0", $n.args0, []);
            link_int!($linker, "args1", $n.args1, [a]);
            link_int!($linker, "args2", $n.args2, [a, b]);
            link_int!($linker, "args3", $n.args3, [a, b, c]);
            link_int!($linker, "args4", $n.args4, [a, b, c, d]);
            link_int!($linker, "args5", $n.args5, [a, b, c, d, e]);
            link_int!($linker, "args6", $n.args6, [a, b, c, d, e, f]);
        }};
    }

    /// Links `text` into a wasm linker of runtime `$rt` (`wasmi` or
    /// `wasmtime`, whose host-function APIs are alike): the host copies the
    /// C function's string into the module's memory at offset 0 and
    /// returns its length.
    #[cfg(any(feature = "peers", feature = "wasmtime"))]
    macro_rules! link_text {
        ($linker:expr, $n:expr, $rt:ident) => {{
            let text = $n.text;
            $linker
                .func_wrap(
                    "env",
                    "text",
                    move |mut caller: $rt::Caller<'_, ()>, i: i32| -> i32 {
                        let mut len = 0;
                        // SAFETY: the C function returns `len` readable
                        // bytes.
                        let bytes = unsafe { std::slice::from_raw_parts(text(i, &mut len), len) };
                        let memory = caller
                            .get_export("memory")
                            .and_then($rt::Extern::into_memory)
                            .unwrap();
                        memory.write(&mut caller, 0, bytes).unwrap();
                        len as i32
                    },
                )
                .unwrap();
        }};
    }

    /// The text result of a wasm program: its length, the bytes at offset 0
    /// of its memory.
    #[cfg(any(feature = "peers", feature = "wasmtime"))]
    fn wasm_answer(
        result: i64,
        expect: &crate::suite::Answer,
        read: impl FnOnce(usize) -> Vec<u8>,
    ) -> crate::suite::Answer {
        use crate::suite::Answer;
        match expect {
            Answer::Text(_) => Answer::Text(String::from_utf8(read(result as usize)).unwrap()),
            Answer::Int(_) => Answer::Int(result),
        }
    }

    #[cfg(feature = "peers")]
    pub(crate) use with_peers::{lua, wasmi};
    #[cfg(feature = "wasmtime")]
    pub(crate) use with_wasmtime::wasmtime;

    #[cfg(feature = "peers")]
    mod with_peers {
        use std::ffi::c_int;
        use std::sync::OnceLock;

        use mlua::ffi::{lua_State, lua_pushinteger, lua_pushlstring, lua_tointeger};

        use super::{Natives, wasm_answer};
        use crate::harness::{Candidate, candidate};
        use crate::suite::{Answer, Program, key};

        /// The functions the Lua bindings call (a Lua C function gets no
        /// context of ours).
        static C: OnceLock<&'static Natives> = OnceLock::new();

        fn c() -> &'static Natives {
            C.get().expect("the natives are set before Lua runs")
        }

        /// An integer argument, read as a binding a Lua user writes reads it.
        ///
        /// # Safety
        ///
        /// `l` is the state Lua called the binding with.
        unsafe fn arg(l: *mut lua_State, i: c_int) -> i32 {
            // SAFETY: forwarded.
            unsafe { lua_tointeger(l, i) as i32 }
        }

        macro_rules! binding {
            ($name:ident, $f:ident, $($i:literal),*) => {
                unsafe extern "C-unwind" fn $name(l: *mut lua_State) -> c_int {
                    // SAFETY: Lua calls this with its state; the arguments
                    // are read as integers and the result pushed, as any Lua
                    // C function does; the C function takes ints.
                    unsafe {
                        let r = (c().$f)($(arg(l, $i)),*);
                        lua_pushinteger(l, mlua::ffi::lua_Integer::from(r));
                    }
                    1
                }
            };
        }
        binding!(l_math_add, math_add, 1, 2);
        binding!(l_args0, args0,);
        binding!(l_args1, args1, 1);
        binding!(l_args2, args2, 1, 2);
        binding!(l_args3, args3, 1, 2, 3);
        binding!(l_args4, args4, 1, 2, 3, 4);
        binding!(l_args5, args5, 1, 2, 3, 4, 5);
        binding!(l_args6, args6, 1, 2, 3, 4, 5, 6);

        unsafe extern "C-unwind" fn l_text(l: *mut lua_State) -> c_int {
            // SAFETY: as for the bindings above; the C function returns
            // `len` readable bytes, which Lua copies.
            unsafe {
                let mut len = 0;
                let s = (c().text)(arg(l, 1), &mut len);
                lua_pushlstring(l, s.cast(), len);
            }
            1
        }

        pub(crate) fn lua(natives: &'static Natives, program: &Program) -> Candidate {
            let _ = C.set(natives);
            let lua = mlua::Lua::new();
            type Binding = unsafe extern "C-unwind" fn(*mut lua_State) -> c_int;
            let bindings: [(&str, Binding); 9] = [
                ("math_add", l_math_add),
                ("args0", l_args0),
                ("args1", l_args1),
                ("args2", l_args2),
                ("args3", l_args3),
                ("args4", l_args4),
                ("args5", l_args5),
                ("args6", l_args6),
                ("text", l_text),
            ];
            for (name, f) in bindings {
                // SAFETY: each binding follows the Lua C function protocol.
                let f = unsafe { lua.create_c_function(f) }.unwrap();
                lua.globals().set(name, f).unwrap();
            }
            let chunk = lua.load(&program.lua).into_function().unwrap();
            let got = match chunk.call::<mlua::Value>(()).unwrap() {
                // Lua's integers are 64-bit; the C functions' ints wrapped.
                mlua::Value::Integer(x) => match program.expect {
                    Answer::Int(e) if i64::from(x as i32) == e => Answer::Int(e),
                    _ => Answer::Int(x),
                },
                mlua::Value::String(s) => Answer::Text(s.to_str().unwrap().to_owned()),
                other => panic!("Lua left {other:?}"),
            };
            assert_eq!(got, program.expect, "Lua, {}", program.key);
            candidate(key("lua", program), "Lua 5.4", move || {
                let _keep = &lua;
                chunk.call::<mlua::Value>(()).unwrap();
            })
        }

        pub(crate) fn wasmi(natives: &'static Natives, program: &Program) -> Candidate {
            let engine = wasmi::Engine::default();
            let module =
                wasmi::Module::new(&engine, &wat::parse_str(&program.wat).unwrap()[..]).unwrap();
            let mut store = wasmi::Store::new(&engine, ());
            let mut linker = wasmi::Linker::<()>::new(&engine);
            link_ints!(linker, natives);
            link_text!(linker, natives, wasmi);
            let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
            let run = instance.get_func(&store, "run").unwrap();
            let mut out = [wasmi::Val::I32(0)];
            run.call(&mut store, &[], &mut out).unwrap();
            let result = match out[0] {
                wasmi::Val::I32(x) => i64::from(x),
                wasmi::Val::I64(x) => x,
                ref other => panic!("wasmi left {other:?}"),
            };
            let got = wasm_answer(result, &program.expect, |len| {
                let memory = instance.get_memory(&store, "memory").unwrap();
                let mut bytes = vec![0; len];
                memory.read(&store, 0, &mut bytes).unwrap();
                bytes
            });
            assert_eq!(got, program.expect, "wasmi, {}", program.key);
            candidate(key("wasmi", program), "wasmi", move || {
                run.call(&mut store, &[], &mut out).unwrap();
            })
        }
    }

    #[cfg(feature = "wasmtime")]
    mod with_wasmtime {
        use super::{Natives, wasm_answer};
        use crate::harness::{Candidate, candidate};
        use crate::suite::{Program, key};

        pub(crate) fn wasmtime(natives: &'static Natives, program: &Program) -> Candidate {
            let engine = wasmtime::Engine::default();
            let module =
                wasmtime::Module::new(&engine, wat::parse_str(&program.wat).unwrap()).unwrap();
            let mut store = wasmtime::Store::new(&engine, ());
            let mut linker = wasmtime::Linker::<()>::new(&engine);
            link_ints!(linker, natives);
            link_text!(linker, natives, wasmtime);
            let instance = linker.instantiate(&mut store, &module).unwrap();
            let run = instance.get_func(&mut store, "run").unwrap();
            let mut out = [wasmtime::Val::I32(0)];
            run.call(&mut store, &[], &mut out).unwrap();
            let result = match out[0] {
                wasmtime::Val::I32(x) => i64::from(x),
                wasmtime::Val::I64(x) => x,
                ref other => panic!("wasmtime left {other:?}"),
            };
            let got = wasm_answer(result, &program.expect, |len| {
                let memory = instance.get_memory(&mut store, "memory").unwrap();
                memory.data(&store)[..len].to_vec()
            });
            assert_eq!(got, program.expect, "wasmtime, {}", program.key);
            candidate(key("wasmtime", program), "wasmtime", move || {
                run.call(&mut store, &[], &mut out).unwrap();
            })
        }
    }
}
