//! The slot table with plugins linked into the host: publish, retire,
//! reclaim and calls from several threads, with no library file opened, so
//! that Miri can run all of it (`cargo +nightly miri test -p hotslot --lib
//! -- slots::`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use hotslot_plugin_api::{
    HS_ABI_MAJOR, HS_ABI_MINOR, HS_MAGIC, HsCallCtx, HsFunctionDescriptor, HsPluginDescriptor,
    HsStatus, HsStr, HsType, HsValue, HsVersion,
};

use crate::plugin::LinkedPlugin;
use crate::vm::{Value, assemble, verify};
use crate::{ReloadOptions, SlotError, SlotTable};

/// The descriptor of a linked plugin's function, at version `1.minor.0`.
const fn function(
    name: &'static str,
    params: &'static [HsType],
    ret: HsType,
    minor: u32,
    call: hotslot_plugin_api::HsEntry,
) -> HsFunctionDescriptor {
    HsFunctionDescriptor {
        struct_size: size_of::<HsFunctionDescriptor>() as u32,
        name: HsStr::from_str(name),
        params: params.as_ptr(),
        param_count: params.len(),
        ret,
        version: HsVersion::new(1, minor, 0),
        call: Some(call),
    }
}

/// The exports of a linked plugin `$name` at version `1.$minor.0` with
/// `$functions` (statics) and state hooks: its descriptor, `get_version`
/// and `PLUGIN_EXPORTS`.
macro_rules! linked_exports {
    ($name:literal, $minor:expr, [$($function:ident),*], $state:expr, $save:expr, $load:expr) => {
        static FUNCTIONS: &[&HsFunctionDescriptor] = &[$(&$function),*];
        static PLUGIN: HsPluginDescriptor = HsPluginDescriptor {
            magic: HS_MAGIC,
            abi_major: HS_ABI_MAJOR,
            abi_minor: HS_ABI_MINOR,
            struct_size: size_of::<HsPluginDescriptor>() as u32,
            name: HsStr::from_str($name),
            version: HsVersion::new(1, $minor, 0),
            functions: FUNCTIONS.as_ptr().cast(),
            function_count: FUNCTIONS.len(),
            state_version: $state,
            save_state: $save,
            load_state: $load,
        };

        unsafe extern "C" fn descriptor() -> *const HsPluginDescriptor {
            &PLUGIN
        }

        unsafe extern "C" fn get_version() -> i32 {
            1
        }

        pub(super) const PLUGIN_EXPORTS: LinkedPlugin =
            // SAFETY: the exports above keep the ABI's promises; all of it
            // is static.
            unsafe { LinkedPlugin::new(descriptor, get_version, None) };
    };
}

/// Declares a linked plugin `ops` whose function `op (i32, i32) -> i32`
/// computes `$op`, at version `1.$minor.0`, with state hooks when given.
macro_rules! linked_ops {
    ($module:ident, $minor:literal, |$a:ident, $b:ident| $op:expr) => {
        linked_ops!($module, $minor, i32, I32, |$a, $b| $op, None, None);
    };
    ($module:ident, $minor:literal, |$a:ident, $b:ident| $op:expr, $save:expr, $load:expr) => {
        linked_ops!($module, $minor, i32, I32, |$a, $b| $op, $save, $load);
    };
    (
        $module:ident, $minor:literal, $field:ident, $tag:ident,
        |$a:ident, $b:ident| $op:expr, $save:expr, $load:expr
    ) => {
        mod $module {
            use super::*;

            unsafe extern "C" fn op(
                _: *mut HsCallCtx,
                args: *const HsValue,
                _: usize,
                ret: *mut HsValue,
            ) -> HsStatus {
                // SAFETY: the host passes the two i32 arguments the
                // descriptor declares and a writable result.
                unsafe {
                    let ($a, $b) = ((*args).$field, (*args.add(1)).$field);
                    (*ret).$field = $op;
                }
                HsStatus::OK
            }

            static FUNCTION: HsFunctionDescriptor = function(
                "op",
                &[HsType::$tag, HsType::$tag],
                HsType::$tag,
                $minor,
                op,
            );
            linked_exports!("ops", $minor, [FUNCTION], 1, $save, $load);
        }
    };
}

