//! A check of an ELF file's structure before the dynamic loader maps it.
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

use object::elf::{FileHeader32, FileHeader64, PF_X, PT_DYNAMIC, PT_LOAD};
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{Endianness, FileKind, Object, ObjectSegment, ObjectSymbol, SymbolKind};

/// Whether an ELF file of `len` bytes, whose first bytes (at least its
/// headers, which linkers put at the start) are `head`, holds every part its
/// headers point to. Files that are not ELF pass: the
/// dynamic loader refuses them by itself.
pub(crate) fn check(head: &[u8], len: u64) -> Result<(), String> {
    match FileKind::parse(head) {
        Ok(FileKind::Elf64) => check_elf::<FileHeader64<Endianness>>(head, len),
        Ok(FileKind::Elf32) => check_elf::<FileHeader32<Endianness>>(head, len),
        Ok(_) => Ok(()),
        Err(_) if head.starts_with(b"\x7fELF") => Err("malformed ELF header".into()),
        Err(_) => Ok(()),
    }
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

/// A machine, as an ELF header names it: its `e_machine`, class (32 or 64
/// bits) and byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Machine {
    machine: u16,
    bits: u8,
    little_endian: bool,
}

impl Machine {
    /// The machine this host runs on, when it is one ELF names.
    pub(crate) fn host() -> Option<Machine> {
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
            machine,
            bits: if cfg!(target_pointer_width = "64") {
                64
            } else {
                32
            },
            little_endian: cfg!(target_endian = "little"),
        })
    }

    /// The machine an ELF file was built for, or `None` for a file that is
    /// not ELF.
    pub(crate) fn of(head: &[u8]) -> Option<Machine> {
        if head.len() < 20 || !head.starts_with(b"\x7fELF") {
            return None;
        }
        let little_endian = head[5] != 2;
        let bytes = [head[18], head[19]];
        Some(Machine {
            machine: if little_endian {
                u16::from_le_bytes(bytes)
            } else {
                u16::from_be_bytes(bytes)
            },
            bits: if head[4] == 1 { 32 } else { 64 },
            little_endian,
        })
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use object::elf::*;
        let name = match (self.machine, self.bits) {
            (EM_X86_64, 64) => "x86_64".into(),
            (EM_X86_64, _) => "x32".into(),
            (EM_386, _) => "x86".into(),
            (EM_AARCH64, _) => "aarch64".into(),
            (EM_ARM, _) => "arm".into(),
            (EM_RISCV, 64) => "riscv64".into(),
            (EM_RISCV, _) => "riscv32".into(),
            (EM_PPC64, _) => "powerpc64".into(),
            (EM_PPC, _) => "powerpc".into(),
            (EM_S390, _) => "s390x".into(),
            (EM_LOONGARCH, _) => "loongarch64".into(),
            (EM_MIPS, 64) => "mips64".into(),
            (EM_MIPS, _) => "mips".into(),
            (m, bits) => format!("machine {m} ({bits}-bit)"),
        };
        let host_order = Machine::host().is_none_or(|h| h.little_endian == self.little_endian);
        match (self.little_endian, host_order) {
            (_, true) => f.write_str(&name),
            (true, false) => write!(f, "{name} (little-endian)"),
            (false, false) => write!(f, "{name} (big-endian)"),
        }
    }
}

/// Checks an ELF library was built for this host's machine, class and
/// byte order; returns what it was built for, and what the host is, when
/// not. Files that are not ELF pass.
pub(crate) fn check_machine(head: &[u8]) -> Result<(), (Machine, Machine)> {
    match (Machine::of(head), Machine::host()) {
        (Some(found), Some(host)) if found != host => Err((found, host)),
        _ => Ok(()),
    }
}

/// What an export the host calls is, when it is not a function in the
/// library's code: `a data symbol`, `a thread-local symbol`, or `an address
/// outside the library's code`. `Ok` for a function, and for a name the
/// dynamic symbol table does not have (the loader's lookup then says so).
pub(crate) fn check_function(bytes: &[u8], name: &str) -> Result<(), &'static str> {
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => check_function_in::<FileHeader64<Endianness>>(bytes, name),
        Ok(FileKind::Elf32) => check_function_in::<FileHeader32<Endianness>>(bytes, name),
        _ => Ok(()),
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
}
