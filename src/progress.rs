//! A progress bar for index builds, on stderr.

use bubble_index::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws build progress; hidden when stderr is not a terminal.
pub struct BuildBar {
    bar: ProgressBar,
    stage: &'static str,
}

impl BuildBar {
    pub fn new() -> BuildBar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        BuildBar { bar, stage: "" }
    }

    pub fn update(&mut self, p: Progress) {
        let (stage, done, total) = match p {
            Progress::Parsing { done, total } => ("parsing", done, total),
            Progress::Embedding { done, total } => ("embedding", done, total),
            Progress::Writing => ("writing", 0, 0),
        };
        if stage != self.stage {
            self.stage = stage;
            self.bar.reset();
            self.bar.set_message(stage);
        }
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
