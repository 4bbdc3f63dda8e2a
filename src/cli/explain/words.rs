//! The words of `bursar explain`: the finding, its trigger, the version in
//! force, the state before and after, why the rule fired, what to do, and
//! what the tuning does with it (README.md, "Explaining a finding").

use std::fmt::Write as _;
use std::path::Path;

use bursar::config::EngineConfig;
use bursar::engine::credential::CredState;
use bursar::model::credits::format as credits;
use bursar::model::time::{format_duration, format_rfc3339 as time, month_label};
use bursar::model::Entitlement;
use bursar::rules::figures::{Dimension, Sum};
use bursar::rules::remediation::remediation;
use bursar::rules::tuning::{Outcome, Tuning};
use bursar::rules::{Figures, Finding};

use super::{Found, Source};

/// The whole explanation, in words.
pub(super) fn report(x: &Found, source: &Source, cfg: &EngineConfig, tuning: &Tuning, config: Option<&Path>) -> String {
    let f = &x.finding;
    let mut s = String::new();
    let info = f.rule.info();
    let _ = writeln!(s, "Finding {} ({}), severity {}, at {}:", f.uid(), f.rule.as_str(), f.severity, time(f.time));
    let json: serde_json::Value = serde_json::from_str(&bursar::emit::finding_json(f)).unwrap_or_default();
    let _ = writeln!(s, "  {}", json["finding_info"]["title"].as_str().unwrap_or(info.title));
    let _ = writeln!(s, "  {}", json["finding_info"]["desc"].as_str().unwrap_or_default());
    let at = &x.at;
    let place = match source {
        Source::File(path) => format!("line {} of {} (partition {}, offset {})", at.line.unwrap_or_default(), path.display(), at.partition, at.offset),
        Source::Topic(range) => format!("partition {} offset {} of topic {}", at.partition, at.offset, range.topic),
    };
    let _ = writeln!(s, "\nTrigger: {place}.");
    match (&x.event, &x.other) {
        (Some(e), _) => {
            let _ = writeln!(s, "  The credential's own event {} at {}: capability {}{}, {} credits, {} tokens.", e.id, time(e.time), e.capability, e.model.as_ref().map(|m| format!(", model {m}")).unwrap_or_default(), credits(e.credits), e.tokens_in + e.tokens_out);
        }
        (None, Some((other, t))) => {
            let wm = |w: Option<i64>| w.map_or("none".to_string(), time);
            let _ = writeln!(s, "  An event of {other} at {} moved the partition's watermark from {} to {}, passing {} (timers and month starts fire when the watermark reaches them).", time(*t), wm(x.watermark.0), wm(x.watermark.1), time(f.time));
        }
        (None, None) => {
            let _ = writeln!(s, "  A rejected record; it moves nothing, so this cannot be the trigger.");
        }
    }
    let _ = writeln!(s, "\n{}", version_words(f.version.as_deref(), f.time, cfg));
    let _ = writeln!(s, "\nState of {} on partition {}, before -> after the record:", f.credential, x.at.partition);
    s.push_str(&state_words(x.before.as_ref(), x.after.as_ref(), cfg));
    let _ = writeln!(s, "\nWhy it fired: {}.", because(f, cfg));
    let _ = writeln!(s, "  The rule's figures:");
    for (k, v) in f.figures.to_map() {
        let _ = writeln!(s, "    {k} = {}", v.as_str().map_or_else(|| v.to_string(), str::to_string));
    }
    let r = remediation(f.rule);
    let _ = writeln!(s, "\nWhat to do: {}", r.desc);
    for reference in r.references {
        let _ = writeln!(s, "  see {reference}");
    }
    let mut tuned = f.clone();
    let outcome = tuning.apply(&mut tuned);
    let _ = writeln!(
        s,
        "\nTuning ({}): {}.",
        config.map_or("no --config".into(), |p| p.display().to_string()),
        match outcome {
            Outcome::Kept if tuned.severity != f.severity => format!("emitted with severity {} (overridden)", tuned.severity),
            Outcome::Kept => "emitted as the rule produced it".to_string(),
            Outcome::Marked => format!("emitted marked Suppressed (status_id 3): {}", tuned.suppressed.as_ref().map_or("", |r| &r.reason)),
            Outcome::Dropped => "dropped by a [[suppress]] entry with action = \"drop\" (counted, not emitted)".to_string(),
            Outcome::Disabled => format!("not emitted: the rule is switched off (rules.\"{}\".enabled = false)", f.rule.as_str()),
        }
    );
    s
}

