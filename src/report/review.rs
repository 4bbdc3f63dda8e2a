//! The review model: what `report` and `inspect` show of each credential,
//! gathered in one pass over the outputs (docs/report.md). Entitlements stay
//! raw JSON, so every scope list an entitlement has is shown as it is; rule
//! names come from the findings themselves.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use super::records::{BalanceIn, FindingIn, WindowIn};
use super::source::{Kind, Source};
use super::ReportError;
use crate::decode::secrets::{is_raw_secret, redacted_id};
use crate::model::credits::{parse_decimal_string, parse_json_number};
use crate::model::time::{day_of, parse_rfc3339_any, Day, MS_PER_DAY};

/// A live grant of the latest balance record.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub month: String,
    pub amount: i64,
    pub remaining: i64,
    /// Epoch ms: the instant the grant's remainder is forfeited.
    pub expires: i64,
}

/// The latest balance record of a credential (micro-credits).
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    pub as_of: i64,
    pub month: String,
    pub banked_at_start: i64,
    pub used: i64,
    pub remaining: i64,
    pub overage: i64,
    pub grants: Vec<Grant>,
}

impl Balance {
    /// This month's grant (0 when the month granted nothing).
    pub fn this_month(&self) -> i64 {
        self.grants.iter().filter(|g| g.month == self.month).map(|g| g.amount).sum()
    }

    /// What is left of earlier months' grants: the banked credit now.
    pub fn banked(&self) -> i64 {
        self.grants.iter().filter(|g| g.month < self.month).map(|g| g.remaining).sum()
    }
}

/// One finding as the review shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub time: i64,
    pub rule: String,
    pub severity_id: u8,
    pub desc: String,
    pub uid: String,
}

/// One closed window as `inspect` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WindowRow {
    pub window: String,
    pub start: i64,
    pub calls: u64,
    pub credits: i64,
}

/// Why a reviewer should look at a key first, most urgent first (docs/report.md, "Keys to look at first").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Reason {
    Exposed,
    RevokedButUsed,
    Shared,
    OutOfScope,
    DormantWithBank,
    NearBankCap,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Exposed => "exposed",
            Reason::RevokedButUsed => "revoked but used",
            Reason::Shared => "shared",
            Reason::OutOfScope => "out of scope",
            Reason::DormantWithBank => "dormant with a large bank",
            Reason::NearBankCap => "carryover near its cap",
        }
    }
}

/// Everything known of one credential.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyView {
    pub credential: String,
    /// Entitlement versions in the order read (raw JSON; a raw secret as credential is redacted).
    pub versions: Vec<Value>,
    /// Owner named by a finding, for credentials without an entitlement.
    pub finding_owner: Option<String>,
    pub balance: Option<Balance>,
    /// Per day: the last balance record's remaining and banked credit.
    pub balance_series: BTreeMap<Day, (i64, i64)>,
    /// Per day: calls and credits.
    pub usage: BTreeMap<Day, (u64, i64)>,
    /// Start of the latest window with calls.
    pub last_used: Option<i64>,
    /// Findings per rule name.
    pub findings: BTreeMap<String, u64>,
    /// The newest findings (as many as the review keeps), oldest first.
    pub recent: VecDeque<FindingRow>,
    pub recent_windows: VecDeque<WindowRow>,
    pub max_severity: u8,
    /// Time of the latest `dormant.idle` finding.
    pub last_idle: Option<i64>,
}

impl KeyView {
    /// The version read last: the one the outputs were computed with at the end.
    pub fn latest(&self) -> Option<&Value> {
        self.versions.last()
    }

    pub fn owner(&self) -> String {
        match (self.latest().and_then(|v| v["owner"].as_str()), &self.finding_owner) {
            (Some(o), _) => o.to_string(),
            (None, Some(o)) => o.clone(),
            (None, None) => "(no entitlement)".to_string(),
        }
    }

    /// A micro-credit amount of the latest version's `credits` (`monthly`, `bank_cap`).
    pub fn plan(&self, field: &str) -> Option<i64> {
        credits_of(&self.latest()?["credits"][field])
    }

    /// Why to look at this key first, most urgent first (empty: nothing urgent).
    pub fn reasons(&self) -> Vec<Reason> {
        let has = |rule: &str| self.findings.contains_key(rule);
        let banked = self.balance.as_ref().map_or(0, Balance::banked);
        let dormant = self.last_idle.is_some_and(|idle| self.last_used.is_none_or(|u| u < idle));
        let near_cap = match (self.plan("bank_cap"), &self.balance) {
            (Some(cap), Some(b)) if cap > 0 => (b.banked_at_start as i128) * 10 >= (cap as i128) * 9,
            _ => false,
        };
        let checks = [
            (Reason::Exposed, has("credential.exposed")),
            (Reason::RevokedButUsed, has("credential.revoked")),
            (Reason::Shared, has("credential.shared")),
            (Reason::OutOfScope, self.findings.keys().any(|r| r.starts_with("scope."))),
            (Reason::DormantWithBank, dormant && banked > 0 && banked >= self.plan("monthly").unwrap_or(0)),
            (Reason::NearBankCap, near_cap),
        ];
        checks.into_iter().filter(|(_, on)| *on).map(|(r, _)| r).collect()
    }
}

