//! The decoder and the verifier on any bytes, and the VM on every program
//! they accept: decoding and verification never panic, and a verified
//! program runs (with bounded fuel, against natives that answer any
//! signature) without touching memory it should not. Built with
//! AddressSanitizer, a verifier that lets an unsound program through shows
//! up here as an out-of-bounds access in the dispatch loop.
#![no_main]

use std::sync::Arc;

use hotslot::vm::{NativeCalls, Natives, Program, Vm, VmOptions, decode, encode, verify};
use hotslot::LinkError;
use hotslot_plugin_api::{HsCallCtx, HsStatus, HsStr, HsValue};
use libfuzzer_sys::fuzz_target;

/// Serves every slot: strings come back empty, everything else zero.
struct AnyNatives {
    returns_str: Vec<bool>,
}

// SAFETY: every call is served by `NativeCalls for &AnyNatives`, which
// answers any signature.
unsafe impl Natives for AnyNatives {
    type Calls<'a> = &'a AnyNatives;

    fn link(&self, _: &Program) -> Result<(), LinkError> {
        Ok(())
    }

    fn enter(&self) -> &AnyNatives {
        self
    }
}

// SAFETY: `call` writes a zero value, valid for every scalar type and the
// empty string, or passes the string "s" through `return_str` for slots
// whose import returns `str`.
unsafe impl NativeCalls for &AnyNatives {
    unsafe fn call(
        &mut self,
        slot: u32,
        ctx: *mut HsCallCtx,
        _: *const HsValue,
        _: usize,
        ret: *mut HsValue,
    ) -> HsStatus {
        // SAFETY: the VM passes a writable result slot and its context.
        unsafe {
            ret.write(HsValue::ZERO);
            if self.returns_str.get(slot as usize).copied().unwrap_or(false) {
                ((*ctx).return_str)(ctx, HsStr::from_str("s"));
            }
        }
        HsStatus::OK
    }

    fn failed_function(&self, _: u32) -> Option<String> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(program) = decode(data) else { return };
    assert_eq!(decode(&encode(&program)).as_ref(), Ok(&program), "bytecode round trip");
    let mut returns_str = Vec::new();
    for i in &program.imports {
        let slot = i.slot as usize;
        if slot < 4096 {
            if returns_str.len() <= slot {
                returns_str.resize(slot + 1, false);
            }
            returns_str[slot] = i.signature.ret == Some(hotslot::ValType::Str);
        }
    }
    if program.imports.iter().any(|i| i.slot >= 4096) {
        return;
    }
    let Ok(verified) = verify(program) else { return };
    let options = VmOptions {
        stack_capacity: 4096,
        max_call_depth: 64,
        gc_threshold: 256,
        ..VmOptions::default()
    };
    let Ok(mut vm) = Vm::with_options(Arc::new(verified), AnyNatives { returns_str }, options) else {
        return;
    };
    vm.set_output(std::io::sink());
    let _ = vm.resume(Some(200));
    let _ = vm.state();
});