/// The comparison the rule made, in words (docs/semantics.md, "Rules").
fn because(f: &Finding, cfg: &EngineConfig) -> String {
    let factor = |micros: i64| credits(micros);
    match &f.figures {
        Figures::Burst { window_ms, exceeded, credits: c, calls, tokens, .. } => {
            let sums = [*c, *calls, *tokens];
            let parts: Vec<String> = exceeded
                .iter()
                .filter_map(|d| {
                    let Sum { sum, limit } = sums[*d as usize]?;
                    let show = |v: i64| if *d == Dimension::Credits { credits(v) } else { v.to_string() };
                    Some(format!("the {} over {} reached {}, more than the limit {}", d.as_str(), format_duration(*window_ms), show(sum), show(limit)))
                })
                .collect();
            parts.join("; ")
        }
        Figures::CreditsThreshold { threshold, used, available_at_start, .. } => {
            format!("used {} >= {} x the {} available at the month start", credits(*used), factor(*threshold), credits(*available_at_start))
        }
        Figures::CreditsOverdraft { overage, used, available_at_start, .. } => {
            format!("this event took the month's use to {} of {} available, leaving overage {} that no grant covers", credits(*used), credits(*available_at_start), credits(*overage))
        }
        Figures::BankingDrawdown { used_banked, banked_at_start, .. } => {
            format!("credit used from earlier months' grants, {}, reached {} x the {} banked at the month start", credits(*used_banked), factor(cfg.drawdown.micros), credits(*banked_at_start))
        }
        Figures::BankingAccumulation { banked, monthly, .. } => {
            format!("at the month start the banked remainder {} was at least {} x the monthly grant {}", credits(*banked), factor(cfg.accumulation.micros), credits(*monthly))
        }
        Figures::DormantReactivated { last_activity, gap_ms, dormancy_ms } => {
            format!("the gap since the last activity ({}) is {}, at least the dormancy {}", time(*last_activity), format_duration(*gap_ms), format_duration(*dormancy_ms))
        }
        Figures::DormantIdle { last_activity, due, dormancy_ms } => {
            format!("the partition's watermark reached the last activity {} + the dormancy {} = {}", time(*last_activity), format_duration(*dormancy_ms), time(*due))
        }
        Figures::ScopeViolation { violated, .. } => {
            let verb = if violated.len() > 1 { "match" } else { "matches" };
            format!("the call's {} {verb} none of the allowed globs of the version in force", violated.join(" and "))
        }
        Figures::ScopePrincipal { principal, allowed, .. } => format!("the principal {principal} matches none of the allowed principal globs ({}) of the version in force", allowed.join(", ")),
        Figures::ScopeNetwork { src_ip, address: true, allowed, .. } => format!("the address {src_ip} lies in none of the allowed networks ({}) of the version in force", allowed.join(", ")),
        Figures::ScopeNetwork { src_ip, allowed, .. } => format!("src_ip {src_ip} is not an IP address, so it lies outside every allowed network ({})", allowed.join(", ")),
        Figures::CredentialShared { dimension, limit, count, values, .. } => {
            format!("the day's distinct {dimension} values reached {count}, more than the limit {limit} (first: {})", values.join(", "))
        }
        Figures::ScopeDrift { dimension, value } => {
            format!("after the learning period ({} from the first event), the {dimension} {value} was not among those the credential had used", format_duration(cfg.learning_ms))
        }
        Figures::CredentialRevoked { reason: "not_yet_valid", .. } => "the event is before the version's valid_from".into(),
        Figures::CredentialRevoked { reason: "expired", .. } => "the event is at or after the version's valid_until".into(),
        Figures::CredentialRevoked { status, .. } => format!("the version in force has status {status}"),
        Figures::CredentialUnmanaged { .. } => "no entitlement version has an updated_at at or before the event".into(),
        Figures::CredentialExposed => "the credential field held a raw secret, not a key id; bursar redacted it".into(),
    }
}