linked_ops!(add, 0, |a, b| a.wrapping_add(b));
linked_ops!(mul, 1, |a, b| a.wrapping_mul(b));
linked_ops!(
    huge_state,
    2,
    |a, b| a.wrapping_sub(b),
    Some(save_huge),
    Some(load_any)
);

/// A 4-byte buffer passed as 2^40 bytes of state: the host must not read it.
static FOUR: [u8; 4] = *b"abcd";

unsafe extern "C" fn save_huge(ctx: *mut HsCallCtx) -> HsStatus {
    // SAFETY: the host passes its context; the view is a broken plugin's
    // lie, which the host must refuse without reading.
    unsafe {
        ((*ctx).return_bytes)(
            ctx,
            hotslot_plugin_api::HsBytes {
                ptr: FOUR.as_ptr(),
                len: 1 << 40,
            },
        )
    };
    HsStatus::OK
}

unsafe extern "C" fn load_any(
    _: *mut HsCallCtx,
    _: u32,
    _: hotslot_plugin_api::HsBytes,
) -> HsStatus {
    HsStatus::OK
}

const CALL_OP: &str = ".import 0 op (i32, i32) -> i32\nPUSH 6\nPUSH 7\nCALL_NATIVE 0\nHALT";

/// Fewer rounds under Miri, which interprets every instruction.
const ROUNDS: usize = if cfg!(miri) { 4 } else { 300 };

/// A table that binds only the plugins linked into this test binary.
fn table() -> SlotTable {
    // SAFETY: no library file is loaded: only the linked plugins above,
    // vouched for by `LinkedPlugin::new`.
    unsafe { SlotTable::new() }.unwrap()
}

fn program() -> Arc<crate::vm::VerifiedProgram> {
    Arc::new(verify(assemble(CALL_OP).unwrap()).unwrap())
}

fn rebind(table: &SlotTable, plugin: &LinkedPlugin) {
    let options = ReloadOptions {
        allow_downgrade: true,
        ..ReloadOptions::default()
    };
    table.bind_linked(plugin, &[(0, None)], &options).unwrap();
}

#[test]
fn a_linked_plugin_binds_reloads_and_rolls_back_with_the_usual_checks() {
    let table = table();
    let mut vm = table.vm(program()).unwrap();
    let report = table
        .bind_linked(
            &add::PLUGIN_EXPORTS,
            &[(0, None)],
            &ReloadOptions::default(),
        )
        .unwrap();
    assert_eq!(report.library.to_str(), Some("linked:ops"));
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(13)]);

    table
        .bind_linked(
            &mul::PLUGIN_EXPORTS,
            &[(0, None)],
            &ReloadOptions::default(),
        )
        .unwrap();
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(42)]);

    // Back to 1.0.0 only when asked: the usual downgrade check.
    let e = table
        .bind_linked(
            &add::PLUGIN_EXPORTS,
            &[(0, None)],
            &ReloadOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(e, SlotError::Downgrade { .. }), "{e}");
    table.rollback("linked:ops").unwrap();
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(13)]);
    // A reload of a linked plugin loads the same build again.
    table.reload("linked:ops").unwrap();
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(13)]);
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(table.pending_releases().is_empty());
}

