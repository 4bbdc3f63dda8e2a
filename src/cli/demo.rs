//! `bursar demo`: the engine on the bundled sample data, no broker needed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bursar::config::Config;
use bursar::engine::output::Output;
use bursar::rules::Rule;
use bursar::runtime::replay::replay_text;
use clap::Args;

/// The bundled sample data (examples/).
const USAGE: &str = include_str!("../../examples/usage.jsonl");
const ENTITLEMENTS: &str = include_str!("../../examples/entitlements.jsonl");
const CONFIG: &str = include_str!("../../examples/demo.toml");

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Where to write the full outputs (findings, windows, balances, rejected JSON Lines).
    #[arg(long, default_value_os_t = std::env::temp_dir().join("bursar-demo"))]
    pub out: PathBuf,
}

pub fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let config = Config::parse(CONFIG).context("examples/demo.toml")?.engine()?;
    let outputs = replay_text(&config, 1, ENTITLEMENTS, USAGE);
    std::fs::create_dir_all(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let path = |name: &str| a.out.join(name);
    let files = ["findings.jsonl", "windows.jsonl", "balances.jsonl", "rejected.jsonl"].map(|n| Some(path(n)));
    let mut sinks = super::file_sinks([&files[0], &files[1], &files[2], &files[3]], None)?;
    let all = outputs.findings.iter().cloned().map(|f| Output::Finding(Box::new(f)))
        .chain(outputs.windows.iter().cloned().map(Output::Window))
        .chain(outputs.balances.iter().cloned().map(Output::Balance))
        .chain(outputs.rejected.iter().cloned().map(Output::Rejected));
    for o in all {
        sinks.write(&o)?;
    }
    sinks.finish()?;

    let records = |text: &str| bursar::decode::json_lines(text.as_bytes()).count();
    println!("bursar demo: {} usage records, {} entitlement records (bundled sample data)\n", records(USAGE), records(ENTITLEMENTS));
    println!("{:<22} {:>5} {:>8}  credentials", "rule", "sev", "findings");
    println!("{}", "-".repeat(78));
    for rule in Rule::ALL {
        let of_rule: Vec<_> = outputs.findings.iter().filter(|f| f.rule == rule).collect();
        let mut creds: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &of_rule {
            *creds.entry(f.credential.as_str()).or_default() += 1;
        }
        // Severities seen: `5`, or a range such as `4-5`.
        let (lo, hi) = (of_rule.iter().map(|f| f.severity).min(), of_rule.iter().map(|f| f.severity).max());
        let sev = match (lo, hi) {
            (Some(lo), Some(hi)) if lo < hi => format!("{lo}-{hi}"),
            (_, Some(hi)) => hi.to_string(),
            _ => "-".into(),
        };
        let names: Vec<String> = creds.iter().map(|(c, n)| if *n > 1 { format!("{c} ({n})") } else { c.to_string() }).collect();
        let mut list = names.join(", ");
        if list.len() > 60 {
            list.truncate(57);
            list.push_str("...");
        }
        println!("{:<22} {:>5} {:>8}  {}", rule.as_str(), sev, of_rule.len(), list);
    }
    println!("{}", "-".repeat(78));
    println!(
        "{} findings, {} window records, {} balance records, {} rejected records",
        outputs.findings.len(),
        outputs.windows.len(),
        outputs.balances.len(),
        outputs.rejected.len()
    );
    println!("\nFull outputs (JSON Lines) in {}:", a.out.display());
    for name in ["findings.jsonl", "windows.jsonl", "balances.jsonl", "rejected.jsonl"] {
        println!("  {}", path(name).display());
    }
    println!("\nEntitlement review (open in a browser): {}", super::report::demo_report(&a.out, ENTITLEMENTS)?.display());
    println!("One key: bursar inspect --dir {} --credential KEY", a.out.display());
    Ok(ExitCode::SUCCESS)
}
