//! A check of an ELF file's structure before the dynamic loader maps it.
//!
//! glibc's loader trusts the program headers: a file cut short (a build
//! caught half-written, a truncated copy) gets segments mapped past its end,
//! and touching them kills the process with SIGBUS inside `dlopen`. Checking
//! that every table and segment the headers name lies inside the file turns
//! that into an error.

use object::Endianness;
use object::FileKind;
use object::elf::{FileHeader32, FileHeader64, PT_DYNAMIC, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};

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

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
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
