//! Checks of a library file's image (ELF, or PE on Windows) before the
//! dynamic loader maps it.
//!
//! **ELF**: a check of the file's structure.
//!
//! glibc's loader trusts the program headers: a file cut short (a build
//! caught half-written, a truncated copy) gets segments mapped past its end,
//! and touching them kills the process with SIGBUS inside `dlopen`. Checking
//! that every table and segment the headers name lies inside the file turns
//! that into an error.
//!
//! Two more facts are read here, because the dynamic loader reports them
//! badly or not at all: which machine a library was built for (glibc says
//! "No such file or directory" for a library of another architecture that
//! exists), and whether the exports the host calls are functions (calling a
//! variable's address would jump into data).
//!
//! **PE** (Windows): the same checks. Windows' loader refuses a cut file
//! with "bad EXE format" rather than dying, but the check names what is
//! missing and, in watch mode, tells a file still being written from a
//! whole one. The machine is the COFF header's; an export is a function
//! when its address lies in an executable section.

use object::elf::{FileHeader32, FileHeader64, PF_X, PT_DYNAMIC, PT_LOAD};
use object::pe::{
    IMAGE_FILE_MACHINE_AMD64, IMAGE_FILE_MACHINE_ARM64, IMAGE_FILE_MACHINE_ARMNT,
    IMAGE_FILE_MACHINE_I386, IMAGE_FILE_MACHINE_RISCV64, IMAGE_SCN_MEM_EXECUTE,
};
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{
    Endianness, FileKind, Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind,
};

/// Whether an ELF file of `len` bytes, whose first bytes (at least its
/// headers, which linkers put at the start) are `head`, holds every part its
/// headers point to (or a PE file: its sections and symbol table). Files
/// that are neither pass: the dynamic loader refuses them by itself.
pub fn check(head: &[u8], len: u64) -> Result<(), String> {
    match FileKind::parse(head) {
        Ok(FileKind::Elf64) => check_elf::<FileHeader64<Endianness>>(head, len),
        Ok(FileKind::Elf32) => check_elf::<FileHeader32<Endianness>>(head, len),
        Ok(FileKind::Pe64 | FileKind::Pe32) => check_pe(head, len),
        Ok(_) => Ok(()),
        Err(_) if head.starts_with(b"\x7fELF") => Err("malformed ELF header".into()),
        Err(_) if head.starts_with(b"MZ") => check_pe(head, len),
        Err(_) => Ok(()),
    }
}

/// Whether a file whose first bytes are `head` starts as a library of this
/// platform's format (ELF, PE on Windows, Mach-O on macOS), before any of
/// it is copied: a file that does not is refused at once, however large.
pub(crate) fn check_format(head: &[u8]) -> Result<(), String> {
    let (format, magics): (&str, &[&[u8]]) = if cfg!(windows) {
        ("a PE file", &[b"MZ"])
    } else if cfg!(target_vendor = "apple") {
        (
            "a Mach-O file",
            &[
                &[0xfe, 0xed, 0xfa, 0xce],
                &[0xfe, 0xed, 0xfa, 0xcf],
                &[0xce, 0xfa, 0xed, 0xfe],
                &[0xcf, 0xfa, 0xed, 0xfe],
                &[0xca, 0xfe, 0xba, 0xbe],
            ],
        )
    } else {
        ("an ELF file", &[b"\x7fELF"])
    };
    if magics.iter().any(|m| head.starts_with(m)) {
        return Ok(());
    }
    if head.is_empty() {
        return Err(format!("it is empty, not {format}"));
    }
    let first: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Err(format!(
        "it is not {format}: its first bytes are {}",
        first.join(" ")
    ))
}

