//! Progress bars on stderr (hidden when stderr is not a terminal, and in tests).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    pub fn stderr() -> Self {
        Self { visible: true }
    }

    pub fn hidden() -> Self {
        Self { visible: false }
    }

    /// A bar of `len` steps for one phase; the message names the current table.
    pub fn bar(&self, phase: &'static str, len: u64) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
        // The template is a constant, so it parses; fall back to the default style all the same.
        let style = ProgressStyle::with_template("{prefix:>8} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(phase);
        bar
    }
}
