//! The compiled engine against the interpreter: the fuzzer's bytes choose a
//! well-typed program (`hotslot::testing::program_from_bytes`: loops,
//! branches, recursion, integer and float edges, strings, native calls
//! that fail or return strings, `HALT` anywhere) and how much fuel it runs
//! with; the program must verify, and both engines must show the same
//! status or fault, the same output, and the same state of every frame,
//! when it pauses and after it goes on.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&fuel, program)) = data.split_first() else {
        return;
    };
    let text = hotslot::testing::program_from_bytes(program);
    let fuel = if fuel == 0 { u64::MAX } else { u64::from(fuel) };
    match hotslot::testing::compare_engines(&text, fuel) {
        Ok(true) => {}
        Ok(false) => panic!("the generator wrote a program that does not verify:\n{text}"),
        Err(e) => panic!("{e}"),
    }
});
