//! Entry points for hotslot's own fuzz targets and tests: not part of the
//! API, with no promise of stability.

/// A hostile worker's reply: `before` sets fields of a channel region
/// (each `(field, value)`: the field by its number among the region's
/// scalar fields, modulo their count), `bytes` writes into the reply area
/// (at an offset modulo its size), then the host reads the reply to call
/// `call` while another thread applies `during` in a loop. Returns the
/// length of the reply bytes the host copied, or `None` when it refused
/// the reply; panics if the host read more than the reply area.
#[cfg(target_os = "linux")]
pub fn hostile_channel(
    call: u32,
    before: &[(u8, u64)],
    bytes: &[(u16, Vec<u8>)],
    during: &[(u8, u64)],
) -> Option<usize> {
    crate::isolate::channel::hostile(call, before, bytes, during)
}

/// Reads a worker's description of its build from arbitrary bytes: `Err`
/// with the reason, or the number of functions described.
#[cfg(target_os = "linux")]
pub fn read_description(bytes: &[u8]) -> Result<usize, String> {
    crate::isolate::describe::read_any(bytes)
}

pub use crate::plugin::copy::{PrivateCopy, default_copy_dir};
pub use crate::plugin::descriptor::read_descriptor;
pub use crate::plugin::image::check as check_elf;
pub use crate::types::is_identifier;

/// The assembly language reference's table of instructions, generated
/// from the instruction set's one table.
pub fn assembly_reference() -> String {
    crate::vm::isa_reference()
}

/// How many compiled programs (a VM's program, a script module's build)
/// hold native code in this process: a released build's code is freed.
#[cfg(feature = "jit")]
pub fn compiled_programs_alive() -> usize {
    crate::vm::compiled_alive()
}

/// Waits until every script module build loaded so far is compiled (or
/// was released before its turn): the compiling thread is idle.
#[cfg(feature = "jit")]
pub fn wait_for_compiles() {
    crate::vm::wait_for_compiles()
}

mod differential;
mod generate;

pub use differential::{DIFFERENTIAL_IMPORTS, Outcome, compare_engines, run_engine};
pub use generate::program_from_bytes;
