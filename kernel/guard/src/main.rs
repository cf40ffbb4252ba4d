//! `hpr-kernel-guard`: the process Jupyter starts for the notebooks' `rust` kernel (through
//! `kernel/launcher`). It runs evcxr_jupyter as its child and makes sure that nothing the
//! kernel started outlives it, or outlives the cell that started it.
//!
//! ```text
//! hpr-kernel-guard run -- <evcxr_jupyter> <its arguments>
//! ```
//!
//! - **A build folder**: the first free slot of `$HPR_EVCXR_BUILD_DIR` (default
//!   `~/.cache/hpr/evcxr-build`), trimmed when taken and held under `$HPR_EVCXR_BUILD_MIB`
//!   (8192 by default) across slots, see `slots`. With every slot held, or with
//!   `HPR_EVCXR_BUILD_DIR=none`, a fresh folder inside the kernel's private folder, so it goes with
//!   the kernel (evcxr's own temporary folder would stay behind when the kernel is killed).
//! - **A private folder** (`$HPR_WORK_DIR`, see `folders`) for the files the chapters write, with
//!   the kernel's temporary directory (`$TMPDIR`) inside it.
//! - **Every process tagged**: `HPR_KERNEL_TAG=<pid>-<start>` is in the environment of everything
//!   the kernel starts, so its processes are found wherever they went (a new session, a new
//!   process group, a daemon's double fork).
//! - **A cell interrupted**: Jupyter's stop button makes evcxr kill its runner, the process that
//!   runs the cells. This process is a child subreaper (`PR_SET_CHILD_SUBREAPER`): what the runner
//!   started comes to it when the runner dies, and it kills all of it.
//! - **The kernel ending**: when evcxr_jupyter exits (shut down, or killed alone, as the OOM
//!   killer would), when Jupyter's server dies (`PR_SET_PDEATHSIG`), or on `SIGTERM`, it kills
//!   every tagged process, removes the private folder and exits.
//! - **This process killed** (Jupyter kills the kernel's process group on a restart): a watcher
//!   it started in a session of its own sees its pipe close and does the same cleaning.
//! - **After a crash of everything**: each new kernel first kills the tagged processes of guards
//!   that no longer run and removes their private folders.

mod folders;
mod procs;
mod slots;

/// A new, empty folder `hpr-guard-<test>-<pid>` in the temporary directory, for one unit test.
#[cfg(test)]
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hpr-guard-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const BUILD_DIR_ENV: &str = "HPR_EVCXR_BUILD_DIR";
const BUILD_MIB_ENV: &str = "HPR_EVCXR_BUILD_MIB";
const DEFAULT_BUILD_MIB: u64 = 8192;
/// How often the guard looks at the kernel's processes.
const POLL: Duration = Duration::from_millis(100);
/// How long killing a kernel's processes may take before the guard gives up on stragglers.
const PATIENCE: Duration = Duration::from_secs(5);

static STOP: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") if args.get(1).map(String::as_str) == Some("--") && args.len() > 2 => {
            run(&args[2..])
        }
        Some("watch") if args.len() == 3 => watch(&args[1], Path::new(&args[2])),
        Some("sweep") if args.len() == 1 => {
            let (processes, folders) = sweep();
            println!("killed {processes} processes and removed {folders} folders of kernels gone");
            Ok(0)
        }
        _ => Err("usage: hpr-kernel-guard run -- <program> [args…] | sweep".to_owned()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("hpr-kernel-guard: {error}");
            ExitCode::from(1)
        }
    }
}

/// Kills the processes and removes the private folders of kernels whose guard is gone.
fn sweep() -> (usize, usize) {
    let processes = procs::kill_until_none(|| procs::tagged(None), PATIENCE);
    let folders = folders::remove_stale(&std::env::temp_dir());
    (processes, folders)
}

