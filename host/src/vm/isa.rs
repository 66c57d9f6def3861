//! The instruction set, written once.
//!
//! Each row of [`for_each_instr!`] is one instruction: its documentation,
//! its variant of [`Instr`](super::Instr) (with the operand's type), its
//! mnemonic, its opcode in the binary form, the kind of its operand, and
//! its effect on the stack. The assembly language reference's table of
//! instructions is generated from it ([`reference`]).
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
/// `$(#[doc])* Variant $((OperandType))? "MNEMONIC" opcode kind "stack";`,
/// the stack effect written `before -- after` (the top last).
macro_rules! for_each_instr {
    ($m:ident) => {
        $m! {
            /// Does nothing.
            Nop "NOP" 0x00 none "--";
            /// Stops the program.
            Halt "HALT" 0x01 none "--";
            /// Pops a value and prints `Result: <value>`.
            Print "PRINT" 0x02 none "a --";
            /// Drops the top value.
            Pop "POP" 0x03 none "a --";
            /// Duplicates the top value.
            Dup "DUP" 0x04 none "a -- a a";
            /// Swaps the two top values.
            Swap "SWAP" 0x05 none "a b -- b a";
            /// Adds two numbers of one type (`i32`, `i64`, `f64`); integers wrap.
            Add "ADD" 0x10 none "a b -- a+b";
            /// Subtracts the top from the one below; integers wrap.
            Sub "SUB" 0x11 none "a b -- a-b";
            /// Multiplies; integers wrap.
            Mul "MUL" 0x12 none "a b -- a*b";
            /// Divides the one below by the top; an integer division by zero, or
            /// of the smallest integer by -1, faults.
            Div "DIV" 0x13 none "a b -- a/b";
            /// The remainder of the division; faults as `DIV` does.
            Mod "MOD" 0x14 none "a b -- a%b";
            /// Negates a number; integers wrap.
            Neg "NEG" 0x15 none "a -- -a";
            /// Negates a `bool`.
            Not "NOT" 0x16 none "b -- !b";
            /// Whether two values of one type are equal, as a `bool`.
            Eq "EQ" 0x18 none "a b -- bool";
            /// Whether two values of one type differ.
            Ne "NE" 0x19 none "a b -- bool";
            /// Whether the one below is less than the top (numbers, strings).
            Lt "LT" 0x1a none "a b -- bool";
            /// Less than or equal.
            Le "LE" 0x1b none "a b -- bool";
            /// Greater than.
            Gt "GT" 0x1c none "a b -- bool";
            /// Greater than or equal.
            Ge "GE" 0x1d none "a b -- bool";
            /// Pushes a constant.
            Push(Const) "PUSH" 0x20 constant "-- c";
            /// Pushes a local's value.
            Load(u32) "LOAD" 0x30 local "-- v";
            /// Pops a value into a local of its type.
            Store(u32) "STORE" 0x31 local "v --";
            /// Jumps to a label.
            Jmp(u32) "JMP" 0x40 label "--";
            /// Pops an `i32` or `bool`; jumps when it is zero or false.
            Jz(u32) "JZ" 0x41 label "c --";
            /// Pops an `i32` or `bool`; jumps when it is not zero or true.
            Jnz(u32) "JNZ" 0x42 label "c --";
            /// Calls a function of the program: pops its arguments, pushes its
            /// result (if it has one).
            Call(u32) "CALL" 0x50 function "args.. -- result";
            /// Returns from the current function; from `main`, stops the
            /// program.
            Ret "RET" 0x51 none "result --";
            /// Calls the function bound to a slot: pops its arguments, pushes
            /// its result (if it has one).
            CallNative(u32) "CALL_NATIVE" 0x52 slot "args.. -- result";
        }
    };
}
pub(crate) use for_each_instr;

/// The `Instr` enum and its mnemonics, from the table.
macro_rules! define_instr {
    ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
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

/// The assembly language reference's table of instructions, in Markdown:
/// each instruction with its operand, its stack effect and what it does,
/// from the table above (the book's `instructions.md` is this, checked
/// fresh by a test).
pub(crate) fn reference() -> String {
    macro_rules! rows {
        ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
            [$(($mnemonic, stringify!($kind), $stack, [$($doc),*].join(" "))),*]
        };
    }
    let mut out = String::from(
        "<!-- Generated from host/src/vm/isa.rs by a test \
         (HOTSLOT_BLESS=1 cargo test -p hotslot-tests --test all -- docs:: rewrites it). -->\n\n\
         | instruction | operand | stack (before -- after) | what it does |\n\
         | --- | --- | --- | --- |\n",
    );
    for (mnemonic, kind, stack, doc) in for_each_instr!(rows) {
        let (written, operand) = match kind {
            "constant" => (
                format!("{mnemonic} c"),
                "a constant: `10` (i32), `i64 10`, `2.5` or `f64 2`, `true`, `\"text\"`",
            ),
            "local" => (format!("{mnemonic} x"), "a local, by name or index"),
            "label" => (format!("{mnemonic} l"), "a label"),
            "function" => (format!("{mnemonic} f"), "a function, by name"),
            "slot" => (
                format!("{mnemonic} s"),
                "a slot: its number or its import's name",
            ),
            _ => (mnemonic.to_owned(), ""),
        };
        let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "| `{written}` | {operand} | `{stack}` | {doc} |\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use crate::vm::Instr;

    /// Collects every row's mnemonic and opcode.
    macro_rules! rows {
        ($($(#[doc = $doc:literal])* $variant:ident $(($ty:ty))? $mnemonic:literal $opcode:literal $kind:ident $stack:literal;)*) => {
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
