//! The VM's errors: assembly, bytecode and verification errors with their
//! position, link errors, and the faults that stop a run.

use crate::types::{Signature, ValType};

/// A syntax error in assembly text, with where it is.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct AsmError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// What is wrong.
    pub kind: AsmErrorKind,
}

/// What is wrong with a line of assembly.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AsmErrorKind {
    /// No instruction has this mnemonic.
    #[error("unknown instruction `{name}`")]
    UnknownInstruction {
        /// The mnemonic.
        name: String,
    },
    /// No directive has this name.
    #[error(
        "unknown directive `{name}` (expected `.import`, `.func`, `.local`, `.end`, `.module` or `.export`)"
    )]
    UnknownDirective {
        /// The directive.
        name: String,
    },
    /// Something else was expected here.
    #[error("expected {what}")]
    Expected {
        /// What was expected.
        what: &'static str,
    },
    /// A token that does not belong here.
    #[error("unexpected `{found}`")]
    Unexpected {
        /// The token.
        found: String,
    },
    /// A number that does not fit its type.
    #[error("`{text}` is out of range for {ty}")]
    OutOfRange {
        /// The number.
        text: String,
        /// The type.
        ty: &'static str,
    },
    /// A constant that does not parse as its type.
    #[error("`{text}` is not a constant of {ty}")]
    BadConstant {
        /// The text.
        text: String,
        /// The type.
        ty: &'static str,
    },
    /// A type name that does not exist.
    #[error("unknown type `{name}` (expected i32, i64, f64, bool or str)")]
    UnknownType {
        /// The name.
        name: String,
    },
    /// A name that is not an identifier.
    #[error("`{name}` is not a valid name (a letter or `_`, then letters, digits, `_`)")]
    BadName {
        /// The name.
        name: String,
    },
    /// A version requirement that does not parse.
    #[error("invalid version requirement `{text}`: {reason}")]
    BadRequirement {
        /// The text.
        text: String,
        /// What the parser said.
        reason: String,
    },
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a program may import")]
    SlotTooLarge {
        /// The slot.
        slot: u64,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// A slot imported twice.
    #[error("slot {slot} is already imported as `{first}`")]
    DuplicateSlot {
        /// The slot.
        slot: u32,
        /// The first import's name.
        first: String,
    },
    /// A label defined twice.
    #[error("label `{name}` is already defined on line {first_line}")]
    DuplicateLabel {
        /// The label.
        name: String,
        /// Where it was first defined.
        first_line: u32,
    },
    /// A function defined twice (`main` is the top-level code).
    #[error("function `{name}` is already defined")]
    DuplicateFunction {
        /// The name.
        name: String,
    },
    /// A local or parameter declared twice in one function.
    #[error("local `{name}` is already declared")]
    DuplicateLocal {
        /// The name.
        name: String,
    },
    /// `.func` inside a function.
    #[error("`.func` inside function `{outer}`: close it with `.end` first")]
    NestedFunction {
        /// The enclosing function.
        outer: String,
    },
    /// `.end` outside a function.
    #[error("`.end` outside a function")]
    StrayEnd,
    /// A function without its `.end`.
    #[error("function `{name}` has no `.end`")]
    UnclosedFunction {
        /// The function.
        name: String,
    },
    /// A version that does not parse.
    #[error("invalid version `{text}`: {reason} (a version is MAJOR.MINOR.PATCH: `1.2.0`)")]
    BadVersion {
        /// The text.
        text: String,
        /// What the parser said.
        reason: String,
    },
    /// A second `.module`.
    #[error("the module is already declared as `{first}`")]
    DuplicateModule {
        /// The first declaration's name.
        first: String,
    },
    /// `.module` or `.export` inside a function.
    #[error("`{directive}` inside function `{function}`: it belongs at top level")]
    NotTopLevel {
        /// The directive.
        directive: &'static str,
        /// The enclosing function.
        function: String,
    },
    /// `.export` in a program that is not a module.
    #[error("`.export` needs a module: declare it first with `.module NAME VERSION`")]
    ExportWithoutModule,
    /// A function exported twice.
    #[error("`{name}` is already exported")]
    DuplicateExport {
        /// The function.
        name: String,
    },
    /// An export of a function that is not defined.
    #[error("`.export {name}`: no function `{name}` is defined")]
    UnknownExport {
        /// The function.
        name: String,
    },
    /// Top-level code in a module.
    #[error(
        "a script module has no top-level code: its code is in its functions (`.func` ... `.end`)"
    )]
    ModuleCode,
    /// A string constant without its closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// An escape that does not exist.
    #[error("unknown escape `{text}` (expected \\n, \\t, \\r, \\0, \\\\, \\\", \\u{{...}})")]
    BadEscape {
        /// The escape.
        text: String,
    },
    /// A jump to a label that is not defined.
    #[error("unknown label `{name}`")]
    UnknownLabel {
        /// The label.
        name: String,
    },
    /// A call to a function that is not defined.
    #[error("unknown function `{name}`")]
    UnknownFunction {
        /// The name.
        name: String,
    },
    /// A local that is not declared.
    #[error("function `{function}` has no local `{name}`")]
    UnknownLocal {
        /// The name.
        name: String,
        /// The function.
        function: String,
    },
    /// `CALL_NATIVE` naming an import that is not declared.
    #[error("no import is named `{name}`")]
    UnknownImport {
        /// The name.
        name: String,
    },
}

