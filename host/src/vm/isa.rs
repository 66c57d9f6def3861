//! The instruction set, written once.
//!
//! Each row of [`for_each_instr!`] is one instruction: its documentation,
//! its variant of [`Instr`](super::Instr) (with the operand's type), its
//! mnemonic, its opcode in the binary form, and the kind of its operand.
//! From the rows come the `Instr` enum and its mnemonics (here), what the
//! assembler accepts (`asm.rs`), what the disassembler writes (`disasm.rs`)
//! and the binary form's encoding and decoding (`bytecode.rs`): adding an
//! instruction is one row, plus what it means to the verifier (`verify.rs`)
//! and its executable form (`lower.rs`, `exec.rs`).
//!
//! Operand kinds:
//! - `none`;
//! - `constant`: a [`Const`](super::Const), written `PUSH 5`, `PUSH i64 5`,
//!   `PUSH 2.5`, `PUSH true`, `PUSH "text"`; in the binary form the opcode
//!   is followed by the constant, and the constant's type is part of the
//!   opcode (the row's opcode, then one per type: i32, i64, f64, true,
//!   false, str);
//! - `local`: a local's index, written by name (or index);
//! - `label`: a jump target, written as a label;
//! - `function`: a bytecode function's index, written by name;
//! - `slot`: an import's slot, written as the slot number or the import's
//!   name.
//!
//! Integer operands are unsigned LEB128 varints in the binary form.

/// Calls `$m!` with every instruction as a row
/// `$(#[doc])* Variant $((OperandType))? "MNEMONIC" opcode kind;`.
macro_rules! for_each_instr {
    ($m:ident) => {
        $m! {
            /// Does nothing.
            Nop "NOP" 0x00 none;
            /// Stops the program.
            Halt "HALT" 0x01 none;
            /// Pops a value and prints `Result: <value>`.
            Print "PRINT" 0x02 none;
            /// Drops the top value.
            Pop "POP" 0x03 none;
            /// Duplicates the top value.
            Dup "DUP" 0x04 none;
            /// Swaps the two top values.
            Swap "SWAP" 0x05 none;
            /// `a b -> a+b` (integers wrap).
            Add "ADD" 0x10 none;
            /// `a b -> a-b` (integers wrap).
            Sub "SUB" 0x11 none;
            /// `a b -> a*b` (integers wrap).
            Mul "MUL" 0x12 none;
            /// `a b -> a/b`; integer division by zero or overflow faults.
            Div "DIV" 0x13 none;
            /// `a b -> a%b`; as for `Div`.
            Mod "MOD" 0x14 none;
            /// `a -> -a` (integers wrap).
            Neg "NEG" 0x15 none;
            /// `bool -> !bool`.
            Not "NOT" 0x16 none;
            /// `a b -> a==b`.
            Eq "EQ" 0x18 none;
            /// `a b -> a!=b`.
            Ne "NE" 0x19 none;
            /// `a b -> a<b` (not for `bool`).
            Lt "LT" 0x1a none;
            /// `a b -> a<=b` (not for `bool`).
            Le "LE" 0x1b none;
            /// `a b -> a>b` (not for `bool`).
            Gt "GT" 0x1c none;
            /// `a b -> a>=b` (not for `bool`).
            Ge "GE" 0x1d none;
            /// Pushes a constant.
            Push(Const) "PUSH" 0x20 constant;
            /// Pushes local `n`.
            Load(u32) "LOAD" 0x30 local;
            /// Pops into local `n`.
            Store(u32) "STORE" 0x31 local;
            /// Jumps to `pc`.
            Jmp(u32) "JMP" 0x40 label;
            /// Pops an `i32` or `bool`; jumps when it is zero or false.
            Jz(u32) "JZ" 0x41 label;
            /// Pops an `i32` or `bool`; jumps when it is not zero or true.
            Jnz(u32) "JNZ" 0x42 label;
            /// Calls bytecode function `n`: pops its arguments, pushes its
            /// result.
            Call(u32) "CALL" 0x50 function;
            /// Returns from the current function; from `main`, stops the
            /// program.
            Ret "RET" 0x51 none;
            /// Calls the native function bound to slot `n`: pops its
            /// arguments, pushes its result.
            CallNative(u32) "CALL_NATIVE" 0x52 slot;
        }
    };
}
pub(crate) use for_each_instr;

/// The `Instr` enum and its mnemonics, from the table.
macro_rules! define_instr {
    ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident;)*) => {
        /// One instruction, as written; the verifier specializes each by
        /// type. The instruction set is defined in one table
        /// (`vm/isa.rs`).
        #[derive(Clone, PartialEq, Debug)]
        pub enum Instr {
            $($(#[doc = $doc])* $variant $(($ty))?,)*
        }

        impl Instr {
            /// The mnemonic.
            pub fn mnemonic(&self) -> &'static str {
                match self {
                    $(Instr::$variant { .. } => $mnemonic,)*
                }
            }

            /// Every mnemonic, in the table's order.
            pub const MNEMONICS: &[&str] = &[$($mnemonic),*];
        }
    };
}
pub(crate) use define_instr;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::vm::Instr;

    /// Collects every row's mnemonic and opcode.
    macro_rules! rows {
        ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident;)*) => {
            [$(($mnemonic, $opcode as u8, stringify!($kind))),*]
        };
    }

    #[test]
    fn mnemonics_and_opcodes_are_unique_and_constants_own_their_range() {
        let rows = for_each_instr!(rows);
        let mnemonics: HashSet<&str> = rows.iter().map(|r| r.0).collect();
        assert_eq!(mnemonics.len(), rows.len());
        // A constant's opcode is followed by one per constant type.
        let mut opcodes = HashSet::new();
        for (_, opcode, kind) in rows {
            let width = if kind == "constant" { 6 } else { 1 };
            for o in opcode..opcode + width {
                assert!(opcodes.insert(o), "opcode {o:#04x} is used twice");
            }
        }
        assert_eq!(Instr::MNEMONICS.len(), rows.len());
    }
}