/// Whether a file of `len` bytes whose first bytes are `head` is a whole
/// library in this platform's format (ELF, or PE on Windows): it starts
/// with the format's magic (linkers may write the header last) and holds
/// every part its headers name (they write the section tables last).
#[cfg(any(feature = "watch", test))]
pub(crate) fn looks_whole(head: &[u8], len: u64) -> bool {
    let magic: &[u8] = if cfg!(windows) { b"MZ" } else { b"\x7fELF" };
    head.starts_with(magic) && check(head, len).is_ok()
}

/// The PE counterpart of [`check_elf`]: the headers, every section's data
/// and the COFF symbol table lie inside the file's `len` bytes. The
/// headers must be among the bytes read (`head`).
fn check_pe(head: &[u8], len: u64) -> Result<(), String> {
    let truncated = |what: &str, end: u64| {
        format!("truncated: {what} needs bytes up to {end} but the file has {len}")
    };
    let u16_at = |at: usize| -> Result<u16, String> {
        at.checked_add(2)
            .and_then(|end| head.get(at..end))
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| truncated("the PE header", at as u64 + 2))
    };
    let u32_at = |at: usize| -> Result<u32, String> {
        at.checked_add(4)
            .and_then(|end| head.get(at..end))
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| truncated("the PE header", at as u64 + 4))
    };
    // DOS header -> "PE\0\0" -> COFF header (20 bytes) -> optional header
    // -> section table (40 bytes a section).
    let nt = u32_at(0x3c)? as usize;
    if u32_at(nt)? != u32::from_le_bytes(*b"PE\0\0") {
        return Err("malformed PE header: no PE signature where the DOS header points".into());
    }
    let coff = nt + 4;
    let sections = u16_at(coff + 2)?;
    let symbols_at = u32_at(coff + 8)?;
    let symbols = u32_at(coff + 12)?;
    let optional = coff + 20;
    let table = optional + usize::from(u16_at(coff + 16)?);
    let table_end = table + 40 * usize::from(sections);
    if table_end as u64 > len {
        return Err(truncated("the section table", table_end as u64));
    }
    if table_end > head.len() {
        return Err("the section table lies past the bytes read".into());
    }
    let headers = u64::from(u32_at(optional + 60)?);
    if headers > len {
        return Err(truncated("the PE header", headers));
    }
    for i in 0..usize::from(sections) {
        let entry = table + 40 * i;
        let size = u64::from(u32_at(entry + 16)?);
        let offset = u64::from(u32_at(entry + 20)?);
        if size > 0 && offset + size > len {
            return Err(truncated("a section", offset + size));
        }
    }
    // The COFF symbol table (18 bytes a symbol), which mingw's linker
    // writes after the sections, then its string table.
    if symbols_at != 0 {
        let end = u64::from(symbols_at) + 18 * u64::from(symbols);
        if end > len {
            return Err(truncated("the symbol table", end));
        }
    }
    Ok(())
}

fn check_elf<Elf: FileHeader<Endian = Endianness>>(head: &[u8], len: u64) -> Result<(), String> {
    let truncated = |what: &str, end: u64| {
        format!("truncated: {what} needs bytes up to {end} but the file has {len}")
    };
    let header = Elf::parse(head).map_err(|e| format!("malformed ELF header: {e}"))?;
    let endian = header
        .endian()
        .map_err(|e| format!("malformed ELF header: {e}"))?;
    let ph_end = table_end(
        "program header",
        header.e_phoff(endian).into(),
        header.e_phnum(endian),
        header.e_phentsize(endian),
    )?;
    if ph_end > len {
        return Err(truncated("the program header table", ph_end));
    }
    let segments = header
        .program_headers(endian, head)
        .map_err(|_| "the program header table lies past the bytes read".to_owned())?;
    for ph in segments {
        let kind = ph.p_type(endian);
        if kind != PT_LOAD && kind != PT_DYNAMIC {
            continue;
        }
        let (offset, size) = ph.file_range(endian);
        let end = offset
            .checked_add(size)
            .ok_or("a segment's range overflows")?;
        if end > len {
            return Err(truncated("a segment", end));
        }
    }
    let sh_end = table_end(
        "section header",
        header.e_shoff(endian).into(),
        header.e_shnum(endian),
        header.e_shentsize(endian),
    )?;
    if sh_end > len {
        return Err(truncated("the section header table", sh_end));
    }
    Ok(())
}

