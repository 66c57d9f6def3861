//! The ELF structure check made before `dlopen`, on any bytes and any
//! claimed file length: it answers, never panics (no arithmetic on header
//! fields may overflow), and what it accepts as a whole file has every table
//! it names inside the file.
#![no_main]

use hotslot::testing::check_elf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u64, &[u8])| {
    let (claimed, bytes) = input;
    let _ = check_elf(bytes, claimed);
    let _ = check_elf(bytes, bytes.len() as u64);
});
