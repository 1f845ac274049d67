//! Benchmark of the runtime itself (`just bench`):
//! - items per second through a 5-step chain of trivial operators;
//! - peak memory (VmHWM) while streaming 10k and 100k items of 4 KiB with capacity 64, each in a
//!   fresh process: it must not grow with the item count.

use std::ops::ControlFlow;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use engine::runtime::{
    Emitted, Item, Node, Operator, Options, Position, Publish, SinkOp, SourceOp, TransformOp,
    execute,
};
use operators::model::Document;

struct Generate {
    count: usize,
    payload: usize,
}

impl SourceOp for Generate {
    fn run(&mut self, emit: &mut dyn FnMut(Emitted) -> ControlFlow<()>) -> anyhow::Result<()> {
        for i in 0..self.count {
            let doc = Document::new(i.to_string(), String::new(), vec![b'x'; self.payload]);
            if emit(Emitted::Item(Item::Document(Arc::new(doc)))).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// Passes items on, touching them so the work is not optimised away.
struct Touch(AtomicU64);

impl TransformOp for Touch {
    fn apply(&self, item: &Item) -> anyhow::Result<Option<Item>> {
        self.0
            .fetch_add(item.doc_id().len() as u64, Ordering::Relaxed);
        Ok(Some(item.clone()))
    }
}

struct Count(Arc<AtomicU64>);

impl SinkOp for Count {
    fn write(&mut self, _item: &Item, _position: Position) -> anyhow::Result<()> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn finish(self: Box<Self>) -> anyhow::Result<Publish> {
        Ok(Publish::nothing())
    }
}

/// source → t1 → t2 → t3 → sink; returns items per second.
fn chain(count: usize, payload: usize, parallelism: usize, capacity: usize) -> f64 {
    let total = Arc::new(AtomicU64::new(0));
    let mut nodes = vec![Node {
        name: "source".into(),
        op: "generate".into(),
        fingerprint: "generate".into(),
        operator: Operator::Source(Box::new(Generate { count, payload })),
        inputs: vec![],
        parallelism: 1,
        capacity,
    }];
    for i in 1..=3 {
        nodes.push(Node {
            name: format!("t{i}"),
            op: "touch".into(),
            fingerprint: format!("touch{i}"),
            operator: Operator::Transform(Arc::new(Touch(AtomicU64::new(0)))),
            inputs: vec![i - 1],
            parallelism,
            capacity,
        });
    }
    nodes.push(Node {
        name: "sink".into(),
        op: "count".into(),
        fingerprint: "count".into(),
        operator: Operator::Sink(Box::new(Count(total.clone()))),
        inputs: vec![3],
        parallelism: 1,
        capacity,
    });
    let started = Instant::now();
    execute(nodes, Options::default());
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(total.load(Ordering::Relaxed), count as u64);
    count as f64 / seconds
}

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--memory") {
        let count: usize = args[position + 1].parse().expect("item count");
        chain(count, 4096, 2, 64);
        println!("{}", peak_memory_kib());
        return;
    }
    println!("runtime benchmark: 5-step chain (source → 3 transforms → sink), trivial operators");
    for (parallelism, capacity) in [(1, 64), (2, 64), (1, 1)] {
        chain(50_000, 16, parallelism, capacity);
        let rate = chain(1_000_000, 16, parallelism, capacity);
        println!("  parallelism {parallelism}, capacity {capacity:>2}: {rate:>12.0} items/s");
    }
    println!("peak memory streaming 4 KiB items, capacity 64 (fresh process each):");
    let me = std::env::current_exe().expect("current exe");
    for count in [10_000, 100_000] {
        let output = Command::new(&me)
            .args(["--memory", &count.to_string()])
            .output()
            .expect("child run");
        let kib = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        println!("  {count:>7} items: VmHWM {kib} KiB");
    }
}