/// How much of each key's history a review keeps.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    pub findings: usize,
    pub windows: usize,
}

/// The review of every credential in the outputs (or of one).
#[derive(Debug, Default)]
pub struct Review {
    pub keys: BTreeMap<String, KeyView>,
    /// Findings per day, by severity_id (index 0..=5).
    pub findings_per_day: BTreeMap<Day, [u64; 6]>,
    /// Calls and credits per day, every key.
    pub usage_per_day: BTreeMap<Day, (u64, i64)>,
    /// The greatest time seen in any output.
    pub as_of: Option<i64>,
    /// Records that could not be read, per kind.
    pub unreadable: u64,
    /// The window size counted for usage per day (the first seen that divides a day).
    window_size: Option<String>,
    only: Option<String>,
    keep: Option<Keep>,
}

/// A credential as outputs carry it: a raw secret is redacted as bursar redacts it.
pub fn credential_id(raw: &str) -> String {
    if is_raw_secret(raw) {
        redacted_id(raw)
    } else {
        raw.to_string()
    }
}

fn credits_of(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => parse_decimal_string(s).ok(),
        Value::Number(n) => parse_json_number(&n.to_string()).ok(),
        _ => None,
    }
}

fn time_of(text: &str) -> Option<i64> {
    parse_rfc3339_any(text).ok()
}

impl Review {
    /// Reads every kind of record from `source`; with `only`, that credential's alone.
    pub fn read(source: &Source, only: Option<&str>, keep: Keep) -> Result<Review, ReportError> {
        let mut review = Review::new(only, keep);
        review.read_all(source)?;
        Ok(review)
    }

    /// An empty review; with `only`, of that credential alone (a raw secret is redacted first).
    pub fn new(only: Option<&str>, keep: Keep) -> Review {
        Review { only: only.map(credential_id), keep: Some(keep), ..Review::default() }
    }

    /// Adds every record of every kind of `source`.
    pub fn read_all(&mut self, source: &Source) -> Result<(), ReportError> {
        let key = self.only.clone();
        // Outputs carry the credential as a JSON string: a line of this key contains it quoted.
        let needle = key.as_ref().map(|k| serde_json::to_string(k).unwrap_or_default());
        for kind in Kind::ALL {
            let filter = key.as_deref().zip(needle.as_deref()).map(|(k, n)| (k.as_bytes(), n.as_bytes()));
            source.each(kind, filter, &mut |key, value| self.add_record(kind, key, value))?;
        }
        Ok(())
    }

    fn keep(&self) -> Keep {
        self.keep.unwrap_or(Keep { findings: 10, windows: 0 })
    }

    fn key(&mut self, credential: &str) -> Option<&mut KeyView> {
        if self.only.as_deref().is_some_and(|o| o != credential) {
            return None;
        }
        if !self.keys.contains_key(credential) {
            self.keys.insert(credential.to_string(), KeyView { credential: credential.to_string(), ..KeyView::default() });
        }
        self.keys.get_mut(credential)
    }

    fn seen(&mut self, t: i64) {
        self.as_of = Some(self.as_of.map_or(t, |a| a.max(t)));
    }

    /// Adds one record (a JSON line).
    pub fn add(&mut self, kind: Kind, line: &[u8]) {
        self.add_record(kind, None, Some(line));
    }

    /// Adds one record: a file line, or a topic record's key and value (an
    /// entitlement with a null value is a tombstone of its key; one without
    /// a `credential` member is the key's, as bursar reads the topic).
    pub fn add_record(&mut self, kind: Kind, key: Option<&[u8]>, value: Option<&[u8]>) {
        let read = match (kind, value) {
            (Kind::Entitlements, _) => self.entitlement_record(key, value),
            (_, None) => return,
            (Kind::Findings, Some(v)) => serde_json::from_slice(v).ok().and_then(|f| self.finding(&f)),
            (Kind::Windows, Some(v)) => serde_json::from_slice(v).ok().and_then(|w| self.window(&w)),
            (Kind::Balances, Some(v)) => serde_json::from_slice(v).ok().and_then(|b| self.balance(&b)),
        };
        if read.is_none() {
            self.unreadable += 1;
        }
    }

    fn entitlement_record(&mut self, key: Option<&[u8]>, value: Option<&[u8]>) -> Option<()> {
        let key = key.map(String::from_utf8_lossy);
        let mut v = match (value, &key) {
            (Some(v), _) => serde_json::from_slice::<Value>(v).ok()?,
            (None, Some(k)) => serde_json::json!({"credential": k, "tombstone": true}),
            (None, None) => return Some(()),
        };
        if let (Some(k), true) = (&key, v["credential"].is_null() && v.is_object()) {
            v["credential"] = Value::String(k.to_string());
        }
        self.entitlement(v)
    }

