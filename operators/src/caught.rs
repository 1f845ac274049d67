//! Panics that an operator catches itself (inside third-party code such as a PDF library) and
//! turns into an error or a warning. A program's panic hook asks [`is_catching`] so that it can
//! stay quiet about them: they are reported as errors, not as noise on stderr.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    static CATCHING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `work`, catching a panic; while it runs, [`is_catching`] is true on this thread.
pub fn catch_quietly<T>(work: impl FnOnce() -> T) -> std::thread::Result<T> {
    let outer = CATCHING.with(|catching| catching.replace(true));
    let result = catch_unwind(AssertUnwindSafe(work));
    CATCHING.with(|catching| catching.set(outer));
    result
}

/// Whether a panic on this thread now would be caught by [`catch_quietly`].
pub fn is_catching() -> bool {
    CATCHING.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_holds_inside_nested_catches_only() {
        assert!(!is_catching());
        let inner = catch_quietly(|| {
            let nested = catch_quietly(is_catching).unwrap();
            (nested, is_catching())
        });
        assert_eq!(inner.unwrap(), (true, true));
        assert!(!is_catching());
        assert!(catch_quietly(|| panic!("caught")).is_err());
        assert!(!is_catching(), "a panic must not leave the flag set");
    }
}
