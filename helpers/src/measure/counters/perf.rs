//! `perf_event_open(2)`: one counter per event and thread, read as one group.

#[cfg(not(target_os = "linux"))]
pub(super) use elsewhere::EventGroup;
#[cfg(target_os = "linux")]
pub(super) use linux::EventGroup;

#[cfg(target_os = "linux")]
mod linux {
    use super::super::EventSpec;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// `struct perf_event_attr` up to `config2` (`PERF_ATTR_SIZE_VER1`, 72 bytes); the kernel
    /// accepts this older size and zero-fills the rest.
    #[repr(C)]
    #[derive(Default)]
    struct Attr {
        kind: u32,
        size: u32,
        config: u64,
        sample_period: u64,
        sample_type: u64,
        read_format: u64,
        flags: u64,
        wakeup_events: u32,
        bp_type: u32,
        config1: u64,
        config2: u64,
    }

    const FLAG_DISABLED: u64 = 1 << 0;
    const FLAG_INHERIT: u64 = 1 << 1;
    const FLAG_EXCLUDE_KERNEL: u64 = 1 << 5;
    const FLAG_EXCLUDE_HV: u64 = 1 << 6;
    const READ_TOTAL_TIME_ENABLED: u64 = 1;
    const READ_TOTAL_TIME_RUNNING: u64 = 2;
    const IOC_ENABLE: libc::c_ulong = 0x2400;
    const IOC_DISABLE: libc::c_ulong = 0x2401;
    const IOC_RESET: libc::c_ulong = 0x2403;
    const FLAG_FD_CLOEXEC: libc::c_ulong = 8;

    /// One event opened on every thread.
    pub(in crate::measure::counters) struct EventGroup {
        fds: Vec<OwnedFd>,
    }

    impl EventGroup {
        pub(in crate::measure::counters) fn open(
            spec: &EventSpec,
            threads: &[i32],
        ) -> Result<EventGroup, String> {
            let mut fds = Vec::with_capacity(threads.len());
            for &thread in threads {
                match open_one(spec, thread, false).or_else(|_| open_one(spec, thread, true)) {
                    Ok(fd) => fds.push(fd),
                    // A thread that ended since it was listed is no loss.
                    Err(error) if error.raw_os_error() == Some(libc::ESRCH) => {}
                    Err(error) => return Err(describe(&error)),
                }
            }
            Ok(EventGroup { fds })
        }

        pub(in crate::measure::counters) fn reset_and_enable(&self) {
            for fd in &self.fds {
                // SAFETY: plain ioctls on a perf event descriptor we own.
                unsafe {
                    libc::ioctl(fd.as_raw_fd(), IOC_RESET, 0);
                    libc::ioctl(fd.as_raw_fd(), IOC_ENABLE, 0);
                }
            }
        }

        pub(in crate::measure::counters) fn disable(&self) {
            for fd in &self.fds {
                // SAFETY: as above.
                unsafe { libc::ioctl(fd.as_raw_fd(), IOC_DISABLE, 0) };
            }
        }

        /// The summed count, scaled up where the kernel multiplexed the counter.
        pub(in crate::measure::counters) fn read(self) -> Result<u64, String> {
            let mut total = 0.0;
            for fd in &self.fds {
                let mut values = [0u64; 3];
                // SAFETY: reads at most the buffer's size into it.
                let read = unsafe {
                    libc::read(
                        fd.as_raw_fd(),
                        values.as_mut_ptr().cast(),
                        std::mem::size_of_val(&values),
                    )
                };
                if read != std::mem::size_of_val(&values) as isize {
                    return Err(describe(&std::io::Error::last_os_error()));
                }
                let [value, enabled, running] = values;
                total += if running == 0 {
                    0.0
                } else {
                    value as f64 * enabled as f64 / running as f64
                };
            }
            Ok(total.round() as u64)
        }
    }

    fn open_one(spec: &EventSpec, thread: i32, user_only: bool) -> std::io::Result<OwnedFd> {
        let mut flags = FLAG_DISABLED | FLAG_INHERIT | FLAG_EXCLUDE_HV;
        if user_only {
            flags |= FLAG_EXCLUDE_KERNEL; // allowed where perf_event_paranoid forbids kernel counts
        }
        let attr = Attr {
            kind: spec.kind,
            size: std::mem::size_of::<Attr>() as u32,
            config: spec.config,
            read_format: READ_TOTAL_TIME_ENABLED | READ_TOTAL_TIME_RUNNING,
            flags,
            ..Attr::default()
        };
        // SAFETY: perf_event_open reads `attr` (valid for its declared size) and returns a new fd.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const Attr,
                thread,
                -1,
                -1,
                FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the kernel returned a fresh descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    fn describe(error: &std::io::Error) -> String {
        match error.raw_os_error() {
            Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) | Some(libc::ENODEV) => {
                "not supported by this CPU or hypervisor".into()
            }
            Some(libc::EACCES) | Some(libc::EPERM) => {
                "not permitted (see /proc/sys/kernel/perf_event_paranoid)".into()
            }
            Some(libc::ENOSYS) => "the kernel has no perf_event_open".into(),
            _ => error.to_string(),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod elsewhere {
    use super::super::EventSpec;

    pub(in crate::measure::counters) struct EventGroup;

    impl EventGroup {
        pub(in crate::measure::counters) fn open(
            _: &EventSpec,
            _: &[i32],
        ) -> Result<EventGroup, String> {
            Err("perf_event_open exists only on Linux".into())
        }
        pub(in crate::measure::counters) fn reset_and_enable(&self) {}
        pub(in crate::measure::counters) fn disable(&self) {}
        pub(in crate::measure::counters) fn read(self) -> Result<u64, String> {
            Err("perf_event_open exists only on Linux".into())
        }
    }
}
