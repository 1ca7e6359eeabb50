//! A backfill's progress: a bar with rows/s and ETA on a terminal, a structured log line per
//! second otherwise (CI logs, deploy jobs).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use plumb_online::backfill::BackfillProgress;

#[derive(Debug)]
pub(crate) struct BackfillDisplay {
    name: String,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
}

impl BackfillDisplay {
    pub fn new(name: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            // The template is a constant; should it ever be refused, the default style is fine.
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} rows, {per_sec}, ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(name.to_owned());
            bar
        });
        Self {
            name: name.to_owned(),
            bar,
            last_line: None,
        }
    }

    pub fn update(&mut self, progress: &BackfillProgress) {
        let to_fill = u64::try_from(progress.to_fill.max(progress.filled)).unwrap_or(0);
        let filled = u64::try_from(progress.filled).unwrap_or(0);
        if let Some(bar) = &self.bar {
            bar.set_length(to_fill);
            bar.set_position(filled);
            return;
        }
        if self
            .last_line
            .is_some_and(|at| at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_line = Some(Instant::now());
        let eta_seconds = if progress.rows_per_second > 0.0 {
            (to_fill.saturating_sub(filled)) as f64 / progress.rows_per_second
        } else {
            0.0
        };
        tracing::info!(
            backfill = %self.name,
            filled,
            to_fill,
            batch_size = progress.batch_size,
            rows_per_second = progress.rows_per_second.round(),
            eta_seconds = eta_seconds.round(),
            cursor = progress.cursor.as_deref().unwrap_or(""),
            "progress"
        );
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