#[test]
fn vms_on_several_threads_call_through_rebinds_and_reclaims() {
    let table = table();
    let program = program();
    table.declare_program(program.program()).unwrap();
    rebind(&table, &add::PLUGIN_EXPORTS);

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let vms: Vec<_> = (0..2)
        .map(|_| {
            let mut vm = table.vm(Arc::clone(&program)).unwrap();
            let calls = Arc::clone(&calls);
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    vm.run().unwrap();
                    match vm.stack().as_slice() {
                        [Value::I32(13 | 42)] => {}
                        other => panic!("a call returned {other:?}"),
                    }
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let reclaimer = {
        let (table, stop) = (table.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                table.reclaim();
                std::thread::yield_now();
            }
        })
    };
    for i in 0..ROUNDS {
        rebind(
            &table,
            if i % 2 == 0 {
                &mul::PLUGIN_EXPORTS
            } else {
                &add::PLUGIN_EXPORTS
            },
        );
    }
    for vm in vms {
        vm.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    reclaimer.join().unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 2 * ROUNDS as u64);
    assert!(table.wait_released(Duration::from_secs(60)));
    assert!(table.pending_releases().is_empty());
}

#[test]
fn a_state_of_absurd_length_is_refused_unread_and_the_new_build_starts_fresh() {
    let table = table();
    let mut vm = table.vm(program()).unwrap();
    rebind(&table, &huge_state::PLUGIN_EXPORTS);
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(-1)]);
    let report = table
        .bind_linked(
            &huge_state::PLUGIN_EXPORTS,
            &[(0, None)],
            &ReloadOptions::default(),
        )
        .unwrap();
    assert_eq!(
        report.state,
        Some(crate::StateTransfer::SaveFailed {
            message: "the plugin passed a view of 1099511627776 bytes (the host accepts at most 268435456)".into()
        })
    );
}

/// A linked plugin `texts`: `greet (str, bool) -> str` says hello (loudly
/// when asked), `boom () -> i32` panics (as the `plugin!` macro reports a
/// caught panic), `fail () -> i64` returns an error.
mod texts {
    use super::*;

    unsafe extern "C" fn greet(
        ctx: *mut HsCallCtx,
        args: *const HsValue,
        _: usize,
        _: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: the host passes a string view and a boolean, valid for
        // the call, and its context.
        unsafe {
            let name = (*args).str.to_str().unwrap_or("?");
            let loud = *args.add(1).cast::<u8>() != 0;
            let text = format!("hello, {name}{}", if loud { "!" } else { "" });
            ((*ctx).return_str)(ctx, HsStr::from_str(&text));
        }
        HsStatus::OK
    }

    unsafe extern "C" fn boom(
        ctx: *mut HsCallCtx,
        _: *const HsValue,
        _: usize,
        _: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: the host passes its context.
        unsafe { ((*ctx).set_error)(ctx, HsStr::from_str("boom #7")) };
        HsStatus::PANIC
    }

    unsafe extern "C" fn fail(
        ctx: *mut HsCallCtx,
        _: *const HsValue,
        _: usize,
        _: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: the host passes its context.
        unsafe { ((*ctx).set_error)(ctx, HsStr::from_str("no luck")) };
        HsStatus::ERROR
    }

    static GREET: HsFunctionDescriptor =
        function("greet", &[HsType::STR, HsType::BOOL], HsType::STR, 0, greet);
    static BOOM: HsFunctionDescriptor = function("boom", &[], HsType::I32, 0, boom);
    static FAIL: HsFunctionDescriptor = function("fail", &[], HsType::I64, 0, fail);
    linked_exports!("texts", 0, [GREET, BOOM, FAIL], 0, None, None);
}

linked_ops!(wide, 3, i64, I64, |a, b| a.wrapping_add(b), None, None);

fn bind_whole(table: &SlotTable, plugin: &LinkedPlugin) {
    let options = ReloadOptions {
        allow_downgrade: true,
        ..ReloadOptions::default()
    };
    table.bind_linked_library(plugin, &options).unwrap();
}

