//! Naming the sampled frames so that a reader can tell whose code each one is.

/// The name a sampled frame is shown with: the demangled name without its hash for code of
/// the notebook and its crates; for code inside a system library, the symbol followed by the
/// library in brackets. glibc's `hypot` calls a static helper named `kernel`, which alone
/// reads like the operating system's kernel; shown as `kernel [libm.so.6]` it reads for what
/// it is. Frames the unwinder could not name at all become `[unknown in libm.so.6]`.
pub(super) fn label(symbol: &pprof::Symbol) -> String {
    let name = clean_name(&symbol.name());
    let library = symbol.addr.and_then(system_library);
    match (name.as_str(), library) {
        ("Unknown", Some(library)) => format!("[unknown in {library}]"),
        ("Unknown", None) => "[unknown]".to_owned(),
        (_, Some(library)) => format!("{name} [{library}]"),
        (_, None) => name,
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

    fn symbol(name: &str, addr: Option<*mut std::ffi::c_void>) -> pprof::Symbol {
        pprof::Symbol {
            name: Some(name.as_bytes().to_vec()),
            addr,
            lineno: None,
            filename: None,
        }
    }

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
    fn a_frame_in_libm_names_its_library() {
        // `hypot` from the C library: its address lies in libm (or libc, where they merged).
        let hypot = libc_hypot as *mut std::ffi::c_void;
        let label = label(&symbol("kernel", Some(hypot)));
        assert!(
            label.starts_with("kernel [lib") && label.ends_with(']'),
            "{label}"
        );
        let own = label_of_own_code();
        assert_eq!(own, "hpr::own_code");
        assert_eq!(self::label(&symbol("Unknown", None)), "[unknown]");
    }

    fn label_of_own_code() -> String {
        let here = label_of_own_code as *mut std::ffi::c_void;
        label(&symbol("hpr::own_code::h0123456789abcdef", Some(here)))
    }

    extern "C" {
        #[link_name = "hypot"]
        fn libc_hypot(x: f64, y: f64) -> f64;
    }
}
