//! A backfill's progress: a bar with rows/s and ETA on a terminal, a structured log line per
//! second otherwise (CI logs, deploy jobs).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
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
            // Drawn from the first progress on: before the rows to fill are counted, a bar of
            // length 0 would show full, at 0/0.
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            // The template is a constant; should it ever be refused, the default style is fine.
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:30}] {human_pos}/{human_len} rows, {rate}, ETA {eta}",
            ) {
                let style = style.with_key(
                    "rate",
                    |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        // Whole rows a second, grouped: not indicatif's `37,352.8062/s`.
                        let _ = write!(w, "{} rows/s", HumanCount(state.per_sec().round() as u64));
                    },
                );
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
        // A pause and its end are said at once, whatever the display: the operator watches
        // for them.
        match (&progress.paused, &self.bar) {
            (Some(why), Some(bar)) => bar.set_message(format!("{} paused: {why}", self.name)),
            (None, Some(bar)) => bar.set_message(self.name.clone()),
            (Some(why), None) => {
                tracing::info!(backfill = %self.name, filled, to_fill, reason = %why, "paused");
                self.last_line = Some(Instant::now());
                return;
            }
            (None, None) => {}
        }
        if let Some(bar) = &self.bar {
            if bar.is_hidden() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
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

/// The live stage's progress: on a terminal, one line that shows the migration running, its
/// place and the time since the stage began; otherwise one line per migration on stderr (CI
/// logs), history included, so that a stalled run shows where it stalled.
#[derive(Debug)]
pub(crate) struct LiveDisplay {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl LiveDisplay {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("live: {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            started: Instant::now(),
        }
    }

    pub fn step(&mut self, step: plumb_live::Step<'_>) {
        use plumb_live::Treatment;
        let what = match step.treatment {
            Treatment::History => "applying as history",
            Treatment::Judged => "judging",
            Treatment::Skipped => "skipping",
        };
        let message = format!("[{}/{}] {what} {}", step.index, step.total, step.folder);
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None => eprintln!(
                "live: {message} ({:.1}s)",
                self.started.elapsed().as_secs_f64()
            ),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
