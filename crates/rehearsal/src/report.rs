//! The figures of both walks: per phase, requests, failures, latency percentiles, the longest
//! time no request completed, and what each schema step cost; the writes acknowledged and lost;
//! and the latency-over-time chart.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::walk::{PhaseRecord, Walk, Way};
use crate::{Error, Result};

/// The figures of one phase of one walk.
#[derive(Debug, Clone)]
pub struct PhaseFigures {
    pub phase: &'static str,
    pub requests: u64,
    pub failed: u64,
    pub p50: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
    /// The longest time within the phase in which no request completed.
    pub longest_gap: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The figures of each phase of `walk`, from the requests due in it.
pub fn phase_figures(walk: &Walk) -> Vec<PhaseFigures> {
    walk.phases
        .iter()
        .map(|phase| {
            let samples: Vec<_> = walk
                .recorded
                .samples
                .iter()
                .filter(|s| s.due >= phase.from && s.due < phase.to)
                .collect();
            // Microseconds, from 1 µs to an hour, 3 significant digits: constant bounds.
            let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3)
                .expect("valid constant bounds");
            for sample in &samples {
                let micros = u64::try_from(sample.latency.as_micros())
                    .unwrap_or(u64::MAX)
                    .max(1);
                let _ = histogram.record(micros.min(histogram.high()));
            }
            let quantile = |q: f64| Duration::from_micros(histogram.value_at_quantile(q));
            PhaseFigures {
                phase: phase.name,
                requests: samples.len() as u64,
                failed: samples.iter().filter(|s| !s.ok).count() as u64,
                p50: quantile(0.5),
                p99: quantile(0.99),
                p999: quantile(0.999),
                max: Duration::from_micros(histogram.max()),
                longest_gap: longest_gap(walk, phase),
            }
        })
        .collect()
}

/// The longest stretch of `phase` in which no request of the walk completed.
fn longest_gap(walk: &Walk, phase: &PhaseRecord) -> Duration {
    let mut done: Vec<Duration> = walk
        .recorded
        .samples
        .iter()
        .map(|s| s.done())
        .filter(|d| *d >= phase.from && *d < phase.to)
        .collect();
    done.sort();
    let mut previous = phase.from;
    let mut longest = Duration::ZERO;
    for at in done.into_iter().chain(std::iter::once(phase.to)) {
        longest = longest.max(at.saturating_sub(previous));
        previous = at;
    }
    longest
}

/// The worst latency during the schema steps, over the worst with no step running (the
/// baseline phase), for the plumb walk.
pub fn worst_ratio(figures: &[PhaseFigures]) -> Option<f64> {
    let baseline = figures.iter().find(|f| f.phase == "baseline")?.max;
    let during = figures
        .iter()
        .filter(|f| matches!(f.phase, "pre-deploy" | "backfill" | "not null"))
        .map(|f| f.max)
        .max()?;
    (!baseline.is_zero()).then(|| during.as_secs_f64() / baseline.as_secs_f64())
}

