//! SIGBUS as an input error: the capture reader maps a large file, and a
//! process that truncates it while it is read makes the kernel send SIGBUS
//! at the next touch of a page that is gone. Uncaught, that kills synack
//! with no word; caught, it ends the run as any unreadable input does: a
//! message and exit status 1.

/// The message, written by the handler as is.
const MESSAGE: &[u8] = b"synack: bus error: the capture file was truncated while it was read\n";

/// Installs the handler for the rest of the process.
pub fn catch() {
    let handler: extern "C" fn(libc::c_int) = on_bus_error;
    // SAFETY: the handler calls only write(2) and _exit(2), which are
    // async-signal-safe, and touches no state of the program.
    unsafe { libc::signal(libc::SIGBUS, handler as libc::sighandler_t) };
}

extern "C" fn on_bus_error(_signal: libc::c_int) {
    // SAFETY: both are async-signal-safe; MESSAGE is a static.
    unsafe {
        libc::write(libc::STDERR_FILENO, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(libc::c_int::from(super::EXIT_INPUT));
    }
}