#[test]
fn a_typed_handle_calls_follows_reloads_and_is_checked_at_each() {
    let table = table();
    bind_whole(&table, &add::PLUGIN_EXPORTS);
    let op = table.function::<(i32, i32), i32>("op").unwrap();
    assert_eq!(op.call((6, 7)), Ok(13));
    assert_eq!(op.call((6, 7)), Ok(13));
    bind_whole(&table, &mul::PLUGIN_EXPORTS);
    assert_eq!(op.call((6, 7)), Ok(42), "the next call runs the new build");

    // The handle's signature is checked at creation ...
    let e = table.function::<(i64, i64), i64>("op").unwrap_err();
    assert_eq!(
        e.to_string(),
        "typed handle 1: signature mismatch for `op`: expected (i64, i64) -> i64, found (i32, i32) -> i32"
    );
    let e = table.function::<i32, i32>("nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "no bound library exports `nope` (bound: `linked:ops`)"
    );
    // ... and at every reload: a build that changes it is refused, and
    // the handle goes on with the build it has.
    let e = table
        .bind_linked_library(
            &wide::PLUGIN_EXPORTS,
            &ReloadOptions {
                allow_downgrade: true,
                ..ReloadOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, SlotError::Signature { .. }), "{e}");
    assert_eq!(op.call((6, 7)), Ok(42), "the refused build does not serve");
    // A requirement the function does not meet.
    let e = table
        .function_with::<(i32, i32), i32>(
            "op",
            &crate::FunctionOptions {
                requirement: Some("^2".parse().unwrap()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "typed handle 1: `op` 1.1.0 does not satisfy ^2 (the import's requirement)"
    );
    // A clone is another handle to the same function.
    let clone = op.clone();
    drop(op);
    assert_eq!(clone.call((2, 3)), Ok(6));
    drop(clone);
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(table.pending_releases().is_empty());
}

#[test]
fn a_typed_handle_passes_strings_both_ways_and_types_every_failure() {
    let table = table();
    bind_whole(&table, &texts::PLUGIN_EXPORTS);
    let greet = table.function::<(String, bool), String>("greet").unwrap();
    assert_eq!(greet.call(("you", false)), Ok("hello, you".to_owned()));
    let name = String::from("world");
    assert_eq!(greet.call((&name, true)), Ok("hello, world!".to_owned()));

    let boom = table.function::<(), i32>("boom").unwrap();
    let e = boom.call(()).unwrap_err();
    assert_eq!(
        e,
        crate::CallError::Panic {
            function: "boom".into(),
            message: "boom #7".into()
        }
    );
    assert_eq!(e.to_string(), "plugin panicked in `boom`: boom #7");
    let fail = table.function::<(), i64>("fail").unwrap();
    assert_eq!(
        fail.call(()).unwrap_err().to_string(),
        "`fail` returned an error: no luck"
    );
    assert_eq!(boom.call(()), Err(e), "the handle stays usable");
}

#[test]
fn typed_handles_on_several_threads_call_through_rebinds() {
    let table = table();
    bind_whole(&table, &add::PLUGIN_EXPORTS);
    let op = table.function::<(i32, i32), i32>("op").unwrap();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let op = op.clone();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let r = op.call((6, 7)).unwrap();
                    assert!(r == 13 || r == 42, "a call returned {r}");
                }
            })
        })
        .collect();
    for i in 0..ROUNDS {
        bind_whole(
            &table,
            if i % 2 == 0 {
                &mul::PLUGIN_EXPORTS
            } else {
                &add::PLUGIN_EXPORTS
            },
        );
    }
    for c in callers {
        c.join().unwrap();
    }
    drop(op);
    assert!(table.wait_released(Duration::from_secs(60)));
    assert!(table.pending_releases().is_empty());
}

