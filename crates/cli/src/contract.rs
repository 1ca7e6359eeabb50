//! `plumb check-contract [PATH]`: every stage for any workspace — the API schemas, the static
//! checks, the live stage — one line each, then the exit code of the worst. `cargo xtask
//! check-contract` is this, with this repository's in-process schema generator.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use plumb_check::Report;
use plumb_check::report::{Format, render};

use crate::check::OutputFormat;
use crate::schemas::Generated;
use crate::stages::{
    BaseArgs, LiveArgs, Stage, live_stage, print_human, schemas_stage, static_stage,
};

#[derive(Debug, Args)]
pub struct ContractArgs {
    /// The workspace (where plumb.toml or diesel.toml is); default: the current directory.
    pub path: Option<PathBuf>,
    /// human: each stage's line on stdout, findings on stderr. json, github, sarif: every
    /// stage's findings in one document on stdout, the stage lines on stderr.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub base: BaseArgs,
    /// Skip the live stage (the one that needs PostgreSQL).
    #[arg(long)]
    pub no_live: bool,
    #[command(flatten)]
    pub live: LiveArgs,
}

/// This repository's schema generator, for `cargo xtask`: what it generates and the command
/// that writes it.
pub struct InProcess<'a> {
    pub generate: &'a dyn Fn() -> anyhow::Result<Generated>,
    pub fix: &'a str,
}

impl std::fmt::Debug for InProcess<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess").field("fix", &self.fix).finish()
    }
}

pub fn run(args: ContractArgs) -> ExitCode {
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    ExitCode::from(run_stages(&root, &args, None))
}

/// Runs every stage on `root`; gives the worst exit code.
pub fn run_stages(root: &Path, args: &ContractArgs, generator: Option<InProcess<'_>>) -> u8 {
    let format = args.format.format();
    let human = format == Format::Human;
    let show = |stage: &Stage| {
        if human {
            print_human(stage);
        } else {
            eprint!("{}", stage.diagnostics);
            eprintln!("{}", stage.line);
        }
    };
    if human {
        println!("check-contract: {}", root.display());
    }
    let base = args.base.base();
    let mut stages = Vec::new();
    let schemas = match &generator {
        Some(g) => schemas_stage(root, Some(g.generate), Some(g.fix)),
        None => schemas_stage(root, None, None),
    };
    show(&schemas);
    stages.push(schemas);
    let checked = static_stage(root, &base);
    show(&checked);
    stages.push(checked);
    if args.no_live {
        let skipped = Stage {
            name: "live",
            line: "live: skipped (--no-live)".to_owned(),
            ..Stage::default()
        };
        show(&skipped);
        stages.push(skipped);
    } else {
        let live = live_stage(root, args.live.options(), &base);
        show(&live);
        stages.push(live);
    }
    let worst = stages.iter().map(|s| s.exit).max().unwrap_or(0);
    if !human {
        crate::check::emit(&document(root, stages, format));
    }
    worst
}

/// Every stage's findings in one report, in `format`; JSON adds each stage's line and exit
/// code under `stages`.
fn document(root: &Path, stages: Vec<Stage>, format: Format) -> String {
    let lines: Vec<serde_json::Value> = stages
        .iter()
        .map(|s| serde_json::json!({"stage": s.name, "exit": s.exit, "line": s.line}))
        .collect();
    let mut report = Report::default();
    for stage in stages {
        report.migrations = report.migrations.max(stage.migrations);
        report.statements += stage.statements;
        report.findings.extend(stage.findings);
        report.suppressed.extend(stage.suppressed);
        report.sources.extend(stage.sources);
    }
    crate::check::as_seen_from_here(root, &mut report);
    let text = render(&report, format, false);
    if format != Format::Json {
        return text;
    }
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.insert("stages".to_owned(), serde_json::Value::Array(lines));
            format!("{:#}\n", serde_json::Value::Object(object))
        }
        _ => text,
    }
}
