//! The peer runtimes: Lua 5.4, wasmi and wasmtime, running the same programs.

use std::hint::black_box;
use std::sync::OnceLock;

use crate::CALLS;
use crate::harness::{Candidate, candidate};

static MATH_ADD: OnceLock<unsafe extern "C" fn(i32, i32) -> i32> = OnceLock::new();

/// The binding a Lua user writes: `math_add(a, b)` as a C function.
unsafe extern "C-unwind" fn l_math_add(l: *mut mlua::ffi::lua_State) -> std::ffi::c_int {
    let f = MATH_ADD.get().unwrap();
    // SAFETY: Lua calls this with its state; the arguments are read as
    // integers and the result pushed, as any Lua C function does.
    unsafe {
        let a = mlua::ffi::lua_tointeger(l, 1) as i32;
        let b = mlua::ffi::lua_tointeger(l, 2) as i32;
        mlua::ffi::lua_pushinteger(l, mlua::ffi::lua_Integer::from(f(a, b)));
    }
    1
}

pub fn candidates(raw: unsafe extern "C" fn(i32, i32) -> i32) -> Vec<Candidate> {
    let _ = MATH_ADD.set(raw);
    let lua = mlua::Lua::new();
    // SAFETY: `l_math_add` follows the Lua C function protocol.
    let f = unsafe { lua.create_c_function(l_math_add) }.unwrap();
    lua.globals().set("math_add", f).unwrap();
    let chunk = lua
        .load(format!(
            "local f = math_add; for i = 1, {CALLS} do f(10, 5) end"
        ))
        .into_function()
        .unwrap();
    let lua_run = candidate(
        "lua",
        "(d) Lua 5.4 loop calling the C math_add (a Lua C function)",
        move || {
            let _keep = &lua;
            chunk.call::<()>(()).unwrap();
        },
    );

    let engine = wasmi::Engine::default();
    let wasm = wat::parse_str(
        r#"(module
            (import "env" "math_add" (func $add (param i32 i32) (result i32)))
            (func (export "run") (param $n i32)
                (loop $top
                    (drop (call $add (i32.const 10) (i32.const 5)))
                    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                    (br_if $top (local.get $n)))))"#,
    )
    .unwrap();
    let module = wasmi::Module::new(&engine, &wasm[..]).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let mut linker = wasmi::Linker::<()>::new(&engine);
    linker
        .func_wrap("env", "math_add", move |a: i32, b: i32| -> i32 {
            // SAFETY: a plain C function of two ints.
            unsafe { raw(a, b) }
        })
        .unwrap();
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let run = instance.get_typed_func::<i32, ()>(&store, "run").unwrap();
    let wasmi_run = candidate(
        "wasmi",
        "(d) wasmi loop calling the C math_add (a host function)",
        move || {
            run.call(&mut store, black_box(CALLS)).unwrap();
        },
    );
    #[allow(unused_mut, reason = "wasmtime joins with its feature")]
    let mut all = vec![lua_run, wasmi_run, wasmi_typed()];
    #[cfg(feature = "wasmtime")]
    all.push(wasmtime_typed());
    all
}

/// The wasm function a host calls in the typed-call peers.
pub(crate) const WASM_ADD: &str = r#"(module
    (func (export "math_add") (param i32 i32) (result i32)
        (i32.add (local.get 0) (local.get 1))))"#;

/// A Rust loop calling a wasm `math_add` through wasmi's typed function.
pub(crate) fn wasmi_typed() -> Candidate {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, &wat::parse_str(WASM_ADD).unwrap()[..]).unwrap();
    let mut store = wasmi::Store::new(&engine, ());
    let instance = wasmi::Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&store, "math_add")
        .unwrap();
    candidate(
        "wasmi_typed",
        "(i) Rust loop, wasmi TypedFunc::call into a wasm math_add",
        move || {
            for _ in 0..CALLS {
                black_box(add.call(&mut store, (10, 5)).unwrap());
            }
        },
    )
}

/// A Rust loop calling a wasm `math_add` through wasmtime's typed
/// function (compiled by Cranelift).
#[cfg(feature = "wasmtime")]
pub(crate) fn wasmtime_typed() -> Candidate {
    let engine = wasmtime::Engine::default();
    let module = wasmtime::Module::new(&engine, wat::parse_str(WASM_ADD).unwrap()).unwrap();
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
    let add = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "math_add")
        .unwrap();
    candidate(
        "wasmtime_typed",
        "(i) Rust loop, wasmtime TypedFunc::call into a wasm math_add",
        move || {
            for _ in 0..CALLS {
                black_box(add.call(&mut store, (10, 5)).unwrap());
            }
        },
    )
}
