//! The progress bar on standard error. indicatif hides it by itself when
//! standard error is not a terminal, so pipes and CI logs stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use neardup::pipeline::Progress;

/// A byte-counting progress bar, one per pass.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new(visible: bool) -> Bar {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bar {
            bar: ProgressBar::with_draw_target(None, target),
        }
    }
}

impl Progress for Bar {
    fn begin(&self, pass: &'static str, total: Option<u64>) {
        self.bar.reset();
        self.bar.set_length(total.unwrap_or(0));
        let template = if total.is_some() {
            "{msg:>13} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
        } else {
            "{msg:>13} {bytes} ({bytes_per_sec})"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_message(pass);
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn end(&self) {
        self.bar.finish_and_clear();
    }
}
