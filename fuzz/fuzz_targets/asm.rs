//! The assembler on any text: it returns a program or an error, never
//! panics; every program it returns disassembles to text that assembles to
//! the same program, and verification of it never panics.
#![no_main]

use hotslot::vm::{assemble, disassemble, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(program) = assemble(text) else { return };
    let again = disassemble(&program);
    let reassembled = assemble(&again)
        .unwrap_or_else(|e| panic!("the disassembly does not assemble: {e}\n{again}"));
    assert_eq!(reassembled, program, "the round trip changed the program:\n{again}");
    let _ = verify(program);
});
