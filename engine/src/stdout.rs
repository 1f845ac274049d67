//! Printing results to standard output when the reader may go away: `engine inspect … | head`
//! closes the pipe after ten lines, and `println!` would panic on the next write. Here the first
//! write to a closed pipe marks standard output gone and every later one is skipped, so the
//! command ends as it would have (its store closed, its run recorded) without printing.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static GONE: AtomicBool = AtomicBool::new(false);

/// Writes `args` (and a newline when `newline`) to standard output, unless its reader is gone.
pub fn write(args: Arguments, newline: bool) {
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
            eprintln!("error: cannot write to standard output: {err}");
        }
    }
}

/// Whether standard output's reader has gone away (a command that follows a run stops then).
pub fn gone() -> bool {
    GONE.load(Ordering::Relaxed)
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

/// `print!` that survives a closed pipe (see the module).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), false)
    };
}