fn run(program: &[String]) -> Result<u8, String> {
    let parent = std::os::unix::process::parent_id();
    // SAFETY: prctl with integer arguments; it changes only this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    }
    if std::os::unix::process::parent_id() != parent {
        return Err("the process that started the kernel is gone".to_owned());
    }
    let tag = procs::tag_of(std::process::id()).ok_or("cannot read /proc/self/stat")?;
    sweep();

    let temp = std::env::temp_dir();
    let work = folders::make_private(&temp, &tag)
        .map_err(|e| format!("cannot make a private folder in {}: {e}", temp.display()))?;
    // The watcher holds the read end of a pipe whose write end only this process has.
    // It runs in a session of its own, out of reach of signals sent to the kernel's group.
    let mut watcher = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    watcher
        .args(["watch", &tag])
        .arg(&work)
        .stdin(Stdio::piped())
        .env_remove(procs::TAG_ENV);
    // SAFETY: setsid is async-signal-safe and allocates nothing.
    unsafe {
        watcher.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let watcher = watcher
        .spawn()
        .map_err(|e| format!("cannot start the watcher: {e}"))?;
    let watcher_pid = watcher.id();
    let _pipe = watcher.stdin;

    let (slot, build_folder) = build_folder(&work);
    // The kernel's temporary directory too, so that what a tool makes there (evcxr's own
    // folders, a build's scratch files) goes with the kernel even when nothing removes it.
    let temp_dir = work.join("tmp");
    for folder in [&build_folder, &temp_dir] {
        std::fs::create_dir_all(folder)
            .map_err(|e| format!("cannot make {}: {e}", folder.display()))?;
    }
    let mut kernel = Command::new(&program[0]);
    kernel
        .args(&program[1..])
        .env(procs::TAG_ENV, &tag)
        .env(folders::WORK_DIR_ENV, &work)
        .env("TMPDIR", &temp_dir)
        .env("EVCXR_TMPDIR", &build_folder);
    let kernel = match kernel.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(format!("cannot start {}: {e}", program[0]));
        }
    };
    let code = supervise(kernel.id(), watcher_pid);
    procs::kill_until_none(|| procs::tagged(Some(&tag)), PATIENCE);
    let _ = std::fs::remove_dir_all(&work);
    drop(slot);
    Ok(code)
}

/// The slot to build in, or a fresh folder in `work` when none can be had (said once).
fn build_folder(work: &Path) -> (Option<slots::Slot>, PathBuf) {
    let base = match std::env::var_os(BUILD_DIR_ENV) {
        Some(dir) if dir == "none" => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|cache| cache.join("hpr/evcxr-build")),
    };
    let why = match &base {
        None => format!("{BUILD_DIR_ENV}=none"),
        Some(base) => match slots::take(base) {
            Ok(Some(slot)) => {
                let mut notes = slots::trim(&slot.folder);
                let limit = std::env::var(BUILD_MIB_ENV)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(DEFAULT_BUILD_MIB);
                notes.extend(slots::hold_under(base, limit << 20, &slot.folder));
                slots::log(&slot.folder, &notes);
                let folder = slot.folder.clone();
                return (Some(slot), folder);
            }
            Ok(None) => format!(
                "all {} build folders of {} are in use by other kernels",
                slots::SLOTS,
                base.display()
            ),
            Err(e) => format!("{} cannot be used: {e}", base.display()),
        },
    };
    eprintln!(
        "hpr-kernel-guard: {why}; this kernel builds in a new folder, from scratch (its first \
         cells compile their crates again), and the folder goes with the kernel"
    );
    (None, work.join("build"))
}

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Waits for the kernel to end, killing what an ended runner left behind; returns the kernel's
/// exit code.
fn supervise(kernel: u32, watcher: u32) -> u8 {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe. SIGINT reaches the
    // whole process group from a terminal: evcxr_jupyter handles it, this process ignores it.
    unsafe {
        libc::signal(libc::SIGTERM, on_stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGHUP, on_stop as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
    let kernel_program = procs::program_of(kernel);
    let mut runners: Vec<u32> = Vec::new();
    loop {
        if let Some(code) = procs::reap(Some(kernel)) {
            return u8::try_from(code).unwrap_or(1);
        }
        if STOP.load(Ordering::SeqCst) {
            // SAFETY: kill(2) with integers.
            unsafe { libc::kill(kernel as libc::pid_t, libc::SIGTERM) };
            std::thread::sleep(Duration::from_millis(500));
            // `run` kills what is left, as after any end of the kernel.
            return 143;
        }
        // evcxr's runner is a child running evcxr_jupyter's own program.
        let now: Vec<u32> = procs::children_of(kernel)
            .into_iter()
            .filter(|&c| kernel_program.is_some() && procs::program_of(c) == kernel_program)
            .collect();
        if runners.iter().any(|r| !now.contains(r)) {
            // What the dead runner started is now this process's child (or will be when its
            // parent is killed in turn).
            let orphans = || -> Vec<u32> {
                procs::children_of(std::process::id())
                    .into_iter()
                    .filter(|&c| c != kernel && c != watcher)
                    .collect()
            };
            procs::kill_until_none(orphans, PATIENCE);
        }
        runners = now;
        std::thread::sleep(POLL);
    }
}

/// The watcher: waits until the guard's pipe closes (the guard ended, however it ended), then
/// kills what is left of the kernel and removes its private folder.
fn watch(tag: &str, work: &Path) -> Result<u8, String> {
    // SAFETY: setting dispositions to "ignore" involves no handler code.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
    }
    let mut buffer = [0u8; 64];
    let mut stdin = std::io::stdin();
    while !matches!(stdin.read(&mut buffer), Ok(0) | Err(_)) {}
    procs::kill_until_none(|| procs::tagged(Some(tag)), PATIENCE);
    let _ = std::fs::remove_dir_all(work);
    Ok(0)
}
