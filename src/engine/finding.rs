//! Building findings: the context every rule shares (credential, owner,
//! trigger), so a rule only states its rule, dedupe key, time and figures.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::output::{Finding, Output, Rule};
use crate::model::UsageEvent;

/// Who and what a finding is about.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub credential: &'a Arc<str>,
    pub owner: Option<&'a str>,
    pub topic: &'a str,
    pub partition: i32,
    /// The triggering event and its offset; None for timer findings.
    pub trigger: Option<(&'a UsageEvent, i64)>,
}

impl Ctx<'_> {
    /// Pushes a finding of `rule` to `out`.
    pub fn emit(&self, out: &mut Vec<Output>, rule: Rule, dedupe: Vec<String>, time: i64, severity: u8, figures: Map<String, Value>) {
        out.push(Output::Finding(Box::new(Finding {
            rule,
            credential: self.credential.to_string(),
            dedupe,
            time,
            severity,
            owner: self.owner.map(str::to_string),
            evidence: self.trigger.map(|(e, _)| e.clone()),
            topic: self.topic.to_string(),
            partition: self.partition,
            offset: self.trigger.map(|(_, o)| o),
            figures,
        })));
    }
}

/// Builds a figures map: `figures!{"month" => label, "used" => credits::format(x)}`.
#[macro_export]
macro_rules! figures {
    () => { serde_json::Map::new() };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut m = serde_json::Map::new();
        $( m.insert($k.to_string(), serde_json::Value::from($v)); )+
        m
    }};
}