/// A linked plugin `countdown`, `count (i32) -> str`, at version
/// `1.$minor.0`, whose function calls itself through a typed handle (a
/// host function would, in a real plugin): `count(3)` is `"3 2 1 0"`, with
/// `$sep` between the numbers. Before each step it runs the test's hook.
macro_rules! countdown {
    ($module:ident, $minor:literal, $sep:literal) => {
        mod $module {
            use super::*;

            unsafe extern "C" fn count(
                ctx: *mut HsCallCtx,
                args: *const HsValue,
                _: usize,
                _: *mut HsValue,
            ) -> HsStatus {
                // SAFETY: the host passes one i32 and its context.
                let n = unsafe { (*args).i32 };
                let set_error = |message: &str| {
                    // SAFETY: the view is valid for the callback.
                    unsafe { ((*ctx).set_error)(ctx, HsStr::from_str(message)) }
                };
                // A failing step says so first, then still counts down.
                let failed = countdown::HOOK
                    .with(|h| h.borrow().as_ref().map_or(Ok(()), |f| f(n)))
                    .map_err(|e| set_error(&e))
                    .is_err();
                let text = if n == 0 {
                    Ok("0".to_owned())
                } else {
                    countdown::SELF
                        .with(|s| s.borrow().as_ref().unwrap().call(n - 1))
                        .map(|rest| format!("{n}{}{rest}", $sep))
                };
                match &text {
                    Err(e) => set_error(&e.to_string()),
                    Ok(_) if failed => {}
                    // SAFETY: the view is valid for the callback.
                    Ok(text) => unsafe { ((*ctx).return_str)(ctx, HsStr::from_str(text)) },
                }
                if failed || text.is_err() {
                    return HsStatus::ERROR;
                }
                HsStatus::OK
            }

            static FUNCTION: HsFunctionDescriptor =
                function("count", &[HsType::I32], HsType::STR, $minor, count);
            linked_exports!("countdown", $minor, [FUNCTION], 0, None, None);
        }
    };
}

mod countdown {
    use std::cell::RefCell;

    use crate::TypedFunc;

    pub(super) type Hook = Box<dyn Fn(i32) -> Result<(), String>>;

    thread_local! {
        /// The handle the function calls itself through.
        pub(super) static SELF: RefCell<Option<TypedFunc<i32, String>>> =
            const { RefCell::new(None) };
        /// What the test does at each step, given the step's number; an
        /// error fails the step (its message set before the steps below
        /// run).
        pub(super) static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }
}

