//! The isolation channel from the host's side, against a hostile worker:
//! the fuzz input sets any of the region's fields to any value, writes any
//! bytes into its reply area, and keeps rewriting fields from another
//! thread while the host reads the reply. The host refuses a reply to
//! another call with a typed error, never reads past the reply area, never
//! allocates more than it, and never panics. The worker's description of
//! its build, arbitrary bytes here, is refused or read, never a panic.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    call: u32,
    before: Vec<(u8, u64)>,
    bytes: Vec<(u16, Vec<u8>)>,
    during: Vec<(u8, u64)>,
    description: Vec<u8>,
}

fuzz_target!(|input: Input| {
    // The reply area is 64 KiB: never more is copied.
    if let Some(len) =
        hotslot::testing::hostile_channel(input.call, &input.before, &input.bytes, &input.during)
    {
        assert!(len <= 64 * 1024);
    }
    let _ = hotslot::testing::read_description(&input.description);
});
