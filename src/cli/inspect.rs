//! `bursar inspect --credential KEY`: one key, from output files or topics
//! (docs/report.md): its entitlement versions, balance with live grants and
//! their expiries, recent windows and findings; text or `--json`.

use std::process::ExitCode;

use bursar::report::inspect::{to_json, to_text};
use bursar::report::review::credential_id;
use bursar::report::{Keep, Review};
use clap::Args;

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The credential id as outputs carry it (a raw secret is redacted first, as bursar does).
    #[arg(long)]
    pub credential: String,
    #[command(flatten)]
    pub source: super::report::SourceArgs,
    /// One JSON document instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Newest windows shown.
    #[arg(long, default_value_t = 20)]
    pub recent_windows: usize,
}

pub fn run(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let source = a.source.source()?;
    let review = Review::read(&source, Some(&a.credential), Keep { findings: usize::MAX, windows: a.recent_windows })?;
    let id = credential_id(&a.credential);
    let Some(key) = review.keys.get(&id) else {
        eprintln!("bursar: {id} appears in no output read ({}); check the id, or name the entitlements and outputs it is in", a.source.describe());
        return Ok(ExitCode::from(1));
    };
    let text = if a.json { serde_json::to_string_pretty(&to_json(key))? + "\n" } else { to_text(key) };
    // A reader that stops early (`| head`) is not an error.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
