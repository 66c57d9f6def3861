//! Windows file security, as the trust checks and the copy directory read
//! it: a file's owner and the access its list (DACL) allows to whom.
//!
//! Accounts are compared by their SID strings (`S-1-5-18`); the trusted
//! ones are this process's user and the system's own: SYSTEM,
//! Administrators and TrustedInstaller (whoever is one of those can replace
//! any file anyway, as root can on Unix).

use std::ffi::OsStr;
use std::os::windows::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, GetAce, GetTokenInformation,
    INHERIT_ONLY_ACE, LookupAccountSidW, OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
    SECURITY_ATTRIBUTES, SID_NAME_USE, TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::Storage::FileSystem::CreateDirectoryW;
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

/// SYSTEM, Administrators, TrustedInstaller.
const SYSTEM_ACCOUNTS: [&str; 3] = [
    "S-1-5-18",
    "S-1-5-32-544",
    "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464",
];
/// Everyone: how a missing DACL (no list at all: full access to all) is
/// reported.
const EVERYONE: &str = "S-1-1-0";
/// `ACCESS_ALLOWED_ACE_TYPE`.
const ALLOWED: u8 = 0;

/// Rights that let their holder change what a file holds, or replace it:
/// write or append data, delete (and so rename), change the access list or
/// the owner, and the generic rights that include those.
pub(crate) const FILE_CHANGE: u32 =
    0x2 | 0x4 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x4000_0000 | 0x1000_0000;
/// Rights that let their holder replace what a directory holds, or the
/// directory itself: delete entries in it (`FILE_DELETE_CHILD`), delete (so
/// rename) it, change its access list or owner, and the generic rights
/// that include those. Adding entries is not among them: a new entry cannot
/// replace an existing one (the root of a Windows drive lets every user
/// make folders in it).
pub(crate) const DIR_CHANGE: u32 = 0x40 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x1000_0000;
/// Every right.
pub(crate) const ANY_ACCESS: u32 = u32::MAX;

/// This process's user, as a SID string.
pub(crate) fn user() -> &'static str {
    static USER: OnceLock<String> = OnceLock::new();
    USER.get_or_init(|| token_user().unwrap_or_default())
}

fn token_user() -> Option<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: the pseudo-handle of this process needs no closing; `token`
    // is written on success.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw mut token) } == 0 {
        return None;
    }
    // A TOKEN_USER is followed by its SID: 256 bytes hold any.
    let mut buffer = [0u64; 32];
    let mut len = 0u32;
    // SAFETY: the buffer is writable for its size in bytes, aligned for a
    // TOKEN_USER; `token` was opened above and is closed once, after.
    let ok = unsafe {
        let ok = GetTokenInformation(
            token,
            TokenUser,
            buffer.as_mut_ptr().cast(),
            std::mem::size_of_val(&buffer) as u32,
            &raw mut len,
        );
        CloseHandle(token);
        ok
    };
    if ok == 0 {
        return None;
    }
    // SAFETY: on success the buffer starts with a TOKEN_USER whose SID
    // points inside the buffer.
    let sid = unsafe { (*buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid };
    // SAFETY: as above.
    unsafe { sid_string(sid) }
}

/// OWNER RIGHTS: whoever owns the object, whom the checks require to be
/// trusted already.
const OWNER_RIGHTS: &str = "S-1-3-4";

/// Whether `sid` is this user or one of the system's accounts (or stands
/// for the owner, checked on its own).
pub(crate) fn trusted(sid: &str) -> bool {
    sid == user() || sid == OWNER_RIGHTS || SYSTEM_ACCOUNTS.contains(&sid)
}

/// A file's or directory's owner and the access its DACL allows, per
/// account: what [`read`] returns.
pub(crate) struct Security {
    /// The owner's SID string.
    pub(crate) owner: String,
    /// Each allow entry that applies to the object itself (not only to
    /// what is created in it): the account's SID string and its rights.
    /// `None` for no DACL at all, which allows everyone everything.
    pub(crate) allowed: Option<Vec<(String, u32)>>,
}

impl Security {
    /// The first account but this user and the system's own that the
    /// list allows any of `rights`, with what it allows.
    pub(crate) fn others_with(&self, rights: u32) -> Option<(String, u32)> {
        let Some(allowed) = &self.allowed else {
            return Some((EVERYONE.to_owned(), ANY_ACCESS));
        };
        allowed
            .iter()
            .find(|(sid, mask)| mask & rights != 0 && !trusted(sid))
            .cloned()
    }
}

/// Reads the owner and the DACL of the file or directory at `path`.
pub(crate) fn read(path: &Path) -> std::io::Result<Security> {
    let wide = wide(path.as_os_str());
    let mut owner: PSID = std::ptr::null_mut();
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: `wide` is a NUL-terminated path; the out pointers are valid;
    // on success `owner` and `dacl` point into `descriptor`, which is freed
    // once, below, after they are read.
    let status = unsafe {
        GetNamedSecurityInfoW(
            wide.as_ptr(),
            SE_FILE_OBJECT,
            OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION,
            &raw mut owner,
            std::ptr::null_mut(),
            &raw mut dacl,
            std::ptr::null_mut(),
            &raw mut descriptor,
        )
    };
    if status != 0 {
        return Err(std::io::Error::from_raw_os_error(status as i32));
    }
    // SAFETY: as above: `owner` and `dacl` (when not null) are valid while
    // `descriptor` is.
    let security = unsafe {
        Security {
            owner: sid_string(owner).unwrap_or_default(),
            allowed: (!dacl.is_null()).then(|| allowed(dacl)),
        }
    };
    // SAFETY: `descriptor` was allocated by the call above for this caller.
    unsafe { LocalFree(descriptor) };
    Ok(security)
}