/// The report in Markdown: one table of phases per walk, then the schema steps and the writes.
pub fn markdown(walks: &[Walk], heading: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading}\n");
    let _ = writeln!(
        out,
        "| path | phase | requests | failed | p50 ms | p99 ms | p99.9 ms | max ms | longest gap ms |"
    );
    let _ = writeln!(
        out,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for walk in walks {
        for f in phase_figures(walk) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
                walk.way.name(),
                f.phase,
                f.requests,
                f.failed,
                ms(f.p50),
                ms(f.p99),
                ms(f.p999),
                ms(f.max),
                ms(f.longest_gap)
            );
        }
    }
    let _ = writeln!(
        out,
        "\nSchema steps (each with a 5 s report transaction open on `accounts` when it began):\n"
    );
    let _ = writeln!(
        out,
        "| path | phase | step | took s | waited for locks ms | ACCESS EXCLUSIVE held ms | sessions queued behind | stalled s | outcome |"
    );
    let _ = writeln!(
        out,
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
    );
    for walk in walks {
        for phase in &walk.phases {
            if let Some(ddl) = &phase.ddl {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` | {:.2} | {:.0} | {:.1} | {} | {:.2} | {} |",
                    walk.way.name(),
                    phase.name,
                    ddl.what,
                    ddl.elapsed.as_secs_f64(),
                    ms(ddl.lock_wait),
                    ms(ddl.exclusive_held),
                    ddl.queued,
                    ddl.stalled.as_secs_f64(),
                    ddl.failed.as_deref().unwrap_or("done")
                );
            }
        }
    }
    let _ = writeln!(out, "\nWrites:\n");
    for walk in walks {
        let _ = writeln!(
            out,
            "- {}: {} creates and {} last updates acknowledged; {} lost{}",
            walk.way.name(),
            walk.recorded.created.len(),
            walk.recorded.updated.len(),
            walk.lost.len(),
            walk.lost
                .first()
                .map_or(String::new(), |first| format!(" (first: {first})"))
        );
    }
    if let Some(plumb) = walks.iter().find(|w| w.way == Way::Plumb)
        && let Some(ratio) = worst_ratio(&phase_figures(plumb))
    {
        let _ = writeln!(
            out,
            "\nplumb path: the worst latency during a schema step is {ratio:.2}x the worst with none running (the target: at most 2x)."
        );
    }
    out
}

/// The latency over time of each walk (the worst latency of the requests due in each 250 ms),
/// with the plumb walk's phases shaded; SVG.
pub fn chart(walks: &[Walk], path: &Path) -> Result<()> {
    use plotters::prelude::*;
    let bucket = Duration::from_millis(250);
    let end = walks
        .iter()
        .flat_map(|w| w.phases.last().map(|p| p.to))
        .max()
        .unwrap_or(Duration::from_secs(1))
        .as_secs_f64();
    let series: Vec<(Way, Vec<(f64, f64)>)> = walks
        .iter()
        .map(|walk| {
            let mut worst: std::collections::BTreeMap<u64, f64> = Default::default();
            for sample in &walk.recorded.samples {
                let slot = (sample.due.as_nanos() / bucket.as_nanos()) as u64;
                let entry = worst.entry(slot).or_insert(0.0);
                *entry = entry.max(ms(sample.latency).max(0.1));
            }
            let points = worst
                .into_iter()
                .map(|(slot, latency)| (slot as f64 * bucket.as_secs_f64(), latency))
                .collect();
            (walk.way, points)
        })
        .collect();
    let top = series
        .iter()
        .flat_map(|(_, points)| points.iter().map(|(_, l)| *l))
        .fold(10.0_f64, f64::max)
        * 1.5;
    let failed =
        |e: &dyn std::fmt::Display| Error::Walk(format!("drawing {}: {e}", path.display()));
    let root = SVGBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| failed(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "worst latency per 250 ms (ms, log scale)",
            ("sans-serif", 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, (0.1..top).log_scale())
        .map_err(|e| failed(&e))?;
    chart
        .configure_mesh()
        .x_desc("seconds since the load started")
        .y_desc("ms")
        .draw()
        .map_err(|e| failed(&e))?;
    if let Some(plumb) = walks.iter().find(|w| w.way == Way::Plumb) {
        for (i, phase) in plumb.phases.iter().enumerate() {
            let shade = if i % 2 == 0 {
                RGBColor(235, 235, 245)
            } else {
                RGBColor(245, 245, 235)
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (phase.from.as_secs_f64(), 0.1),
                        (phase.to.as_secs_f64(), top),
                    ],
                    shade.filled(),
                )))
                .map_err(|e| failed(&e))?;
            chart
                .draw_series(std::iter::once(Text::new(
                    phase.name.to_owned(),
                    (phase.from.as_secs_f64() + 0.2, top / 1.4),
                    ("sans-serif", 13),
                )))
                .map_err(|e| failed(&e))?;
        }
    }
    for (way, points) in series {
        let color = match way {
            Way::Plumb => BLUE,
            Way::Naive => RED,
        };
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| failed(&e))?
            .label(way.name())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| failed(&e))?;
    root.present().map_err(|e| failed(&e))?;
    Ok(())
}
