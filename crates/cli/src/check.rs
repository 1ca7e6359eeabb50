//! `plumb check`: the static checker. Exit 0: clean (notes and warnings only); 1: a finding at
//! error level; 2: the input could not be read.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use plumb_check::report::counts_by_rule;
use plumb_check::report::{Format, render};
use plumb_check::{Base, RULES, Severity, baseline, check_everything, check_workspace_against};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The workspace (where plumb.toml or diesel.toml is); default: the current directory.
    path: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    format: OutputFormat,
    /// The PostgreSQL major version the migrations run on (default: plumb.toml's, else 15).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(9..=30))]
    pg_version: Option<u32>,
    /// Compare with this git revision (families A and D, and the changes since): default, the
    /// merge-base with the main branch.
    #[arg(long, value_name = "REV", conflicts_with = "no_base")]
    base: Option<String>,
    /// Check the head alone.
    #[arg(long)]
    no_base: bool,
    /// List the rules and exit.
    #[arg(long)]
    list_rules: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Github,
    Sarif,
}

impl OutputFormat {
    pub fn format(self) -> Format {
        match self {
            OutputFormat::Human => Format::Human,
            OutputFormat::Json => Format::Json,
            OutputFormat::Github => Format::Github,
            OutputFormat::Sarif => Format::Sarif,
        }
    }
}

/// The base `--base REV` and `--no-base` ask for.
fn chosen_base(rev: Option<String>, no_base: bool) -> Base {
    match (rev, no_base) {
        (_, true) => Base::None,
        (Some(rev), false) => Base::Rev(rev),
        (None, false) => Base::Default,
    }
}

/// Findings name files relative to the workspace; shows them relative to where plumb runs, so
/// that annotations land on the right file in a repository holding several workspaces.
pub(crate) fn as_seen_from_here(root: &Path, report: &mut plumb_check::Report) {
    if root == Path::new(".") {
        return;
    }
    let shown = |file: &Path| {
        let path = root.join(file);
        path.strip_prefix("./")
            .map(Path::to_path_buf)
            .unwrap_or(path)
    };
    for finding in &mut report.findings {
        finding.span.file = shown(&finding.span.file);
    }
    for suppressed in &mut report.suppressed {
        suppressed.finding.span.file = shown(&suppressed.finding.span.file);
    }
    report.sources = std::mem::take(&mut report.sources)
        .into_iter()
        .map(|(file, text)| (shown(&file), text))
        .collect();
}

/// Writes to stdout; when whoever reads it has gone (`plumb check | head -1`), the rest is
/// dropped quietly, as other Unix tools do, instead of a panic.
pub(crate) fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

pub fn run(args: CheckArgs) -> ExitCode {
    let CheckArgs {
        path,
        format,
        pg_version,
        base,
        no_base,
        list_rules,
    } = args;
    if list_rules {
        let mut list = String::new();
        for rule in RULES {
            list.push_str(&format!(
                "{} {:<30} {:<8} {}\n",
                rule.code,
                rule.name,
                rule.severity.as_str(),
                rule.summary
            ));
        }
        emit(&list);
        return ExitCode::SUCCESS;
    }
    let root = path.unwrap_or_else(|| PathBuf::from("."));
    let base = chosen_base(base, no_base);
    let mut report = match check_workspace_against(&root, pg_version, &base) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: cannot read the input: {error}");
            if matches!(format, OutputFormat::Json) {
                // A CI parser reading stdout learns why there is no report.
                let (line, column) = error.place().unzip();
                let document = serde_json::json!({
                    "error": {
                        "file": error.path(),
                        "line": line,
                        "column": column,
                        "message": error.reason(),
                    }
                });
                emit(&format!("{document:#}\n"));
            }
            return ExitCode::from(2);
        }
    };
    as_seen_from_here(&root, &mut report);
    let format = format.format();
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    emit(&render(&report, format, colour));
    let failed = report.count(Severity::Error) > 0;
    // The process ends here: freeing the report piece by piece would only delay the exit.
    std::mem::forget(report);
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The workspace (where plumb.toml or diesel.toml is); default: the current directory.
    path: Option<PathBuf>,
    /// The PostgreSQL major version the migrations run on (default: plumb.toml's, else 15).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(9..=30))]
    pg_version: Option<u32>,
    /// Compare with this git revision, as `plumb check --base`.
    #[arg(long, value_name = "REV", conflicts_with = "no_base")]
    base: Option<String>,
    /// Record the head's findings alone.
    #[arg(long)]
    no_base: bool,
}

/// `plumb baseline`: every finding `plumb check` makes today, written to plumb-baseline.json
/// (replacing what was there). Exit 0, or 2 when the input cannot be read or the file written.
pub fn run_baseline(args: BaselineArgs) -> ExitCode {
    let root = args.path.unwrap_or_else(|| PathBuf::from("."));
    let base = chosen_base(args.base, args.no_base);
    let report = match check_everything(&root, args.pg_version, &base) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: cannot read the input: {error}");
            return ExitCode::from(2);
        }
    };
    match baseline::write(&root, &report) {
        Ok(count) => {
            println!(
                "wrote {count} finding(s) to {}: `plumb check` now fails only on findings not in it",
                root.join(baseline::FILE).display()
            );
            for (code, name, n) in counts_by_rule(&report) {
                println!("  {n:>5}  {code} {name}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
