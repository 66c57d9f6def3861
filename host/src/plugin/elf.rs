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
    let ph_end = header.e_phoff(endian).into()
        + u64::from(header.e_phnum(endian)) * u64::from(header.e_phentsize(endian));
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
    let sh_end = header.e_shoff(endian).into()
        + u64::from(header.e_shnum(endian)) * u64::from(header.e_shentsize(endian));
    if sh_end > len {
        return Err(truncated("the section header table", sh_end));
    }
    Ok(())
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
}
