//! Where a run's cancel meets its commit. A Ctrl-C that comes once the run's outputs are going
//! into place (sinks moved, indexes switched) cannot undo them: it no longer cancels the run,
//! which ends and is recorded as what it is (what is left, recording the run, is short and
//! bounded). What a Ctrl-C does is done under the gate's lock, so a second Ctrl-C that leaves
//! at once leaves before the run can commit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Decides, once, between a run's commit and its cancel.
#[derive(Debug, Default)]
pub struct CommitGate {
    committed: Mutex<bool>,
}

/// What a Ctrl-C did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// The first: the run is cancelled.
    Cancelled,
    /// Another, before the commit: leave at once.
    Again,
    /// Any after the commit: the run ends as it is.
    AfterCommit,
}

impl CommitGate {
    /// Commits the run unless `cancel` is set: whether its outputs may go into place. From
    /// then on a Ctrl-C leaves `cancel` alone.
    pub fn commit(&self, cancel: &AtomicBool) -> bool {
        let mut committed = self.lock();
        if cancel.load(Ordering::SeqCst) {
            return false;
        }
        *committed = true;
        true
    }

    /// A Ctrl-C: sets `cancel` unless the run has committed, and does `act` with what it did,
    /// holding the gate: an `act` that ends the process ends it before the run can commit.
    pub fn interrupt(&self, cancel: &AtomicBool, act: impl FnOnce(Interrupt)) {
        let committed = self.lock();
        let what = if *committed {
            Interrupt::AfterCommit
        } else if cancel.swap(true, Ordering::SeqCst) {
            Interrupt::Again
        } else {
            Interrupt::Cancelled
        };
        act(what);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, bool> {
        self.committed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    use super::*;

    fn what(gate: &CommitGate, cancel: &AtomicBool) -> Interrupt {
        let mut what = None;
        gate.interrupt(cancel, |w| what = Some(w));
        what.expect("act is called")
    }

    #[test]
    fn a_ctrl_c_before_the_commit_cancels_and_one_after_it_does_not() {
        let (gate, cancel) = (CommitGate::default(), AtomicBool::new(false));
        assert_eq!(what(&gate, &cancel), Interrupt::Cancelled);
        assert!(!gate.commit(&cancel), "a cancelled run commits nothing");
        assert_eq!(what(&gate, &cancel), Interrupt::Again);

        let (gate, cancel) = (CommitGate::default(), AtomicBool::new(false));
        assert!(gate.commit(&cancel));
        for _ in 0..2 {
            assert_eq!(what(&gate, &cancel), Interrupt::AfterCommit);
        }
        assert!(
            !cancel.load(Ordering::SeqCst),
            "the committed run is not cancelled"
        );
    }

    /// What a Ctrl-C does, it does holding the gate: the run cannot commit meanwhile (a
    /// second Ctrl-C's exit came while the run put its outputs in place and recorded it `ok`).
    #[test]
    fn a_commit_waits_for_what_a_ctrl_c_does() {
        let gate = Arc::new(CommitGate::default());
        let cancel = Arc::new(AtomicBool::new(false));
        let (started, acting) = channel();
        let handler = {
            let (gate, cancel) = (gate.clone(), cancel.clone());
            std::thread::spawn(move || {
                gate.interrupt(&cancel, |_| {
                    started.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(50));
                })
            })
        };
        acting.recv().unwrap();
        assert!(!gate.commit(&cancel), "the Ctrl-C came first: cancelled");
        handler.join().unwrap();
    }
}
