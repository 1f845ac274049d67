//! Printing results to standard output when the reader may go away: `engine inspect … | head`
//! closes the pipe after ten lines, and `println!` would panic on the next write. Here the first
//! write to a closed pipe marks standard output gone and every later one is skipped, so the
//! command ends as it would have (its store closed, its run recorded) without printing.
//!
//! Text for people (`outln!`, `out!`) may carry what documents hold (hit text, titles, doc ids,
//! error messages), and a document can hold terminal control sequences: an escape that
//! recolours the terminal or sets its title, a carriage return that overwrites a line. Every
//! text line goes through [`visible`], which shows control characters instead of sending them;
//! JSON (`jsonln!`) is written as it is: serde escapes what JSON must, and a reader of JSON gets
//! the document's exact text.

use std::borrow::Cow;
use std::fmt::Arguments;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static GONE: AtomicBool = AtomicBool::new(false);

/// Whether `c` is a control character a terminal may act on: C0 but line feed and tab, DEL, C1;
/// or a bidirectional embedding, override or isolate, which makes what follows it read in
/// another order than the text holds (a file name or hit text shown reversed).
fn is_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character but line feed and tab shown as `\u{..}` (ESC as
/// `\u{1b}`, a CR but one before a line feed as `\u{d}`), so printing it cannot move the
/// cursor, recolour or retitle the terminal, or fake a line.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.contains(is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        // A CR that ends a line before its LF (a CRLF file's text) is a line end, not a
        // carriage return that could overwrite what was printed.
        if is_control(c) && !(c == '\r' && chars.peek() == Some(&'\n')) {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// Writes `args` (and a newline when `newline`) to standard output, its control characters
/// shown by [`visible`], unless its reader is gone.
pub fn write(args: Arguments, newline: bool) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let text = args.to_string();
    write_raw(format_args!("{}", visible(&text)), newline);
}

/// Writes `args` as they are (JSON, which serde has escaped), unless the reader is gone.
pub fn write_raw(args: Arguments, newline: bool) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(args).and_then(|()| {
        if newline {
            stdout.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(err) = written {
        GONE.store(true, Ordering::Relaxed);
        if err.kind() != ErrorKind::BrokenPipe {
            write_err(
                format_args!("error: cannot write to standard output: {err}"),
                true,
            );
        }
    }
}

/// Whether standard output's reader has gone away (a command that follows a run stops then).
pub fn gone() -> bool {
    GONE.load(Ordering::Relaxed)
}

/// Writes `args` (and a line end when `newline`) to standard error as it is; a closed pipe
/// (`engine validate … 2>&1 | head -1`) is ignored, where `eprintln!` would panic.
pub fn write_err(args: Arguments, newline: bool) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_fmt(args).and_then(|()| {
        if newline {
            stderr.write_all(b"\n")
        } else {
            Ok(())
        }
    });
}

/// `eprintln!` that survives a closed pipe.
macro_rules! errln {
    () => {
        $crate::stdout::write_err(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::stdout::write_err(format_args!($($arg)*), true)
    };
}

/// `eprint!` that survives a closed pipe.
macro_rules! err_out {
    ($($arg:tt)*) => {
        $crate::stdout::write_err(format_args!($($arg)*), false)
    };
}

/// `println!` that survives a closed pipe (see the module).
macro_rules! outln {
    () => {
        $crate::stdout::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), true)
    };
}

/// One line of JSON (or other machine output), written exactly, surviving a closed pipe.
macro_rules! jsonln {
    ($($arg:tt)*) => {
        $crate::stdout::write_raw(format_args!($($arg)*), true)
    };
}

/// `print!` that survives a closed pipe (see the module).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), false)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bidirectional override or isolate is shown, so text after it reads in its own order;
    /// right-to-left text itself, and its marks, print as they are.
    #[test]
    fn bidirectional_overrides_are_shown_not_sent() {
        assert_eq!(
            visible("invoice \u{202e}txt.exe\u{202c} \u{2067}x\u{2069}"),
            "invoice \\u{202e}txt.exe\\u{202c} \\u{2067}x\\u{2069}"
        );
        assert_eq!(
            visible("שלום \u{200f}עולם مرحبا"),
            "שלום \u{200f}עולם مرحبا"
        );
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert!(matches!(
            visible("plain text\n\twith tab"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            visible("a \u{1b}[31mred\u{1b}[0m \u{1b}]0;PWNED\u{7} cr\rover ab\u{8}\u{8}XY"),
            "a \\u{1b}[31mred\\u{1b}[0m \\u{1b}]0;PWNED\\u{7} cr\\u{d}over ab\\u{8}\\u{8}XY"
        );
        // DEL and the C1 controls (a single-byte CSI is U+009B) too; other text is kept.
        assert_eq!(visible("\u{7f}\u{9b}2J é 漢"), "\\u{7f}\\u{9b}2J é 漢");
        assert_eq!(visible("line\nnext\ttab"), "line\nnext\ttab");
        // A CRLF line end is a line end (a CRLF file printed `\u{d}` at every line), a lone
        // CR is shown.
        assert_eq!(visible("a\r\nb\rc\r"), "a\r\nb\\u{d}c\\u{d}");
    }
}
