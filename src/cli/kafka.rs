//! Kafka commands: `run`, `topics create`, `replay --topic`, `gen --topic`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use bursar::config::Config;
use bursar::gen::GenSpec;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// bursar.toml (SPEC §6); `kafka."bootstrap.servers"` is required.
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum TopicsCommand {
    /// Create every topic with its partitions and cleanup policy.
    Create {
        #[arg(long)]
        config: PathBuf,
    },
}

pub fn run(_a: RunArgs) -> anyhow::Result<ExitCode> {
    bail!("the Kafka runtime is being wired in")
}

pub fn topics(_c: TopicsCommand) -> anyhow::Result<ExitCode> {
    bail!("the Kafka runtime is being wired in")
}

pub fn replay_topic(_a: super::replay::ReplayArgs, _config: Config) -> anyhow::Result<ExitCode> {
    bail!("the Kafka runtime is being wired in")
}

pub fn gen_to_topic(_config: &Config, _topic: &str, _spec: &GenSpec) -> anyhow::Result<ExitCode> {
    bail!("the Kafka runtime is being wired in")
}