/// Bytes that are not a valid `.hsbc` program, with where.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("byte {offset}: {kind}")]
pub struct DecodeError {
    /// Offset of the problem in the input.
    pub offset: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

/// What is wrong with a `.hsbc` input.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input does not start with `HSBC`.
    #[error("not a hotslot bytecode file: expected magic `HSBC`")]
    BadMagic,
    /// A format version this host does not read.
    #[error("unsupported bytecode version: expected 1 to {expected}, found {found}")]
    UnsupportedVersion {
        /// The newest version this host reads.
        expected: u8,
        /// The file's.
        found: u8,
    },
    /// The input ends in the middle of an item.
    #[error("unexpected end of input")]
    UnexpectedEnd,
    /// A varint longer than 64 bits.
    #[error("varint does not fit in 64 bits")]
    BadVarint,
    /// A number too large for its field.
    #[error("{value} is out of range for {ty}")]
    OutOfRange {
        /// The number.
        value: i128,
        /// The field's type.
        ty: &'static str,
    },
    /// A count larger than the bytes that remain.
    #[error("count {count} is larger than the {left} bytes that remain")]
    CountTooLarge {
        /// The count.
        count: u64,
        /// Bytes left.
        left: u64,
    },
    /// A string that is not UTF-8.
    #[error("string is not UTF-8")]
    NotUtf8,
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a program may import")]
    SlotTooLarge {
        /// The slot.
        slot: u64,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// A type tag that does not exist, or `void` where a value is needed.
    #[error("bad type tag {tag}: expected {expected}")]
    BadType {
        /// The tag.
        tag: u8,
        /// The tags allowed there.
        expected: &'static str,
    },
    /// An opcode that does not exist.
    #[error("unknown opcode {opcode:#04x}")]
    BadOpcode {
        /// The opcode.
        opcode: u8,
    },
    /// A version requirement that does not parse.
    #[error("invalid version requirement `{text}`")]
    BadRequirement {
        /// The text.
        text: String,
    },
    /// A version that does not parse.
    #[error("invalid version `{text}`")]
    BadVersion {
        /// The text.
        text: String,
    },
    /// Bytes after the program.
    #[error("{count} bytes after the end of the program")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

/// A program the verifier refused, with where.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{}{kind}", location(.pc, .instr))]
pub struct VerifyError {
    /// The instruction, for errors in code.
    pub pc: Option<u32>,
    /// The instruction as assembly text.
    pub instr: Option<String>,
    /// What is wrong.
    pub kind: VerifyErrorKind,
}

impl VerifyError {
    /// An error in a program's declarations, not at an instruction.
    pub(crate) fn declaration(kind: VerifyErrorKind) -> VerifyError {
        VerifyError {
            pc: None,
            instr: None,
            kind,
        }
    }
}

fn location(pc: &Option<u32>, instr: &Option<String>) -> String {
    match (pc, instr) {
        (Some(pc), Some(i)) => format!("pc {pc} (`{i}`): "),
        (Some(pc), None) => format!("pc {pc}: "),
        _ => String::new(),
    }
}

/// Types written as assembly does: `(i32, str)`.
pub(crate) struct TypeList<'a>(pub &'a [ValType]);

impl std::fmt::Display for TypeList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(")?;
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}")?;
        }
        f.write_str(")")
    }
}