thread_local! {
    static SWAPPED_PENDING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

countdown!(spaced, 0, " ");
countdown!(dashed, 1, "-");

#[test]
fn a_handle_called_from_within_its_own_call_shares_the_build_and_has_its_own_context() {
    let table = table();
    bind_whole(&table, &spaced::PLUGIN_EXPORTS);
    let handle = table.function::<i32, String>("count").unwrap();
    countdown::SELF.with(|s| *s.borrow_mut() = Some(handle));
    // Every level, the first included, calls through the one handle.
    let count = |n: i32| countdown::SELF.with(|s| s.borrow().as_ref().unwrap().call(n));
    assert_eq!(count(3).as_deref(), Ok("3 2 1 0"));

    // Midway through a call, a new build is bound and the old one's
    // snapshot reclaimed: the steps still to come are nested in the call
    // in flight, which finishes on its build, strings intact; the build
    // is released once the call returns, and the next call runs the new
    // one.
    let swapper = table.clone();
    countdown::HOOK.with(|h| {
        *h.borrow_mut() = Some(Box::new(move |n| {
            if n == 2 {
                bind_whole(&swapper, &dashed::PLUGIN_EXPORTS);
                swapper.reclaim();
                SWAPPED_PENDING.with(|p| p.set(swapper.pending_releases().len()));
            }
            Ok(())
        }));
    });
    assert_eq!(count(4).as_deref(), Ok("4 3 2 1 0"));
    countdown::HOOK.with(|h| *h.borrow_mut() = None);
    assert_eq!(
        SWAPPED_PENDING.with(std::cell::Cell::get),
        1,
        "the old build was held by the call in flight"
    );
    assert!(table.wait_released(Duration::from_secs(10)));
    assert!(table.pending_releases().is_empty());
    assert_eq!(count(4).as_deref(), Ok("4-3-2-1-0"));

    // An error comes back up typed, through every level; a message set
    // before the calls nested in it survives them (each level has its own
    // context).
    countdown::HOOK.with(|h| {
        *h.borrow_mut() = Some(Box::new(|n| {
            if n == 2 {
                Err("stopped at 2".into())
            } else {
                Ok(())
            }
        }));
    });
    let e = count(3).unwrap_err();
    countdown::HOOK.with(|h| *h.borrow_mut() = None);
    assert_eq!(
        e.to_string(),
        "`count` returned an error: `count` returned an error: stopped at 2"
    );
    assert_eq!(count(1).as_deref(), Ok("1-0"), "the handle stays usable");
    countdown::SELF.with(|s| *s.borrow_mut() = None);
}

/// A linked plugin `points` of ABI 1.1: `shift (&mut [Point], i32) -> void`
/// moves every point right by its second argument, in the caller's memory;
/// `sum (&[Point]) -> i64` adds their coordinates.
mod points {
    use hotslot_plugin_api::{HsFunctionTypes, HsPluginExt, HsStructLayout};

    use super::*;

    #[repr(C)]
    #[derive(abi_stable::StableAbi, Clone, Copy, Debug, PartialEq)]
    pub(super) struct Point {
        pub(super) x: i32,
        pub(super) y: i32,
    }

    hotslot_plugin_api::hs_struct!(Point);

    /// The points a `&[Point]` parameter passes, read only.
    ///
    /// # Safety
    ///
    /// `v` holds the view of `len` points, valid for the call.
    unsafe fn points<'a>(v: &HsValue) -> &'a [Point] {
        // SAFETY: the caller guarantees the view.
        unsafe {
            let view = v.str;
            if view.len == 0 {
                return &[];
            }
            std::slice::from_raw_parts(view.ptr.cast::<Point>(), view.len)
        }
    }

    /// The points a `&mut [Point]` parameter passes.
    ///
    /// # Safety
    ///
    /// `v` holds the view of `len` points the host lent mutably for the
    /// call, and nothing else refers to them during it.
    unsafe fn points_mut<'a>(v: &HsValue) -> &'a mut [Point] {
        // SAFETY: the caller guarantees the view and that the host
        // passed a mutable slice.
        unsafe {
            let view = v.str;
            if view.len == 0 {
                return &mut [];
            }
            std::slice::from_raw_parts_mut(view.ptr.cast::<Point>().cast_mut(), view.len)
        }
    }

    unsafe extern "C" fn shift(
        _: *mut HsCallCtx,
        args: *const HsValue,
        _: usize,
        _: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: the host passes `&mut [Point]` and an i32.
        unsafe {
            let by = (*args.add(1)).i32;
            for p in points_mut(&*args) {
                p.x += by;
            }
        }
        HsStatus::OK
    }

    unsafe extern "C" fn sum(
        _: *mut HsCallCtx,
        args: *const HsValue,
        _: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: the host passes `&[Point]` (read only here) and a
        // writable result.
        unsafe {
            let total: i64 = points(&*args)
                .iter()
                .map(|p| i64::from(p.x) + i64::from(p.y))
                .sum();
            (*ret).i64 = total;
        }
        HsStatus::OK
    }

    static SHIFT: HsFunctionDescriptor = function(
        "shift",
        &[HsType::SLICE_MUT, HsType::I32],
        HsType::VOID,
        0,
        shift,
    );
    static SUM: HsFunctionDescriptor = function("sum", &[HsType::SLICE], HsType::I64, 0, sum);
    linked_exports!("points", 0, [SHIFT, SUM], 0, None, None);

    struct Pointers<const N: usize>([*const HsStructLayout; N]);
    // SAFETY: pointers to immutable statics.
    unsafe impl<const N: usize> Sync for Pointers<N> {}
    static POINT: HsStructLayout = hotslot_plugin_api::author::StructRecord::<Point>::LAYOUT;
    static SHIFT_TYPES: Pointers<2> = Pointers([&POINT, std::ptr::null()]);
    static SUM_TYPES: Pointers<1> = Pointers([&POINT]);
    static TYPES: [HsFunctionTypes; 2] = [
        HsFunctionTypes {
            struct_size: size_of::<HsFunctionTypes>() as u32,
            function: HsStr::from_str("shift"),
            params: SHIFT_TYPES.0.as_ptr(),
            param_count: 2,
        },
        HsFunctionTypes {
            struct_size: size_of::<HsFunctionTypes>() as u32,
            function: HsStr::from_str("sum"),
            params: SUM_TYPES.0.as_ptr(),
            param_count: 1,
        },
    ];
    struct Entries([*const HsFunctionTypes; 2]);
    // SAFETY: pointers to immutable statics.
    unsafe impl Sync for Entries {}
    static ENTRIES: Entries = Entries([&TYPES[0], &TYPES[1]]);
    static EXT: HsPluginExt = HsPluginExt {
        struct_size: size_of::<HsPluginExt>() as u32,
        functions: ENTRIES.0.as_ptr(),
        function_count: 2,
        host: std::ptr::null(),
    };

    unsafe extern "C" fn ext() -> *const HsPluginExt {
        &EXT
    }

    pub(super) const WITH_EXT: LinkedPlugin =
        // SAFETY: the extension above describes `shift` and `sum` as they
        // are, and all of it is static.
        unsafe { PLUGIN_EXPORTS.with_ext(ext) };
}

#[test]
fn a_typed_handle_passes_the_callers_structs_in_place() {
    use crate::typed::{Slice, SliceMut};
    use points::Point;
    let table = table();
    bind_whole(&table, &points::WITH_EXT);
    let shift = table
        .function::<(SliceMut<Point>, i32), ()>("shift")
        .unwrap();
    let sum = table.function::<Slice<Point>, i64>("sum").unwrap();
    let mut ps = vec![Point { x: 1, y: 2 }, Point { x: -5, y: 7 }];
    shift.call((&mut ps[..], 10)).unwrap();
    assert_eq!(ps, [Point { x: 11, y: 2 }, Point { x: 5, y: 7 }]);
    assert_eq!(sum.call(&ps[..]), Ok(25));
    assert_eq!(sum.call(&[][..]), Ok(0));
    // The signature names the type.
    let e = table
        .function::<(SliceMut<Point>, i64), ()>("shift")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "typed handle 2: signature mismatch for `shift`: expected (&mut [Point], i64) -> void, found (&mut [Point], i32) -> void"
    );
}

