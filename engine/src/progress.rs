//! Live progress per step on a terminal (indicatif), fed by the runtime's counters.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::runtime::StepCounters;

/// One bar per step.
pub struct Progress {
    bars: Vec<ProgressBar>,
}

impl Progress {
    /// Bars for the steps named, drawn on stderr.
    pub fn new(steps: &[(String, String)]) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let width = steps.iter().map(|(name, _)| name.len()).max().unwrap_or(4);
        let style =
            ProgressStyle::with_template(&format!("{{spinner}} {{prefix:<{width}}} {{msg}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = steps
            .iter()
            .map(|(name, op)| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(name.clone());
                bar.set_message(format!("{op}: waiting"));
                bar
            })
            .collect();
        Progress { bars }
    }

    /// Redraws from the live counters.
    pub fn update(&self, counters: &[(String, Arc<StepCounters>)]) {
        for (bar, (_, live)) in self.bars.iter().zip(counters) {
            let message = format!(
                "in {:>7}  out {:>7}  failed {:>5}",
                live.input.load(Ordering::Relaxed),
                live.output.load(Ordering::Relaxed),
                live.failed.load(Ordering::Relaxed),
            );
            if live.done.load(Ordering::Acquire) {
                if !bar.is_finished() {
                    bar.finish_with_message(format!("{message}  done"));
                }
            } else if live.finishing.load(Ordering::Acquire) {
                bar.set_message(format!("{message}  finishing"));
                bar.tick();
            } else {
                bar.set_message(message);
                bar.tick();
            }
        }
    }
}