/// What the verifier found wrong.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyErrorKind {
    /// The program has no functions, so no entry point.
    #[error("the program has no entry function")]
    NoMain,
    /// A script module's export names no function of it (or `main`).
    #[error("the module exports `{name}`, which is not one of its functions")]
    UnknownExport {
        /// The name.
        name: String,
    },
    /// A function exported twice.
    #[error("the module exports `{name}` twice")]
    DuplicateExport {
        /// The name.
        name: String,
    },
    /// A script module whose `main` does more than halt.
    #[error("a script module has no top-level code: its `main` must be a lone `HALT`")]
    ModuleCode,
    /// The entry function takes parameters or returns a value.
    #[error("the entry function must be `() -> void`, found `{found}`")]
    MainSignature {
        /// Its signature.
        found: Signature,
    },
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a program may import")]
    SlotTooLarge {
        /// The slot.
        slot: u32,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// An import of a type VM programs have no values of.
    #[error(
        "the import of slot {slot} uses `{ty}`, which VM programs have no values of (the host calls such functions through typed handles)"
    )]
    NotAVmType {
        /// The slot.
        slot: u32,
        /// The type.
        ty: ValType,
    },
    /// Two imports of one slot.
    #[error("slot {slot} is imported twice")]
    DuplicateSlot {
        /// The slot.
        slot: u32,
    },
    /// An import takes more parameters than the ABI allows.
    #[error("the import of slot {slot} has {found} parameters, more than the {max} allowed")]
    TooManyParams {
        /// The slot.
        slot: u32,
        /// The limit.
        max: usize,
        /// The count.
        found: usize,
    },
    /// A name that is not an identifier.
    #[error("`{name}` is not a valid name")]
    BadName {
        /// The name.
        name: String,
    },
    /// Two functions with one name.
    #[error("function `{name}` is defined twice")]
    DuplicateFunction {
        /// The name.
        name: String,
    },
    /// Function code ranges that do not tile the code.
    #[error("function `{function}` covers {start}..{end}, expected to start at {expected_start}")]
    Layout {
        /// The function.
        function: String,
        /// Where it should start.
        expected_start: u32,
        /// Where it starts.
        start: u32,
        /// Where it ends.
        end: u32,
    },
    /// Code after the last function.
    #[error("instructions {from}..{len} belong to no function")]
    CodeOutsideFunctions {
        /// First such instruction.
        from: u32,
        /// Code length.
        len: usize,
    },
    /// A function without instructions.
    #[error("function `{function}` has no instructions")]
    EmptyFunction {
        /// The function.
        function: String,
    },
    /// A function with too many locals.
    #[error("function `{function}` has {found} locals, more than the {max} allowed")]
    TooManyLocals {
        /// The function.
        function: String,
        /// The limit.
        max: usize,
        /// The count.
        found: usize,
    },
    /// A function whose first locals are not its parameters.
    #[error("the first locals of `{function}` are not its parameters")]
    ParamsNotLocals {
        /// The function.
        function: String,
    },
    /// Too few values on the stack.
    #[error("stack underflow: needs {needed} values, found {found}")]
    Underflow {
        /// Values needed.
        needed: usize,
        /// Values there.
        found: usize,
    },
    /// Values of the wrong types.
    #[error("type mismatch: expected {}, found {}{}", TypeList(.expected), TypeList(.found), literal_hint(.expected, .found))]
    TypeMismatch {
        /// The types needed.
        expected: Vec<ValType>,
        /// The types there.
        found: Vec<ValType>,
    },
    /// Arithmetic on a type that is not a number.
    #[error("arithmetic needs i32, i64 or f64, found {found}")]
    NotNumeric {
        /// The type there.
        found: ValType,
    },
    /// `<` and friends on booleans.
    #[error("ordering comparisons need i32, i64, f64 or str, found bool")]
    NotOrdered,
    /// A jump condition that is neither `i32` nor `bool`.
    #[error("a jump condition must be i32 or bool, found {found}")]
    BadCondition {
        /// The type there.
        found: ValType,
    },
    /// Two paths reach one instruction with different stacks.
    #[error("paths meet at pc {at} with different stacks: {} and {}", TypeList(.expected), TypeList(.found))]
    StackMismatch {
        /// Where they meet.
        at: u32,
        /// One path's stack.
        expected: Vec<ValType>,
        /// The other's.
        found: Vec<ValType>,
    },
    /// A local index past the function's locals.
    #[error("local {index} does not exist: the function has {count}")]
    BadLocal {
        /// The index.
        index: u32,
        /// Locals there are.
        count: usize,
    },
    /// A jump outside the current function.
    #[error("jump target {target} is outside `{function}` ({start}..{end})")]
    BadJump {
        /// The target.
        target: u32,
        /// The function.
        function: String,
        /// Its first instruction.
        start: u32,
        /// One past its last.
        end: u32,
    },
    /// `CALL` of a function that does not exist.
    #[error("function {index} does not exist")]
    UnknownFunction {
        /// The index.
        index: u32,
    },
    /// `CALL` of the entry function.
    #[error("the entry function cannot be called")]
    CallsMain,
    /// `CALL_NATIVE` of a slot no import declares.
    #[error("slot {slot} is not imported")]
    UnknownSlot {
        /// The slot.
        slot: u32,
    },
    /// `RET` with the wrong stack.
    #[error("`RET` needs exactly {} on the stack, found {}", TypeList(.expected), TypeList(.found))]
    Return {
        /// What the function returns.
        expected: Vec<ValType>,
        /// What is there.
        found: Vec<ValType>,
    },
    /// Execution would run past a function's last instruction.
    #[error("execution falls off the end of `{function}`: end it with `RET`, `HALT` or `JMP`")]
    FallsOffEnd {
        /// The function.
        function: String,
    },
    /// The operand stack grows past the limit.
    #[error("the operand stack grows past {limit} values")]
    StackLimit {
        /// The limit.
        limit: usize,
    },
}