/// Where a table of `count` entries of `size` bytes at `offset` ends, or
/// why it cannot (a header can put it anywhere in the 64-bit range).
fn table_end(what: &str, offset: u64, count: u16, size: u16) -> Result<u64, String> {
    // A product of two 16-bit numbers fits; only the sum can overflow.
    (u64::from(count) * u64::from(size))
        .checked_add(offset)
        .ok_or_else(|| {
            format!("the {what} table's range overflows (offset {offset}, {count} entries of {size} bytes)")
        })
}

/// The image formats the checks read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Elf,
    Pe,
}

/// A machine, as an image's header names it: its format, its number there
/// (ELF's `e_machine`, PE's COFF `Machine`), class (32 or 64 bits) and
/// byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Machine {
    format: Format,
    machine: u16,
    bits: u8,
    little_endian: bool,
}

impl Machine {
    /// The machine this host runs on, in its platform's image format, when
    /// it is one the format names here.
    pub(crate) fn host() -> Option<Machine> {
        let bits = if cfg!(target_pointer_width = "64") {
            64
        } else {
            32
        };
        let little_endian = cfg!(target_endian = "little");
        if cfg!(windows) {
            let machine = match std::env::consts::ARCH {
                "x86_64" => IMAGE_FILE_MACHINE_AMD64,
                "x86" => IMAGE_FILE_MACHINE_I386,
                "aarch64" => IMAGE_FILE_MACHINE_ARM64,
                "arm" => IMAGE_FILE_MACHINE_ARMNT,
                _ => return None,
            };
            return Some(Machine {
                format: Format::Pe,
                machine,
                bits,
                little_endian,
            });
        }
        use object::elf::*;
        let machine = match std::env::consts::ARCH {
            "x86_64" => EM_X86_64,
            "x86" => EM_386,
            "aarch64" => EM_AARCH64,
            "arm" => EM_ARM,
            "riscv64" | "riscv32" => EM_RISCV,
            "powerpc64" => EM_PPC64,
            "powerpc" => EM_PPC,
            "s390x" => EM_S390,
            "loongarch64" => EM_LOONGARCH,
            "mips" | "mips64" => EM_MIPS,
            _ => return None,
        };
        Some(Machine {
            format: Format::Elf,
            machine,
            bits,
            little_endian,
        })
    }

    /// The machine an ELF or PE file was built for, or `None` for a file
    /// that is neither.
    pub(crate) fn of(head: &[u8]) -> Option<Machine> {
        if head.starts_with(b"MZ") {
            return Machine::of_pe(head);
        }
        if head.len() < 20 || !head.starts_with(b"\x7fELF") {
            return None;
        }
        let little_endian = head[5] != 2;
        let bytes = [head[18], head[19]];
        Some(Machine {
            format: Format::Elf,
            machine: if little_endian {
                u16::from_le_bytes(bytes)
            } else {
                u16::from_be_bytes(bytes)
            },
            bits: if head[4] == 1 { 32 } else { 64 },
            little_endian,
        })
    }

