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

/// Declares a linked plugin `ops` whose function `op (i32, i32) -> i32`
/// computes `$op`, at version `1.$minor.0`, with state hooks when given.
macro_rules! linked_ops {
    ($module:ident, $minor:literal, |$a:ident, $b:ident| $op:expr) => {
        linked_ops!($module, $minor, |$a, $b| $op, None, None);
    };
    ($module:ident, $minor:literal, |$a:ident, $b:ident| $op:expr, $save:expr, $load:expr) => {
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
                    let ($a, $b) = ((*args).i32, (*args.add(1)).i32);
                    (*ret).i32 = $op;
                }
                HsStatus::OK
            }

            static PARAMS: [HsType; 2] = [HsType::I32, HsType::I32];
            static FUNCTION: HsFunctionDescriptor = HsFunctionDescriptor {
                struct_size: size_of::<HsFunctionDescriptor>() as u32,
                name: HsStr::from_str("op"),
                params: PARAMS.as_ptr(),
                param_count: 2,
                ret: HsType::I32,
                version: HsVersion::new(1, $minor, 0),
                call: Some(op),
            };
            static FUNCTIONS: [&HsFunctionDescriptor; 1] = [&FUNCTION];
            static PLUGIN: HsPluginDescriptor = HsPluginDescriptor {
                magic: HS_MAGIC,
                abi_major: HS_ABI_MAJOR,
                abi_minor: HS_ABI_MINOR,
                struct_size: size_of::<HsPluginDescriptor>() as u32,
                name: HsStr::from_str("ops"),
                version: HsVersion::new(1, $minor, 0),
                functions: FUNCTIONS.as_ptr().cast(),
                function_count: 1,
                state_version: 1,
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
                // SAFETY: the exports above keep the ABI's promises; all of
                // it is static.
                unsafe { LinkedPlugin::new(descriptor, get_version, None) };
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