/// A program whose imports a VM's natives cannot serve.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Nothing serves an imported slot.
    #[error("nothing serves slot {slot}")]
    Unserved {
        /// The slot.
        slot: u32,
    },
    /// The function serving a slot has another signature.
    #[error("slot {slot}: `{function}` is {found}, the program imports {expected}")]
    Signature {
        /// The slot.
        slot: u32,
        /// The function serving it.
        function: String,
        /// The import's signature.
        expected: Signature,
        /// The function's.
        found: Signature,
    },
    /// The system would not reserve the VM's stack (`VmOptions::stack_capacity`).
    #[error("cannot reserve a stack of {values} values: {reason}")]
    Stack {
        /// The capacity asked for.
        values: usize,
        /// The system's answer.
        reason: String,
    },
    /// A slot number past the limit.
    #[error("slot {slot} is larger than {max}, the largest slot number a table serves")]
    SlotTooLarge {
        /// The slot.
        slot: u32,
        /// The limit, `MAX_SLOT`.
        max: u32,
    },
    /// The slot table already declares the slot differently.
    #[error("slot {slot} is declared as `{existing}` and cannot be redeclared as `{requested}`")]
    Conflict {
        /// The slot.
        slot: u32,
        /// The existing import, as written in assembly.
        existing: String,
        /// The program's.
        requested: String,
    },
}

/// A run stopped by a fault, with the instruction that faulted.
#[derive(Debug, thiserror::Error)]
#[error("pc {pc} (`{instr}`): {fault}")]
pub struct VmError {
    /// The faulting instruction.
    pub pc: u32,
    /// It, as assembly text.
    pub instr: String,
    /// What went wrong.
    pub fault: Fault,
}