#[test]
fn a_nested_session_calling_a_slot_declared_after_it_began_finds_it_unbound() {
    use crate::vm::{NativeCalls, Natives};
    let table = table();
    let reader = table.reader();
    let call = |calls: &mut crate::SlotCalls<'_>| {
        let args = [HsValue { i32: 20 }, HsValue { i32: 22 }];
        let mut ret = HsValue { i64: 0 };
        // SAFETY: two i32 arguments, as slot 3000 declares; the linked
        // function reads no context; `ret` is writable.
        let status =
            unsafe { calls.call(3000, std::ptr::null_mut(), args.as_ptr(), 2, &raw mut ret) };
        // SAFETY: the union was made whole (zeroed), so its `i32` is
        // defined whatever the call wrote; an OK call wrote its result there.
        let value = unsafe { ret.i32 };
        (status, (status == HsStatus::OK).then_some(value))
    };
    let outer = reader.enter();
    // Declared and bound after the outer session took its snapshot, which
    // has no cell for it.
    let program = assemble(".import 3000 op (i32, i32) -> i32\nHALT").unwrap();
    reader.link(&program).unwrap();
    table
        .bind_linked(
            &add::PLUGIN_EXPORTS,
            &[(3000, None)],
            &ReloadOptions::default(),
        )
        .unwrap();
    {
        let mut inner = reader.enter();
        assert_eq!(call(&mut inner), (HsStatus(-1), None), "unbound in it");
        assert_eq!(inner.failed_function(3000), None);
    }
    drop(outer);
    // A session begun now holds the newer snapshot.
    let mut calls = reader.enter();
    assert_eq!(call(&mut calls), (HsStatus::OK, Some(42)));
}

