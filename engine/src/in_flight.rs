//! A bound on the bytes of documents a source has read whose reading and parsing the steps after
//! it have not finished yet. Channels bound items, not bytes: 64 waiting documents of 256 MiB
//! each would be 16 GiB. A source waits before handing on a document while those it handed on
//! earlier, still in flight, pass the budget.
//!
//! Each document handed on comes with a [`Lease`] on its size, which travels with the document
//! and then with its parsed form, and is let go when the last of them is done with (a chunker
//! took the parsed document): a parsed document is several times its file (1 GB for a 200 MB
//! Markdown file), and with only the file counted, parsed documents piled up behind a slower
//! chunker (9.4 GB for eight such files).

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Bytes of read documents that may be held downstream before a source waits.
pub const BUDGET: u64 = 256 << 20;
/// Documents that may always be in flight, whatever their size: one parsed while the one before
/// is chunked. With one, documents larger than half the budget went through parse and chunking
/// one at a time (64 s instead of 44 s for four Markdown files of 200 MB), for 1.7 GB less.
const ALWAYS_IN_FLIGHT: usize = 2;
/// How long a source waits while no held document is let go, before it goes on anyway: a
/// step that kept documents to the end of the run must not hang it.
const PATIENCE: Duration = Duration::from_secs(120);
/// How often a waiting source looks again.
const POLL: Duration = Duration::from_millis(2);

/// A share of a source's budget, given back when its last holder lets it go.
#[derive(Debug)]
pub struct Lease;

/// The leases a source gave that are still held elsewhere, known without being held, with
/// their sizes.
pub struct InFlight {
    budget: u64,
    patience: Duration,
    held: Vec<(Weak<Lease>, u64)>,
}

impl InFlight {
    /// A bound of `budget` bytes.
    pub fn new(budget: u64) -> Self {
        InFlight {
            budget,
            patience: PATIENCE,
            held: Vec::new(),
        }
    }

    /// Documents handed on and still held, and their bytes.
    fn held(&mut self) -> (usize, u64) {
        self.held.retain(|(lease, _)| lease.strong_count() > 0);
        let bytes = self.held.iter().map(|(_, size)| size).sum();
        (self.held.len(), bytes)
    }

    /// Waits until a document of `size` bytes fits in the budget beside what is held (with
    /// fewer than [`ALWAYS_IN_FLIGHT`] held, any document fits), a run stops
    /// ([`operators::stop`]), or nothing is let go for a long while; then lends its share.
    pub fn admit(&mut self, size: u64) -> Arc<Lease> {
        let (mut count, mut held) = self.held();
        let mut progress = Instant::now();
        while count >= ALWAYS_IN_FLIGHT
            && held + size > self.budget
            && progress.elapsed() < self.patience
            && !operators::stop::REQUESTED.load(std::sync::atomic::Ordering::Relaxed)
        {
            std::thread::sleep(POLL);
            let now = self.held();
            if now.1 < held || now.0 < count {
                progress = Instant::now();
            }
            (count, held) = now;
        }
        let lease = Arc::new(Lease);
        self.held.push((Arc::downgrade(&lease), size));
        lease
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A consumer that lets documents go slowly never holds more than the budget plus the
    /// document being handed on.
    #[test]
    fn a_source_waits_while_held_documents_pass_the_budget() {
        let mut in_flight = InFlight::new(250);
        let (send, receive) = std::sync::mpsc::channel::<Arc<Lease>>();
        let consumer = std::thread::spawn(move || {
            for bytes in receive {
                std::thread::sleep(Duration::from_millis(5));
                drop(bytes);
            }
        });
        let mut most_alive = 0;
        let mut handed: Vec<Weak<Lease>> = Vec::new();
        for _ in 0..20 {
            let bytes = in_flight.admit(100);
            handed.push(Arc::downgrade(&bytes));
            let alive = handed.iter().filter(|w| w.strong_count() > 0).count();
            most_alive = most_alive.max(alive);
            send.send(bytes).unwrap();
        }
        drop(send);
        consumer.join().unwrap();
        assert!(
            most_alive <= 3,
            "{most_alive} documents of 100 bytes held, budget 250"
        );
    }

    /// Two documents larger than the budget go on together; documents that nobody lets go
    /// of stop the wait after the patience.
    #[test]
    fn large_or_stuck_documents_never_hang_the_source() {
        let mut in_flight = InFlight::new(50);
        in_flight.patience = Duration::from_millis(50);
        let started = Instant::now();
        let large = in_flight.admit(100);
        let second = in_flight.admit(100);
        assert!(started.elapsed() < Duration::from_millis(50));
        let started = Instant::now();
        let next = in_flight.admit(10);
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop((large, second, next));
        let started = Instant::now();
        in_flight.admit(10);
        assert!(started.elapsed() < Duration::from_millis(50));
    }
}