/// What stopped a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Fault {
    /// Integer division or remainder by zero.
    #[error("division by zero")]
    DivideByZero,
    /// `MIN / -1` or `MIN % -1`.
    #[error("integer overflow")]
    Overflow,
    /// The stack cannot hold the next frame.
    #[error("stack overflow: the stack holds {capacity} values")]
    StackOverflow {
        /// Its capacity.
        capacity: usize,
    },
    /// Calls nest too deep.
    #[error("calls nest deeper than {max}")]
    CallDepth {
        /// The limit.
        max: usize,
    },
    /// `CALL_NATIVE` of a slot nothing is bound to.
    #[error("slot {slot} is unbound")]
    Unbound {
        /// The slot.
        slot: u32,
    },
    /// A native function returned an error.
    #[error("`{function}` (slot {slot}) returned an error: {message}")]
    Native {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// Its message.
        message: String,
    },
    /// A native function panicked; the plugin caught the panic.
    #[error("plugin panicked in `{function}` (slot {slot}): {message}")]
    Panic {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The panic message.
        message: String,
    },
    /// An isolated function's worker gave no answer: it crashed, or it
    /// missed the call's deadline and was killed; the next call starts a
    /// new worker.
    #[error("`{function}` (slot {slot}) gave no answer: {failure}")]
    Isolated {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// Why.
        failure: crate::failure::IsolatedFailure,
    },
    /// A native function returned a status the ABI does not define.
    #[error("`{function}` (slot {slot}) returned unknown status {status}")]
    BadStatus {
        /// The slot.
        slot: u32,
        /// The function.
        function: String,
        /// The status.
        status: i32,
    },
    /// A native function passed something invalid to a callback.
    #[error("the function in slot {slot} passed {problem} to the host")]
    BadCallback {
        /// The slot.
        slot: u32,
        /// What it passed.
        problem: String,
    },
    /// A native function returning `str` succeeded without giving one.
    #[error("the function in slot {slot} returned no string")]
    NoStringResult {
        /// The slot.
        slot: u32,
    },
    /// `PRINT` could not write.
    #[error("cannot write output: {0}")]
    Output(std::io::Error),
    /// Code the verifier found unreachable was reached.
    #[error("unreachable code was executed")]
    Unreachable,
}

/// A state that does not fit the VM's program.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A faulted VM cannot be restored.
    #[error("a faulted run cannot be restored")]
    Faulted,
    /// The frames are not a call chain of this program stopped at that pc.
    #[error(
        "frames of functions {functions:?} stopped at pc {pc} are not a call chain of the program \
         (expected the entry function, then each callee at a `CALL` of its caller)"
    )]
    Frames {
        /// The function of each frame, by index, outermost first.
        functions: Vec<u32>,
        /// The state's pc.
        pc: u32,
    },
    /// A frame's values have other types than the program gives them there.
    #[error("frame of `{function}` holds {}, the program has {}", TypeList(.found), TypeList(.expected))]
    Types {
        /// The function.
        function: String,
        /// The types the program gives.
        expected: Vec<ValType>,
        /// The types of the values.
        found: Vec<ValType>,
    },
    /// More values than the stack holds.
    #[error("the state needs {needed} stack values, the VM holds {capacity}")]
    TooLarge {
        /// Values the state's frames need, at their deepest.
        needed: usize,
        /// The VM's stack capacity.
        capacity: usize,
    },
}

/// For a mismatch where a wider number or a bool was needed and an `i32`
/// was found: a literal is pushed as `i32` unless its type is written.
fn literal_hint(expected: &[ValType], found: &[ValType]) -> &'static str {
    let widened = expected.iter().zip(found).any(|(e, f)| {
        *f == ValType::I32 && matches!(e, ValType::I64 | ValType::F64 | ValType::Bool)
    });
    if widened {
        " (a number is pushed as i32 unless its type is written: `PUSH i64 10`, `PUSH f64 2.5`, `PUSH true`)"
    } else {
        ""
    }
}

/// Why a program runs interpreted rather than compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct JitError {
    reason: String,
}

impl JitError {
    pub(crate) fn new(reason: impl Into<String>) -> JitError {
        JitError {
            reason: reason.into(),
        }
    }
}
