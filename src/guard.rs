//! Calls into foreign decoders that may panic on malformed input.
//!
//! The parquet crate asserts on some damaged files instead of returning an
//! error (its maintainers consider a panic on corrupt data acceptable). For
//! neardup one damaged file must not end a run over a whole corpus, so such
//! calls go through [`guarded`], which turns the panic into an error about
//! the file. [`is_guarded`] lets a program's panic hook stay quiet about
//! panics that are caught this way and reported as errors.

use std::cell::Cell;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// How many [`guarded`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` and turns a panic inside it into an `InvalidData` error that
/// names `what` failed and carries the panic's message.
///
/// # Errors
///
/// Returns `f`'s error, or the one made from its panic.
///
/// # Example
///
/// ```
/// use neardup::guard::guarded;
///
/// assert_eq!(guarded("the reader", || Ok(7)).unwrap(), 7);
/// let err = guarded::<()>("the reader", || panic!("bad offset")).unwrap_err();
/// assert!(err.to_string().ends_with("bad offset"));
/// ```
pub fn guarded<T>(what: &str, f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    DEPTH.with(|d| d.set(d.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    result.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{what} failed on this file, which is probably damaged: {message}"),
        ))
    })
}

/// Whether the current thread is inside [`guarded`], so that a panic now
/// will be caught and reported as an error.
pub fn is_guarded() -> bool {
    DEPTH.with(Cell::get) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_an_error_and_the_depth_is_restored() {
        assert!(!is_guarded());
        let inside = guarded("x", || Ok(is_guarded())).unwrap();
        assert!(inside);
        let err =
            guarded::<()>("the Parquet reader", || panic!("index {} out of range", 9)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            err.to_string(),
            "the Parquet reader failed on this file, which is probably damaged: index 9 out of range"
        );
        assert!(!is_guarded(), "restored after a panic");
        let err = guarded::<()>("x", || Err(io::Error::other("plain"))).unwrap_err();
        assert_eq!(err.to_string(), "plain");
    }
}
