//! (l) The suite: programs written the way users write them, each in
//! hotslot's assembly, Lua 5.4, and wasm (run by wasmi, and by wasmtime as
//! the JIT reference), doing the same work and checked for the same result.
//! Native functions are the same C functions for all (`bench/c/quiet_math.c`),
//! each runtime calling them through its own binding: a slot for hotslot, a
//! Lua C function, a wasm host import.
//!
//! The programs are in `programs.rs`.

use std::sync::Arc;

use hotslot::vm::{Value, assemble, verify};

use crate::REPEAT;
use crate::harness::{Candidate, Report, candidate, rounds, stats};
use crate::plugins::Plugins;
use crate::programs::{Answer, Program, programs};

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
        (
            &ratios_to_lua,
            "hotslot (compiled) / Lua 5.4",
            "suite_hotslot_over_lua",
        ),
        (
            &interp_to_lua,
            "hotslot (interpreted) / Lua 5.4",
            "suite_interp_over_lua",
        ),
        (
            &ratios_to_wasmtime,
            "hotslot (compiled) / wasmtime",
            "suite_hotslot_over_wasmtime",
        ),
    ] {
        if !ratios.is_empty() {
            let g = geomean(ratios);
            println!("  (l) {what}, geometric mean over the suite: {g:.2}");
            r.note(
                note,
                serde_json::json!({ "programs": ratios, "geomean": g }),
            );
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
                .args([
                    "build",
                    "--release",
                    "--locked",
                    "--quiet",
                    "--manifest-path",
                ])
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
        expect: &crate::programs::Answer,
        read: impl FnOnce(usize) -> Vec<u8>,
    ) -> crate::programs::Answer {
        use crate::programs::Answer;
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
        use crate::programs::{Answer, Program};
        use crate::suite::key;

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
        use crate::programs::Program;
        use crate::suite::key;

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
