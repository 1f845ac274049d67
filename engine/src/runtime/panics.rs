//! Turning a panic inside an operator into an error record instead of noise on stderr.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static INSIDE_OPERATOR: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that stays quiet for panics caught by [`catch`] and records
/// their message and place; other panics go to the default hook.
pub fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if operators::caught::is_catching() {
                // The operator catches it and reports it as an error or warning itself.
            } else if INSIDE_OPERATOR.with(Cell::get) {
                let message = payload_text(info.payload());
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                LAST_PANIC.with(|last| *last.borrow_mut() = Some(format!("{message}{place}")));
            } else {
                default(info);
            }
        }));
    });
}

/// The message a panic carried.
pub fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Runs `work`; a panic becomes `Err("operator panicked: …")`.
pub fn catch<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    install_hook();
    INSIDE_OPERATOR.with(|inside| inside.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(work));
    INSIDE_OPERATOR.with(|inside| inside.set(false));
    match result {
        Ok(result) => result,
        Err(payload) => {
            let message = LAST_PANIC
                .with(|last| last.borrow_mut().take())
                .unwrap_or_else(|| payload_text(payload.as_ref()));
            Err(anyhow::anyhow!(
                "operator panicked: {message} (this is a bug in the operator; please report it)"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message() {
        let err = catch::<()>(|| panic!("boom {}", 42)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("operator panicked: boom 42"), "{text}");
        assert!(text.contains("panics.rs"), "{text}");
        assert_eq!(catch(|| Ok(7)).unwrap(), 7);
    }
}
