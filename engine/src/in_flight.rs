//! A bound on the bytes of documents a source has read that the steps after it have not let go
//! of yet. Channels bound items, not bytes: 64 waiting documents of 256 MiB each would be
//! 16 GiB. A source waits before handing on a document while those it handed on earlier, still
//! held, pass the budget.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use operators::model::Document;

/// Bytes of read documents that may be held downstream before a source waits.
pub const BUDGET: u64 = 256 << 20;
/// How long a source waits while no held document is let go, before it goes on anyway: a
/// step that kept documents to the end of the run must not hang it.
const PATIENCE: Duration = Duration::from_secs(120);
/// How often a waiting source looks again.
const POLL: Duration = Duration::from_millis(2);

/// The documents a source handed on that are still held elsewhere, known without being held
/// (a weak reference keeps a document's small record, not its bytes) with their sizes.
pub struct InFlight {
    budget: u64,
    patience: Duration,
    held: Vec<(Weak<Document>, u64)>,
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

    /// Bytes handed on and still held.
    fn held_bytes(&mut self) -> u64 {
        self.held
            .retain(|(document, _)| document.strong_count() > 0);
        self.held.iter().map(|(_, size)| size).sum()
    }

    /// Waits until `document` fits in the budget beside what is held (a document alone always
    /// fits), a run stops ([`operators::stop`]), or nothing is let go for a long while; then
    /// counts it as handed on.
    pub fn admit(&mut self, document: Document) -> Arc<Document> {
        let size = document.bytes.len() as u64;
        let mut held = self.held_bytes();
        let mut progress = Instant::now();
        while held > 0
            && held + size > self.budget
            && progress.elapsed() < self.patience
            && !operators::stop::REQUESTED.load(std::sync::atomic::Ordering::Relaxed)
        {
            std::thread::sleep(POLL);
            let now = self.held_bytes();
            if now < held {
                progress = Instant::now();
            }
            held = now;
        }
        let document = Arc::new(document);
        self.held.push((Arc::downgrade(&document), size));
        document
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(size: usize) -> Document {
        Document::new("d".into(), "d".into(), vec![0u8; size])
    }

    /// A consumer that lets documents go slowly never holds more than the budget plus the
    /// document being handed on.
    #[test]
    fn a_source_waits_while_held_documents_pass_the_budget() {
        let mut in_flight = InFlight::new(250);
        let (send, receive) = std::sync::mpsc::channel::<Arc<Document>>();
        let consumer = std::thread::spawn(move || {
            for bytes in receive {
                std::thread::sleep(Duration::from_millis(5));
                drop(bytes);
            }
        });
        let mut most_alive = 0;
        let mut handed: Vec<Weak<Document>> = Vec::new();
        for _ in 0..20 {
            let bytes = in_flight.admit(document(100));
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

    /// A document larger than the budget goes on alone; one that nobody lets go of stops the
    /// wait after the patience.
    #[test]
    fn large_or_stuck_documents_never_hang_the_source() {
        let mut in_flight = InFlight::new(50);
        let large = in_flight.admit(document(100));
        in_flight.patience = Duration::from_millis(50);
        let started = Instant::now();
        let next = in_flight.admit(document(10));
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(large);
        drop(next);
        let started = Instant::now();
        in_flight.admit(document(10));
        assert!(started.elapsed() < Duration::from_millis(50));
    }
}
