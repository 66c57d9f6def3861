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

/// Whether `bytes` hold every part of an ELF file its headers point to.
/// Files that are not ELF pass: the dynamic loader refuses them by itself.
pub(crate) fn check(bytes: &[u8]) -> Result<(), String> {
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => check_elf::<FileHeader64<Endianness>>(bytes),
        Ok(FileKind::Elf32) => check_elf::<FileHeader32<Endianness>>(bytes),
        Ok(_) => Ok(()),
        Err(_) if bytes.starts_with(b"\x7fELF") => Err("malformed ELF header".into()),
        Err(_) => Ok(()),
    }
}

fn check_elf<Elf: FileHeader<Endian = Endianness>>(data: &[u8]) -> Result<(), String> {
    let len = data.len();
    let header = Elf::parse(data).map_err(|e| format!("malformed ELF header: {e}"))?;
    let endian = header
        .endian()
        .map_err(|e| format!("malformed ELF header: {e}"))?;
    let segments = header.program_headers(endian, data).map_err(|_| {
        format!("truncated: the program headers run past the end of the file ({len} bytes)")
    })?;
    for ph in segments {
        let kind = ph.p_type(endian);
        if kind != PT_LOAD && kind != PT_DYNAMIC {
            continue;
        }
        if ph.data(endian, data).is_err() {
            let (offset, size) = ph.file_range(endian);
            return Err(format!(
                "truncated: a segment needs bytes {offset}..{} but the file has {len}",
                offset.saturating_add(size)
            ));
        }
    }
    header.section_headers(endian, data).map_err(|_| {
        format!("truncated: the section headers run past the end of the file ({len} bytes)")
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn a_whole_file_passes_and_every_cut_of_it_fails() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(check(&exe), Ok(()));
        for cut in [10, 64, 1000, exe.len() / 2, exe.len() - 1] {
            assert!(check(&exe[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(check(b"not elf at all"), Ok(()));
    }
}
