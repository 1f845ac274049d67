//! Where a run's cancel meets its commit. A Ctrl-C that comes once the run's outputs are going
//! into place (sinks moved, indexes switched) cannot undo them: it no longer cancels the run,
//! which ends and is recorded as what it is.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Decides, once, between a run's commit and its cancel.
#[derive(Debug, Default)]
pub struct CommitGate {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    committed: bool,
    /// Ctrl-Cs that came after the commit.
    late: u32,
}

/// What a Ctrl-C did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// The first: the run is cancelled.
    Cancelled,
    /// Another, before the commit: leave at once.
    Again,
    /// The first after the commit: the run ends as it is.
    AfterCommit,
    /// Another after the commit: leave at once, the outputs in place.
    AgainAfterCommit,
}

impl CommitGate {
    /// Commits the run unless `cancel` is set: whether its outputs may go into place. From
    /// then on a Ctrl-C leaves `cancel` alone.
    pub fn commit(&self, cancel: &AtomicBool) -> bool {
        let mut state = self.lock();
        if cancel.load(Ordering::SeqCst) {
            return false;
        }
        state.committed = true;
        true
    }

    /// A Ctrl-C: sets `cancel` unless the run has committed, and says what it did.
    pub fn interrupt(&self, cancel: &AtomicBool) -> Interrupt {
        let mut state = self.lock();
        if state.committed {
            state.late += 1;
            return match state.late {
                1 => Interrupt::AfterCommit,
                _ => Interrupt::AgainAfterCommit,
            };
        }
        match cancel.swap(true, Ordering::SeqCst) {
            false => Interrupt::Cancelled,
            true => Interrupt::Again,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ctrl_c_before_the_commit_cancels_and_one_after_it_does_not() {
        let (gate, cancel) = (CommitGate::default(), AtomicBool::new(false));
        assert_eq!(gate.interrupt(&cancel), Interrupt::Cancelled);
        assert!(!gate.commit(&cancel), "a cancelled run commits nothing");
        assert_eq!(gate.interrupt(&cancel), Interrupt::Again);

        let (gate, cancel) = (CommitGate::default(), AtomicBool::new(false));
        assert!(gate.commit(&cancel));
        assert_eq!(gate.interrupt(&cancel), Interrupt::AfterCommit);
        assert!(
            !cancel.load(Ordering::SeqCst),
            "the committed run is not cancelled"
        );
        assert_eq!(gate.interrupt(&cancel), Interrupt::AgainAfterCommit);
    }
}