    /// A PE file's machine: the DOS header's `e_lfanew` points to the `PE`
    /// signature, the COFF header's `Machine` follows it, and the optional
    /// header's magic after that says 32 or 64 bits.
    fn of_pe(head: &[u8]) -> Option<Machine> {
        let at = |offset: usize, n: usize| head.get(offset..offset.checked_add(n)?);
        let nt = u32::from_le_bytes(at(0x3c, 4)?.try_into().ok()?) as usize;
        if at(nt, 4)? != b"PE\0\0" {
            return None;
        }
        let machine = u16::from_le_bytes(at(nt.checked_add(4)?, 2)?.try_into().ok()?);
        let magic = u16::from_le_bytes(at(nt.checked_add(24)?, 2)?.try_into().ok()?);
        Some(Machine {
            format: Format::Pe,
            machine,
            bits: if magic == object::pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC {
                32
            } else {
                64
            },
            little_endian: true,
        })
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use object::elf::*;
        let name = match (self.format, self.machine, self.bits) {
            (Format::Pe, IMAGE_FILE_MACHINE_AMD64, _) => "x86_64".into(),
            (Format::Pe, IMAGE_FILE_MACHINE_I386, _) => "x86".into(),
            (Format::Pe, IMAGE_FILE_MACHINE_ARM64, _) => "aarch64".into(),
            (Format::Pe, IMAGE_FILE_MACHINE_ARMNT, _) => "arm".into(),
            (Format::Pe, IMAGE_FILE_MACHINE_RISCV64, _) => "riscv64".into(),
            (Format::Pe, m, bits) => format!("PE machine {m:#06x} ({bits}-bit)"),
            (Format::Elf, EM_X86_64, 64) => "x86_64".into(),
            (Format::Elf, EM_X86_64, _) => "x32".into(),
            (Format::Elf, EM_386, _) => "x86".into(),
            (Format::Elf, EM_AARCH64, _) => "aarch64".into(),
            (Format::Elf, EM_ARM, _) => "arm".into(),
            (Format::Elf, EM_RISCV, 64) => "riscv64".into(),
            (Format::Elf, EM_RISCV, _) => "riscv32".into(),
            (Format::Elf, EM_PPC64, _) => "powerpc64".into(),
            (Format::Elf, EM_PPC, _) => "powerpc".into(),
            (Format::Elf, EM_S390, _) => "s390x".into(),
            (Format::Elf, EM_LOONGARCH, _) => "loongarch64".into(),
            (Format::Elf, EM_MIPS, 64) => "mips64".into(),
            (Format::Elf, EM_MIPS, _) => "mips".into(),
            (Format::Elf, m, bits) => format!("machine {m} ({bits}-bit)"),
        };
        let host_order = Machine::host().is_none_or(|h| h.little_endian == self.little_endian);
        match (self.little_endian, host_order) {
            (_, true) => f.write_str(&name),
            (true, false) => write!(f, "{name} (little-endian)"),
            (false, false) => write!(f, "{name} (big-endian)"),
        }
    }
}

/// Checks a library in this platform's image format (ELF, or PE on
/// Windows) was built for this host's machine, class and byte order;
/// returns what it was built for, and what the host is, when not. Files in
/// another format pass: the dynamic loader refuses them by itself.
pub(crate) fn check_machine(head: &[u8]) -> Result<(), (Machine, Machine)> {
    match (Machine::of(head), Machine::host()) {
        (Some(found), Some(host)) if found.format == host.format && found != host => {
            Err((found, host))
        }
        _ => Ok(()),
    }
}

/// What an export the host calls is, when it is not a function in the
/// library's code: `a data symbol`, `a thread-local symbol`, or `an address
/// outside the library's code`. `Ok` for a function, and for a name the
/// dynamic symbol table (PE: the export table) does not have (the loader's
/// lookup then says so).
pub(crate) fn check_function(bytes: &[u8], name: &str) -> Result<(), &'static str> {
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => check_function_in::<FileHeader64<Endianness>>(bytes, name),
        Ok(FileKind::Elf32) => check_function_in::<FileHeader32<Endianness>>(bytes, name),
        Ok(FileKind::Pe64) => check_export_in::<object::pe::ImageNtHeaders64>(bytes, name),
        Ok(FileKind::Pe32) => check_export_in::<object::pe::ImageNtHeaders32>(bytes, name),
        _ => Ok(()),
    }
}