/// Runs the test `name` alone in a new process of this test binary, and
/// fails if it fails there: `true` in that process, where the test's body
/// runs, `false` here.
#[cfg(all(target_os = "linux", not(miri)))]
fn in_own_process(name: &str) -> bool {
    const VAR: &str = "HOTSLOT_UNIT_TEST_IN_OWN_PROCESS";
    if std::env::var_os(VAR).is_some_and(|v| v == name) {
        return true;
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--test-threads=1", "--nocapture"])
        .env(VAR, name)
        .status()
        .unwrap();
    assert!(status.success(), "`{name}` failed in its own process");
    false
}

/// Installs a seccomp filter that fails every `membarrier` system call of
/// this process with `EPERM`, as a sandbox installed after start-up would.
#[cfg(all(target_os = "linux", not(miri)))]
fn refuse_membarrier() {
    use libc::{
        BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W, SECCOMP_RET_ALLOW,
        SECCOMP_RET_ERRNO, sock_filter, sock_fprog,
    };
    let op = |code: u32, jt: u8, jf: u8, k: u32| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let filter = [
        // The system call's number: the first word of `seccomp_data`.
        op(BPF_LD | BPF_W | BPF_ABS, 0, 0, 0),
        op(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, libc::SYS_membarrier as u32),
        op(
            BPF_RET | BPF_K,
            0,
            0,
            SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
        op(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW),
    ];
    let program = sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prctl` with its documented arguments; no pointer involved.
    let ok = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    assert_eq!(ok, 0, "{}", std::io::Error::last_os_error());
    // SAFETY: a valid filter program that lives for the call (the kernel
    // copies it); it affects only this test's own process. Every thread of
    // it (`TSYNC`): the table's reclaimer thread, started before, must be
    // refused too, or it frees what the test expects kept.
    let ok = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            libc::SECCOMP_FILTER_FLAG_TSYNC,
            &raw const program,
        )
    };
    assert_eq!(ok, 0, "{}", std::io::Error::last_os_error());
}

/// A system that refuses the release protocol's heavy barrier after
/// start-up (a seccomp filter): the readers' side cannot change under them,
/// so nothing replaced is freed (it would be freed on proof only), and
/// every call goes on, on the build serving.
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn a_refused_membarrier_frees_nothing_and_calls_go_on() {
    if !in_own_process("slots::tests::a_refused_membarrier_frees_nothing_and_calls_go_on") {
        return;
    }
    let table = table();
    let mut vm = table.vm(program()).unwrap();
    rebind(&table, &add::PLUGIN_EXPORTS);
    vm.run().unwrap();
    assert_eq!(vm.stack(), [Value::I32(13)]);
    rebind(&table, &mul::PLUGIN_EXPORTS);
    assert_eq!(table.reclaim(), 0, "released while the barrier works");
    assert_eq!(
        crate::sync::mode(),
        crate::sync::Mode::Expedited,
        "this system gives the asymmetric barrier (Linux 4.14 or later)"
    );

    refuse_membarrier();
    for round in 0..3 {
        rebind(
            &table,
            if round % 2 == 0 {
                &add::PLUGIN_EXPORTS
            } else {
                &mul::PLUGIN_EXPORTS
            },
        );
        vm.run().unwrap();
        let expected = if round % 2 == 0 { 13 } else { 42 };
        assert_eq!(vm.stack(), [Value::I32(expected)]);
        // No reader is online, yet nothing can be shown unheld.
        assert_eq!(table.reclaim(), round + 1, "nothing freed");
    }
    assert_eq!(
        table.pending_releases().len(),
        3,
        "each build replaced since waits"
    );
}
