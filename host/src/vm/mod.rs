//! The bytecode VM: programs, the assembler and disassembler, the binary
//! form, the verifier, and the dispatch loop.

mod asm;
mod bytecode;
mod call;
pub(crate) mod ctx;
mod disasm;
mod error;
mod exec;
mod isa;
#[cfg(feature = "jit")]
mod jit;
mod lex;
mod lower;
mod machine;
mod natives;
mod program;
mod run;
mod stack;
mod state;
mod value;
mod verify;

pub use asm::assemble;
pub(crate) use bytecode::MAGIC as BYTECODE_MAGIC;
pub use bytecode::{decode, encode};
pub(crate) use call::Exec;
pub use disasm::disassemble;
#[cfg(feature = "snapshot")]
pub(crate) use disasm::float as float_text;
pub use error::{
    AsmError, AsmErrorKind, DecodeError, DecodeErrorKind, Fault, JitError, LinkError, StateError,
    VerifyError, VerifyErrorKind, VmError,
};
pub(crate) use isa::reference as isa_reference;
#[cfg(feature = "jit")]
pub(crate) use jit::background::wait_idle as wait_for_compiles;
#[cfg(feature = "jit")]
pub(crate) use jit::code::live as compiled_alive;
#[cfg(feature = "snapshot")]
pub(crate) use lex::parse_float as parse_float_text;
pub use machine::{JitOptions, Status, Vm, VmOptions};
pub use natives::{NativeCalls, Natives, StaticNatives};
pub use program::{Const, Export, Function, Import, Instr, Local, MAX_SLOT, Module, Program};
pub use state::{FrameState, FrameView, VmState};
pub use value::Value;
pub use verify::{VerifiedProgram, VerifyOptions, verify, verify_with};

#[cfg(all(test, feature = "jit"))]
mod differential_tests;
#[cfg(test)]
mod roundtrip;
#[cfg(test)]
mod tests;