/// A PE export has no symbol kind: what tells a function is the section
/// its address lies in, which must be executable (a variable lies in a
/// data section).
fn check_export_in<Pe: object::read::pe::ImageNtHeaders>(
    bytes: &[u8],
    name: &str,
) -> Result<(), &'static str> {
    let Ok(file) = object::read::pe::PeFile::<Pe>::parse(bytes) else {
        // The loader refuses what cannot be parsed.
        return Ok(());
    };
    let Ok(exports) = file.exports() else {
        return Ok(());
    };
    let Some(export) = exports.iter().find(|e| e.name() == name.as_bytes()) else {
        return Ok(());
    };
    let address = export.address();
    let section = file.sections().find(|section| {
        address >= section.address() && address - section.address() < section.size()
    });
    let Some(section) = section else {
        return Err("an address outside the library's code");
    };
    match section.flags() {
        object::SectionFlags::Coff { characteristics }
            if characteristics & IMAGE_SCN_MEM_EXECUTE != 0 =>
        {
            Ok(())
        }
        _ => Err("a data symbol"),
    }
}

fn check_function_in<Elf: FileHeader<Endian = Endianness>>(
    bytes: &[u8],
    name: &str,
) -> Result<(), &'static str> {
    let Ok(file) = ElfFile::<Elf>::parse(bytes) else {
        // Structure problems are `check`'s to report.
        return Ok(());
    };
    let Some(symbol) = file
        .dynamic_symbols()
        .find(|s| s.is_definition() && s.name() == Ok(name))
    else {
        return Ok(());
    };
    match symbol.kind() {
        SymbolKind::Data => return Err("a data symbol"),
        SymbolKind::Tls => return Err("a thread-local symbol"),
        _ => {}
    }
    let address = symbol.address();
    let in_code = file.segments().any(|segment| {
        let executable = match segment.flags() {
            object::SegmentFlags::Elf { p_flags } => p_flags & PF_X != 0,
            _ => false,
        };
        executable && address >= segment.address() && address - segment.address() < segment.size()
    });
    if in_code {
        Ok(())
    } else {
        Err("an address outside the library's code")
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use object::pe::{IMAGE_FILE_MACHINE_AMD64, IMAGE_FILE_MACHINE_ARM64};

    /// Reads the test's own executable: an ELF file where the platform's
    /// executables are ELF (not PE on Windows, nor Mach-O on macOS).
    #[test]
    #[cfg(all(unix, not(target_vendor = "apple")))]
    fn a_whole_file_passes_and_every_cut_of_it_fails() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let len = exe.len() as u64;
        assert_eq!(check(&exe, len), Ok(()));
        assert_eq!(check(&exe[..exe.len().min(64 * 1024)], len), Ok(()));
        for cut in [10, 64, 1000, exe.len() / 2, exe.len() - 1] {
            assert!(check(&exe[..cut], cut as u64).is_err(), "cut at {cut}");
        }
        assert_eq!(check(b"not elf at all", 14), Ok(()));
    }

    /// A 64-bit little-endian ELF header of a shared object with the given
    /// table offsets, followed by one empty (`PT_NULL`) program header.
    fn header(phoff: u64, shoff: u64) -> Vec<u8> {
        let mut h = vec![0u8; 64 + 56];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2; // ELFCLASS64
        h[5] = 1; // little-endian
        h[6] = 1; // EV_CURRENT
        h[16..18].copy_from_slice(&3u16.to_le_bytes()); // ET_DYN
        h[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[32..40].copy_from_slice(&phoff.to_le_bytes());
        h[40..48].copy_from_slice(&shoff.to_le_bytes());
        h[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        h[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        h[56..58].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        h[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        h[60..62].copy_from_slice(&1u16.to_le_bytes()); // e_shnum
        h
    }

    #[test]
    fn table_offsets_near_the_top_of_the_range_are_refused_not_wrapped() {
        // Offset plus the table's size passes u64::MAX: a wrapping sum would
        // come out small and pass the length check.
        let huge = u64::MAX - 8;
        let e = check(&header(huge, 0), 1 << 20).unwrap_err();
        assert_eq!(
            e,
            "the program header table's range overflows (offset 18446744073709551607, 1 entries of 56 bytes)"
        );
        let e = check(&header(64, huge), 1 << 20).unwrap_err();
        assert_eq!(
            e,
            "the section header table's range overflows (offset 18446744073709551607, 1 entries of 64 bytes)"
        );
    }

    /// The headers of a PE32+ DLL: DOS header, signature, COFF header, an
    /// optional header of 240 bytes (whose `SizeOfHeaders` is 0x400), one
    /// section with 0x200 bytes of data at 0x400, and a symbol table of 10
    /// symbols at 0x600: a whole file is 0x600 + 180 bytes.
    fn pe() -> Vec<u8> {
        let mut b = vec![0u8; 0x400];
        b[..2].copy_from_slice(b"MZ");
        b[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
        b[0x40..0x44].copy_from_slice(b"PE\0\0");
        let coff = 0x44;
        b[coff..coff + 2].copy_from_slice(&IMAGE_FILE_MACHINE_AMD64.to_le_bytes());
        b[coff + 2..coff + 4].copy_from_slice(&1u16.to_le_bytes());
        b[coff + 8..coff + 12].copy_from_slice(&0x600u32.to_le_bytes());
        b[coff + 12..coff + 16].copy_from_slice(&10u32.to_le_bytes());
        b[coff + 16..coff + 18].copy_from_slice(&240u16.to_le_bytes());
        let optional = coff + 20;
        b[optional..optional + 2]
            .copy_from_slice(&object::pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC.to_le_bytes());
        b[optional + 60..optional + 64].copy_from_slice(&0x400u32.to_le_bytes());
        let section = optional + 240;
        b[section..section + 5].copy_from_slice(b".text");
        b[section + 16..section + 20].copy_from_slice(&0x200u32.to_le_bytes());
        b[section + 20..section + 24].copy_from_slice(&0x400u32.to_le_bytes());
        b
    }

    #[test]
    fn a_pe_file_is_whole_only_with_every_section_and_its_symbols() {
        let head = pe();
        let whole = 0x600 + 180;
        assert_eq!(check(&head, whole), Ok(()));
        assert!(super::looks_whole(&head, whole) == cfg!(windows));
        assert_eq!(
            check(&head, whole - 1),
            Err(format!(
                "truncated: the symbol table needs bytes up to {whole} but the file has {}",
                whole - 1
            ))
        );
        assert_eq!(
            check(&head, 0x5ff),
            Err("truncated: a section needs bytes up to 1536 but the file has 1535".into())
        );
        assert_eq!(
            check(&head, 0x3ff),
            Err("truncated: the PE header needs bytes up to 1024 but the file has 1023".into())
        );
        assert_eq!(
            check(&head[..0x100], 0x100),
            Err("truncated: the section table needs bytes up to 368 but the file has 256".into())
        );
        // Headers cut anywhere before the section table's end (368): an
        // error, never a panic or a pass.
        for cut in 2..368 {
            assert!(check(&head[..cut], whole).is_err(), "{cut}");
        }
        let mut moved = head.clone();
        moved[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(check(&moved, whole).is_err());
    }

    #[test]
    fn a_pe_file_names_its_machine() {
        let head = pe();
        let machine = super::Machine::of(&head).unwrap();
        assert_eq!(machine.to_string(), "x86_64");
        let mut arm = head.clone();
        arm[0x44..0x46].copy_from_slice(&IMAGE_FILE_MACHINE_ARM64.to_le_bytes());
        assert_eq!(super::Machine::of(&arm).unwrap().to_string(), "aarch64");
        // A PE file is not compared with an ELF host, nor the reverse: the
        // dynamic loader refuses the other format by itself.
        assert_eq!(
            super::check_machine(&arm).is_err(),
            cfg!(all(windows, target_arch = "x86_64"))
        );
    }
}
