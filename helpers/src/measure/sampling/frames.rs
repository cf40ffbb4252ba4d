//! Naming the sampled frames so that a reader can tell whose code each one is.

/// The names of one sampled frame, outermost first (a frame holds several functions where
/// some were inlined into it).
pub(super) fn labels(frame: &backtrace::Frame) -> Vec<String> {
    let library = system_library(frame.ip());
    let mut names = Vec::new();
    backtrace::resolve_frame(frame, |symbol| {
        let name = symbol.name().map(|n| n.to_string());
        names.push(label(name.as_deref(), library.as_deref()));
    });
    if names.is_empty() {
        names.push(label(None, library.as_deref()));
    }
    // The resolver reports the innermost inlined function first.
    names.reverse();
    names
}

/// The name a sampled frame is shown with: the demangled name without its hash for code of
/// the notebook and its crates; for code inside a system library, the symbol followed by the
/// library in brackets. glibc's `hypot` calls a static helper named `kernel`, which alone
/// reads like the operating system's kernel; shown as `kernel [libm.so.6]` it reads for what
/// it is. Frames without a symbol become `[unknown in libm.so.6]`.
fn label(name: Option<&str>, library: Option<&str>) -> String {
    match (name.map(clean_name), library) {
        (None, Some(library)) => format!("[unknown in {library}]"),
        (None, None) => "[unknown]".to_owned(),
        (Some(name), Some(library)) => format!("{name} [{library}]"),
        (Some(name), None) => name,
    }
}

/// Removes the hash suffix (`::h0123456789abcdef`) from a demangled Rust name.
pub(super) fn clean_name(name: &str) -> String {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// The file name of the system library (under `/lib` or `/usr/lib`) that holds `address`.
#[cfg(unix)]
fn system_library(address: *mut std::ffi::c_void) -> Option<String> {
    if address.is_null() {
        return None;
    }
    // SAFETY: dladdr only reads the loader's tables; a zeroed Dl_info is a valid out-parameter.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: any address may be asked about; dladdr returns 0 for one it does not know.
    if unsafe { libc::dladdr(address, &mut info) } == 0 || info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dladdr set dli_fname to a NUL-terminated path owned by the loader.
    let path = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) }.to_string_lossy();
    system_library_name(&path)
}

#[cfg(not(unix))]
fn system_library(_: *mut std::ffi::c_void) -> Option<String> {
    None
}

fn system_library_name(path: &str) -> Option<String> {
    let system = ["/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"];
    system
        .iter()
        .any(|prefix| path.starts_with(prefix))
        .then(|| path.rsplit('/').next().unwrap_or(path).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_hashes() {
        assert_eq!(
            clean_name("julia::calculate::h0123456789abcdef"),
            "julia::calculate"
        );
        assert_eq!(clean_name("main"), "main");
    }

    #[test]
    fn system_libraries_are_named_by_file() {
        assert_eq!(
            system_library_name("/lib/x86_64-linux-gnu/libm.so.6").as_deref(),
            Some("libm.so.6")
        );
        assert_eq!(system_library_name("/tmp/evcxr/libcode_3.so"), None);
    }

    #[test]
    fn labels_name_the_library_of_system_code() {
        assert_eq!(
            label(Some("kernel"), Some("libm.so.6")),
            "kernel [libm.so.6]"
        );
        assert_eq!(label(None, Some("libm.so.6")), "[unknown in libm.so.6]");
        assert_eq!(label(Some("user::f::h0123456789abcdef"), None), "user::f");
        assert_eq!(label(None, None), "[unknown]");
    }

    #[test]
    fn addresses_in_libm_are_found_and_our_own_are_not() {
        // `hypot` from the C library: its code lies in libm (or libc, where they merged).
        let hypot = system_library(libc_hypot as *mut std::ffi::c_void).unwrap();
        assert!(hypot.starts_with("lib"), "{hypot}");
        let own = addresses_in_libm_are_found_and_our_own_are_not as *mut std::ffi::c_void;
        assert_eq!(system_library(own), None);
        assert_eq!(system_library(std::ptr::null_mut()), None);
    }

    extern "C" {
        #[link_name = "hypot"]
        fn libc_hypot(x: f64, y: f64) -> f64;
    }
}
