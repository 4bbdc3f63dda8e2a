//! `bursar report`: the entitlement review of a replay's outputs (files) or
//! of the topics (`--config`), as one self-contained HTML file (docs/report.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bursar::report::review::Keep;
use bursar::report::{render, PageOptions, Review, Source};
use clap::Args;

/// Where the outputs are read from: files (by flag, or the names `bursar
/// demo` writes in `--dir`), or the topics of `--config`.
#[derive(Args, Debug)]
pub struct SourceArgs {
    /// A directory holding findings.jsonl, windows.jsonl, balances.jsonl (and
    /// entitlements.jsonl when present), as `bursar demo --out` writes them.
    #[arg(long, conflicts_with = "config")]
    pub dir: Option<PathBuf>,
    /// Entitlements as JSON Lines (what each key may reach; without it keys show as unmanaged).
    #[arg(long, conflicts_with = "config")]
    pub entitlements: Option<PathBuf>,
    /// Findings (OCSF JSON Lines) from `replay --findings`.
    #[arg(long, conflicts_with = "config")]
    pub findings: Option<PathBuf>,
    /// Window records (JSON Lines) from `replay --windows`.
    #[arg(long, conflicts_with = "config")]
    pub windows: Option<PathBuf>,
    /// Balance records (JSON Lines) from `replay --balances`.
    #[arg(long, conflicts_with = "config")]
    pub balances: Option<PathBuf>,
    /// Read the entitlements, findings, windows and balances topics of this
    /// bursar.toml from their start to their current end instead of files.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl SourceArgs {
    pub fn source(&self) -> anyhow::Result<Source> {
        if let Some(path) = &self.config {
            return Ok(Source::Topics(Box::new(super::load_config(Some(path))?)));
        }
        let in_dir = |name: &str| self.dir.as_ref().map(|d| d.join(name)).filter(|p| p.exists());
        let pick = |flag: &Option<PathBuf>, name: &str| flag.clone().or_else(|| in_dir(name));
        let source = Source::Files {
            entitlements: pick(&self.entitlements, "entitlements.jsonl"),
            findings: pick(&self.findings, "findings.jsonl"),
            windows: pick(&self.windows, "windows.jsonl"),
            balances: pick(&self.balances, "balances.jsonl"),
        };
        if let Source::Files { entitlements: None, findings: None, windows: None, balances: None } = source {
            anyhow::bail!("no outputs to read: name --dir DIR, or files with --findings, --windows, --balances (and --entitlements), or topics with --config bursar.toml");
        }
        Ok(source)
    }

    /// What the page names as its source.
    pub fn describe(&self) -> String {
        match (&self.config, &self.dir) {
            (Some(c), _) => format!("the topics of {}", c.display()),
            (None, Some(d)) => d.display().to_string(),
            (None, None) => [&self.findings, &self.windows, &self.balances].into_iter().flatten().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        }
    }
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The HTML file to write.
    #[arg(long, default_value = "report.html")]
    pub out: PathBuf,
    /// Keys that get a chart of their own, in page order (every key gets its tables).
    #[arg(long, default_value_t = 200)]
    pub max_key_charts: usize,
}

/// Newest findings listed per key on the page.
const PAGE_FINDINGS: usize = 10;

pub fn run(a: ReportArgs) -> anyhow::Result<ExitCode> {
    let source = a.source.source()?;
    let review = Review::read(&source, None, Keep { findings: PAGE_FINDINGS, windows: 0 })?;
    write(&review, &PageOptions { source: a.source.describe(), max_key_charts: a.max_key_charts }, &a.out)?;
    eprintln!("bursar: report of {} keys written to {}", review.keys.len(), a.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Renders and writes the page (under a temporary name, renamed when complete).
fn write(review: &Review, options: &PageOptions, out: &Path) -> anyhow::Result<()> {
    write_whole(out, render(review, options)?.as_bytes())
}

/// Writes `bytes` as the file `path`, under a temporary name until complete.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let (mut staged, mut file) = bursar::sink::StagedFile::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut file, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    staged.commit().with_context(|| format!("cannot write {}", path.display()))
}

/// The demo's report: its entitlements (the bundled text, written beside its
/// outputs as entitlements.jsonl so `inspect --dir` finds them too) and the
/// outputs it wrote in `dir`; returns the page's path.
pub fn demo_report(dir: &Path, entitlements: &str) -> anyhow::Result<PathBuf> {
    write_whole(&dir.join("entitlements.jsonl"), entitlements.as_bytes())?;
    let files = SourceArgs { dir: Some(dir.to_path_buf()), entitlements: None, findings: None, windows: None, balances: None, config: None };
    let review = Review::read(&files.source()?, None, Keep { findings: PAGE_FINDINGS, windows: 0 })?;
    let out = dir.join("report.html");
    write(&review, &PageOptions { source: "bursar demo (bundled sample data)".into(), max_key_charts: usize::MAX }, &out)?;
    Ok(out)
}