/// The version in force, or why there is none, in words.
fn version_words(v: Option<&Entitlement>, t: i64, cfg: &EngineConfig) -> String {
    let Some(v) = v else {
        return format!(
            "No entitlement version was in force at {}: the credential is unmanaged here, so the configured defaults apply (dormancy {}, {} burst rules).",
            time(t),
            format_duration(cfg.dormancy_ms),
            cfg.default_burst.len()
        );
    };
    let mut s = format!("Entitlement in force at {}: the version updated {}, owner {}, status {}", time(t), time(v.updated_at), v.owner, format!("{:?}", v.status).to_lowercase());
    match (v.valid_from, v.valid_until) {
        (None, None) => s.push_str(", valid without dates"),
        (from, until) => {
            let _ = write!(s, ", valid from {} until {}", from.map_or("any time".into(), time), until.map_or("no end".into(), time));
        }
    }
    let dims: Vec<String> = v
        .scope
        .lists()
        .into_iter()
        .map(|(name, g)| format!("{name} {}", g.map_or("any".to_string(), |g| if g.is_empty() { "none".into() } else { g.join(", ") })))
        .collect();
    let _ = write!(s, ".\n  Scope: {}.", dims.join("; "));
    match &v.credits {
        Some(c) => {
            let _ = write!(s, "\n  Credits: {} a month, banked for {} months{}.", credits(c.monthly), c.bank_months, c.bank_cap.map(|b| format!(", bank cap {}", credits(b))).unwrap_or_default());
        }
        None => s.push_str("\n  Credits: none (no ledger)."),
    }
    let rules = v.burst.as_deref().unwrap_or(&cfg.default_burst);
    let from = if v.burst.is_some() { "the version's" } else { "the configured" };
    let _ = write!(s, "\n  Burst rules ({from}): {}.", if rules.is_empty() { "none".to_string() } else { rules.iter().map(burst_words).collect::<Vec<_>>().join("; ") });
    let _ = write!(s, "\n  Dormancy: {}.", v.dormancy_ms.map_or(format!("{} (the configured default)", format_duration(cfg.dormancy_ms)), format_duration));
    s
}

fn burst_words(r: &bursar::model::BurstRule) -> String {
    let mut parts = Vec::new();
    if let Some(c) = r.credits {
        parts.push(format!("{} credits", credits(c)));
    }
    if let Some(c) = r.calls {
        parts.push(format!("{c} calls"));
    }
    if let Some(t) = r.tokens {
        parts.push(format!("{t} tokens"));
    }
    format!("at most {} per {}", parts.join(", "), format_duration(r.window_ms))
}

/// One line per state family: `before -> after` where it changed.
fn state_words(before: Option<&CredState>, after: Option<&CredState>, cfg: &EngineConfig) -> String {
    let Some(after) = after else { return "  (no state: the credential was never seen on this partition)\n".into() };
    let empty = CredState::default();
    let (b, new) = match before {
        Some(b) => (b, false),
        None => (&empty, true),
    };
    let mut s = String::new();
    if new {
        s.push_str("  (nothing before: this record is the credential's first on the partition)\n");
    }
    let t = |v: Option<i64>| v.map_or("none".to_string(), time);
    let pair = |x: String, y: String| if x == y { x } else { format!("{x} -> {y}") };
    let _ = writeln!(s, "  activity: first seen {}; last activity {}", pair(t(b.activity.first_seen), t(after.activity.first_seen)), pair(t(b.activity.last_activity), t(after.activity.last_activity)));
    let due = |st: &CredState| t(st.activity.idle_due.map(|(due, _, _)| due));
    let _ = writeln!(s, "  idle timer (dormant.idle) due: {}", pair(due(b), due(after)));
    if let Some(first) = after.activity.first_seen {
        let _ = writeln!(s, "  scope.drift learning until {}", time(first.saturating_add(cfg.learning_ms)));
    }
    let seen = |st: &CredState| {
        let (c, m) = st.scope.remembered();
        let join = |v: &[bursar::model::usage::Text]| if v.is_empty() { "none".to_string() } else { v.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ") };
        (join(c), join(m))
    };
    let ((bc, bm), (ac, am)) = (seen(b), seen(after));
    let _ = writeln!(s, "  remembered capabilities: {}; models: {}", pair(bc, ac), pair(bm, am));
    for (i, state) in after.burst.iter().enumerate() {
        let sums = |st: &CredState| {
            st.burst.get(i).map_or("empty".to_string(), |x| {
                let (_, _, [c, calls, tokens], silent) = x.view();
                let c = i64::try_from(c).map_or_else(|_| "beyond range".into(), credits);
                format!("credits {c}, calls {calls}, tokens {tokens}{}", silent.map(|u| format!(", silent until {}", time(u))).unwrap_or_default())
            })
        };
        let _ = writeln!(s, "  burst rule {i} (window {}): {}", format_duration(state.view().0), pair(sums(b), sums(after)));
    }
    let ledger = |st: &CredState| {
        st.ledger.as_ref().map_or("none".to_string(), |l| {
            format!("{}: available at start {}, used {} ({} banked), overage {}, remaining {}", month_label(l.month), credits(l.available_at_start), credits(l.used), credits(l.used_banked), credits(l.overage), credits(l.remaining()))
        })
    };
    let _ = writeln!(s, "  ledger: {}", pair(ledger(b), ledger(after)));
    s
}