    fn entitlement(&mut self, mut v: Value) -> Option<()> {
        let id = credential_id(v["credential"].as_str()?);
        v["credential"] = Value::String(id.clone());
        let tombstone = v["tombstone"].as_bool() == Some(true);
        if let Some(k) = self.key(&id) {
            if tombstone {
                k.versions.clear();
            } else {
                k.versions.push(v);
            }
        }
        Some(())
    }

    fn finding(&mut self, f: &FindingIn<'_>) -> Option<()> {
        let bursar = &f.unmapped.bursar;
        let rule = f.finding_info.types.first().or(bursar.rule.as_ref())?.to_string();
        let severity = f.severity_id.min(5) as u8;
        let row = FindingRow { time: f.time, rule: rule.clone(), severity_id: severity, desc: f.finding_info.desc.to_string(), uid: f.finding_info.uid.to_string() };
        let owner = f.resources.first().and_then(|r| r.owner.as_ref()?.name.as_ref()).map(|n| n.to_string());
        let (keep, time) = (self.keep().findings, f.time);
        self.seen(time);
        let Some(k) = self.key(&bursar.credential) else { return Some(()) };
        *k.findings.entry(rule.clone()).or_default() += 1;
        k.max_severity = k.max_severity.max(severity);
        if owner.is_some() {
            k.finding_owner = owner;
        }
        if rule == "dormant.idle" {
            k.last_idle = Some(k.last_idle.map_or(time, |t| t.max(time)));
        }
        k.recent.push_back(row);
        if k.recent.len() > keep {
            k.recent.pop_front();
        }
        self.findings_per_day.entry(day_of(time)).or_default()[severity as usize] += 1;
        Some(())
    }

    fn window(&mut self, w: &WindowIn<'_>) -> Option<()> {
        let (start, end) = (time_of(&w.start)?, time_of(&w.end)?);
        let (calls, credits) = (w.calls, parse_decimal_string(&w.credits).ok()?);
        let keep = self.keep().windows;
        self.seen(end);
        // Tumbling windows of every size that divides a day give the same
        // daily sums: count one size only.
        if self.window_size.is_none() && end - start > 0 && MS_PER_DAY % (end - start) == 0 {
            self.window_size = Some(w.window.to_string());
        }
        let counted = self.window_size.as_deref() == Some(&*w.window);
        let Some(k) = self.key(&w.credential) else { return Some(()) };
        if calls > 0 {
            k.last_used = Some(k.last_used.map_or(start, |t| t.max(start)));
        }
        if keep > 0 {
            k.recent_windows.push_back(WindowRow { window: w.window.to_string(), start, calls, credits });
            if k.recent_windows.len() > keep {
                k.recent_windows.pop_front();
            }
        }
        if counted {
            let day = k.usage.entry(day_of(start)).or_default();
            day.0 += calls;
            day.1 = day.1.saturating_add(credits);
            let all = self.usage_per_day.entry(day_of(start)).or_default();
            all.0 += calls;
            all.1 = all.1.saturating_add(credits);
        }
        Some(())
    }

    fn balance(&mut self, v: &BalanceIn<'_>) -> Option<()> {
        let c = |text: &str| parse_decimal_string(text).ok();
        let grants = v.grants.iter().map(|g| Some(Grant { month: g.month.to_string(), amount: c(&g.amount)?, remaining: c(&g.remaining)?, expires: time_of(&g.expires)? }));
        let b = Balance {
            as_of: time_of(&v.as_of)?,
            month: v.month.to_string(),
            banked_at_start: c(&v.banked_at_start)?,
            used: c(&v.used)?,
            remaining: c(&v.remaining)?,
            overage: c(&v.overage)?,
            grants: grants.collect::<Option<Vec<Grant>>>()?,
        };
        self.seen(b.as_of);
        let Some(k) = self.key(&v.credential) else { return Some(()) };
        k.balance_series.insert(day_of(b.as_of), (b.remaining, b.banked()));
        if k.balance.as_ref().is_none_or(|old| old.as_of <= b.as_of) {
            k.balance = Some(b);
        }
        Some(())
    }

    /// Keys to look at first: every key with a reason, most urgent reason
    /// first, then highest severity, then credential.
    pub fn look_first(&self) -> Vec<(&KeyView, Vec<Reason>)> {
        let mut rows: Vec<(&KeyView, Vec<Reason>)> = self.keys.values().map(|k| (k, k.reasons())).filter(|(_, r)| !r.is_empty()).collect();
        rows.sort_by(|a, b| a.1[0].cmp(&b.1[0]).then(b.0.max_severity.cmp(&a.0.max_severity)).then(a.0.credential.cmp(&b.0.credential)));
        rows
    }

    /// Keys grouped by owner (owners and keys in byte order).
    pub fn by_owner(&self) -> BTreeMap<String, Vec<&KeyView>> {
        let mut owners: BTreeMap<String, Vec<&KeyView>> = BTreeMap::new();
        for k in self.keys.values() {
            owners.entry(k.owner()).or_default().push(k);
        }
        owners
    }
}
