//! LuaJIT running one of the benchmark suite's Lua programs, with the same
//! C functions bound as Lua 5.4's: `hotslot-bench` starts it once per
//! program (mlua links one Lua per build, so LuaJIT has a process of its
//! own).
//!
//!     hotslot-bench-luajit PLUGIN ROUNDS UNITS < program.lua
//!
//! Prints one line of JSON: the program's result, and the time of each of
//! `ROUNDS` runs (after a warm-up run) in ns per unit of work.

use std::ffi::c_int;
use std::io::Read;
use std::sync::OnceLock;
use std::time::Instant;

use mlua::ffi::{lua_State, lua_pushinteger, lua_pushlstring, lua_tointeger};

/// The C functions of the benchmark's plugin.
struct Natives {
    _lib: libloading::Library,
    math_add: unsafe extern "C" fn(i32, i32) -> i32,
    args0: unsafe extern "C" fn() -> i32,
    args1: unsafe extern "C" fn(i32) -> i32,
    args2: unsafe extern "C" fn(i32, i32) -> i32,
    args3: unsafe extern "C" fn(i32, i32, i32) -> i32,
    args4: unsafe extern "C" fn(i32, i32, i32, i32) -> i32,
    args5: unsafe extern "C" fn(i32, i32, i32, i32, i32) -> i32,
    args6: unsafe extern "C" fn(i32, i32, i32, i32, i32, i32) -> i32,
    text: unsafe extern "C" fn(i32, *mut usize) -> *const u8,
}

static C: OnceLock<Natives> = OnceLock::new();

fn c() -> &'static Natives {
    C.get().expect("the natives are loaded before Lua runs")
}

/// An integer argument, as a Lua C function reads one.
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
            // SAFETY: Lua calls this with its state; the arguments are read
            // as integers and the result pushed, as any Lua C function does.
            unsafe {
                let r = (c().$f)($(arg(l, $i)),*);
                lua_pushinteger(l, r as mlua::ffi::lua_Integer);
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
    // SAFETY: as above; the C function returns `len` readable bytes, which
    // Lua copies.
    unsafe {
        let mut len = 0;
        let s = (c().text)(arg(l, 1), &mut len);
        lua_pushlstring(l, s.cast(), len);
    }
    1
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, plugin, rounds, units] = &args[..] else {
        eprintln!("usage: hotslot-bench-luajit PLUGIN ROUNDS UNITS < program.lua");
        std::process::exit(2);
    };
    let rounds: usize = rounds.parse().expect("ROUNDS is a number");
    let units: f64 = units.parse().expect("UNITS is a number");
    // SAFETY: the benchmark's own C plugin, with no initializers beyond the
    // C runtime's.
    let lib = unsafe { libloading::Library::new(plugin) }.expect("the plugin loads");
    macro_rules! get {
        ($name:literal) => {
            // SAFETY: each symbol is a C function of the type its field
            // declares; the library stays loaded with the pointers.
            unsafe { *lib.get($name).expect("the plugin has the function") }
        };
    }
    let natives = Natives {
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
    };
    let _ = C.set(natives);
    let mut source = String::new();
    std::io::stdin()
        .read_to_string(&mut source)
        .expect("the program on stdin");
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
        let f = unsafe { lua.create_c_function(f) }.expect("a C function");
        lua.globals().set(name, f).expect("a global");
    }
    let chunk = lua
        .load(&source)
        .into_function()
        .expect("the program compiles");
    let answer = match chunk.call::<mlua::Value>(()).expect("the program runs") {
        mlua::Value::Integer(x) => serde_json::json!({ "int": x }),
        // LuaJIT's numbers are doubles: integral results are exact here.
        mlua::Value::Number(x) => serde_json::json!({ "int": x as i64 }),
        mlua::Value::String(s) => serde_json::json!({ "text": s.to_str().expect("UTF-8").to_owned() }),
        other => panic!("LuaJIT left {other:?}"),
    };
    let times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            chunk.call::<mlua::Value>(()).expect("the program runs");
            t.elapsed().as_nanos() as f64 / units
        })
        .collect();
    println!("{}", serde_json::json!({ "answer": answer, "ns": times }));
}
