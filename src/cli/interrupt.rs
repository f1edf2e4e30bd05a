//! Interrupts: on SIGINT or SIGTERM, delete the temporary files being
//! written, then exit as the signal would have (status 128 + its number:
//! 130, 143).
//!
//! Outputs are written under temporary names and renamed when complete, so
//! an interrupted run never leaves a partial file under a final name; this
//! makes it leave no temporary files either (nor the spooled copy of
//! standard input). Files register with [`track`] and unregister when the
//! returned [`Tracked`] is dropped, after their rename. A file deleted here
//! just before its rename makes the rename fail, and the process is
//! exiting anyway; one renamed just before is complete.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Temporary files that exist now, by registration number.
static PENDING: Mutex<Vec<(u64, PathBuf)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(0);

/// Deletes the tracked files and exits when SIGINT or SIGTERM arrives.
/// Call once, before any file is tracked.
///
/// # Errors
///
/// Returns the error of registering the signal handlers.
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // Held until the exit, so that no file is registered meanwhile.
            let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
            for (_, path) in pending.iter() {
                let _ = std::fs::remove_file(path);
            }
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// Elsewhere the default handling stays: no cleanup on an interrupt.
#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}

/// A temporary file to delete on an interrupt while this lives.
#[derive(Debug)]
pub struct Tracked(u64);

/// Registers `path` for deletion on an interrupt until the result is
/// dropped.
pub fn track(path: PathBuf) -> Tracked {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    PENDING
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, path));
    Tracked(id)
}

impl Drop for Tracked {
    fn drop(&mut self) {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.0);
    }
}