/// The allow entries of `dacl` that apply to its object.
///
/// # Safety
///
/// `dacl` must point to a valid ACL.
unsafe fn allowed(dacl: *mut ACL) -> Vec<(String, u32)> {
    // SAFETY: the caller's promise.
    let count = unsafe { (*dacl).AceCount };
    let mut entries = Vec::new();
    for i in 0..u32::from(count) {
        let mut ace: *mut std::ffi::c_void = std::ptr::null_mut();
        // SAFETY: `i` is below the ACL's count; `ace` is written on success.
        if unsafe { GetAce(dacl, i, &raw mut ace) } == 0 {
            continue;
        }
        // SAFETY: every ACE starts with its header.
        let header = unsafe { *ace.cast::<ACE_HEADER>() };
        if header.AceType != ALLOWED || u32::from(header.AceFlags) & INHERIT_ONLY_ACE != 0 {
            continue;
        }
        let ace = ace.cast::<ACCESS_ALLOWED_ACE>();
        // SAFETY: an allow ACE is an ACCESS_ALLOWED_ACE, whose SID starts
        // at `SidStart` and lies inside the ACE.
        let (mask, sid) = unsafe { ((*ace).Mask, sid_string((&raw mut (*ace).SidStart).cast())) };
        if let Some(sid) = sid {
            entries.push((sid, mask));
        }
    }
    entries
}

/// `sid` as its string (`S-1-5-18`).
///
/// # Safety
///
/// `sid` must point to a valid SID (or be null: `None`).
unsafe fn sid_string(sid: PSID) -> Option<String> {
    if sid.is_null() {
        return None;
    }
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: the caller's promise; `text` is allocated by the call and
    // freed once, below.
    if unsafe { ConvertSidToStringSidW(sid, &raw mut text) } == 0 {
        return None;
    }
    // SAFETY: the call wrote a NUL-terminated string.
    let string = unsafe { from_wide(text) };
    // SAFETY: allocated by ConvertSidToStringSidW for this caller.
    unsafe { LocalFree(text.cast()) };
    Some(string)
}

/// An account for messages: `Everyone (S-1-1-0)`, `BUILTIN\Users
/// (S-1-5-32-545)`, or the SID alone when it names no account here.
pub(crate) fn account(sid: &str) -> String {
    use windows_sys::Win32::Security::Authorization::ConvertStringSidToSidW;
    let wide_sid = wide(OsStr::new(sid));
    let mut psid: PSID = std::ptr::null_mut();
    // SAFETY: a NUL-terminated string; `psid` is allocated by the call and
    // freed once, below.
    if unsafe { ConvertStringSidToSidW(wide_sid.as_ptr(), &raw mut psid) } == 0 {
        return sid.to_owned();
    }
    let mut name = [0u16; 256];
    let mut domain = [0u16; 256];
    let (mut name_len, mut domain_len) = (name.len() as u32, domain.len() as u32);
    let mut kind: SID_NAME_USE = 0;
    // SAFETY: the buffers are writable for the lengths given, in
    // characters; `psid` is valid until freed after the call.
    let found = unsafe {
        let found = LookupAccountSidW(
            std::ptr::null(),
            psid,
            name.as_mut_ptr(),
            &raw mut name_len,
            domain.as_mut_ptr(),
            &raw mut domain_len,
            &raw mut kind,
        );
        LocalFree(psid);
        found
    };
    if found == 0 {
        return sid.to_owned();
    }
    let name = String::from_utf16_lossy(&name[..name_len as usize]);
    let domain = String::from_utf16_lossy(&domain[..domain_len as usize]);
    if domain.is_empty() {
        format!("{name} ({sid})")
    } else {
        format!("{domain}\\{name} ({sid})")
    }
}

/// Makes the directory `dir` with a protected DACL that allows this user
/// everything and nobody else anything (inherited by what is created in
/// it): Windows' counterpart of a directory of mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let sddl = wide(OsStr::new(&format!("D:P(A;OICI;FA;;;{})", user())));
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: a NUL-terminated string; `descriptor` is allocated by the
    // call and freed once, below.
    let made = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &raw mut descriptor,
            std::ptr::null_mut(),
        )
    };
    if made == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    let path = wide(dir.as_os_str());
    // SAFETY: a NUL-terminated path and valid attributes, whose descriptor
    // lives until it is freed after the call.
    let created = unsafe { CreateDirectoryW(path.as_ptr(), &raw const attributes) };
    let result = if created == 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    };
    // SAFETY: allocated by the conversion above for this caller.
    unsafe { LocalFree(descriptor) };
    result
}

fn wide(text: &OsStr) -> Vec<u16> {
    text.encode_wide().chain(std::iter::once(0)).collect()
}

/// # Safety
///
/// `text` must point to a NUL-terminated UTF-16 string.
unsafe fn from_wide(text: *const u16) -> String {
    let mut len = 0;
    // SAFETY: the caller's promise: every unit up to the NUL is readable.
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units were just read.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, len) })
}
