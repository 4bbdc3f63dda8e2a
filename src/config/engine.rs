//! The engine's settings: validated from the file's keys and held in engine
//! units (milliseconds, micro-credits, exact factors).

use serde::{Deserialize, Serialize};

use super::{duration, invalid, Config, ConfigError};
use crate::model::{BurstRule, ScopeDimension};
use crate::rules::tuning::Tuning;

/// A factor such as 0.8 held as an integer number of millionths, so that
/// comparisons with credits are exact integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Factor {
    pub micros: i64,
}

impl Factor {
    pub fn from_f64(v: f64) -> Factor {
        Factor { micros: (v * 1_000_000.0).round() as i64 }
    }
    /// `amount >= factor * base`, exactly.
    pub fn reached(self, amount: i64, base: i64) -> bool {
        (amount as i128) * 1_000_000 >= (self.micros as i128) * (base as i128)
    }
    /// The factor in per-mille, as used in dedupe keys (0.8 → 800).
    pub fn per_mille(self) -> i64 {
        (self.micros + 500).div_euclid(1_000)
    }
}

/// The settings the engine needs, validated and in engine units.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub lateness_ms: i64,
    pub dedupe_window_ms: i64,
    /// Tumbling window sizes in configuration order.
    pub windows_ms: Vec<i64>,
    pub dormancy_ms: i64,
    pub learning_ms: i64,
    pub thresholds: Vec<Factor>,
    pub drawdown: Factor,
    pub accumulation: Factor,
    pub default_burst: Vec<BurstRule>,
    pub max_value_bytes: usize,
    /// Whether `scope.drift` fires in each dimension, indexed by `ScopeDimension as usize`.
    pub drift_dimensions: [bool; 4],
    /// `credential.shared` limits for credentials whose version in force sets none.
    pub max_principals: Option<i64>,
    pub max_source_ips: Option<i64>,
    /// Source topic named in findings (`unmapped.bursar.source.topic`).
    pub usage_topic: String,
    /// Rules switched off, severity overrides and suppressions (docs/semantics.md "Tuning and suppression").
    pub tuning: Tuning,
    /// `max_event_lead` in ms: events further ahead of their Kafka record
    /// timestamp are rejected (`pipeline::event_lead`). None: no guard.
    pub max_event_lead_ms: Option<i64>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Config::default().engine().expect("the default configuration is valid")
    }
}

/// Most `thresholds` a ledger tracks (one bit each per month).
pub const MAX_THRESHOLDS: usize = 64;

impl Config {
    /// The engine settings, validated.
    pub fn engine(&self) -> Result<EngineConfig, ConfigError> {
        let lateness_ms = duration("lateness", &self.lateness)?;
        let dedupe_window_ms = duration("dedupe_window", &self.dedupe_window)?;
        let dormancy_ms = duration("dormancy", &self.dormancy)?;
        let learning_ms = duration("learning_period", &self.learning_period)?;
        if self.windows.is_empty() {
            return Err(invalid("windows", &self.windows, "list at least one window size, e.g. [\"1m\", \"1h\"]"));
        }
        let mut windows_ms = Vec::new();
        for w in &self.windows {
            let ms = duration("windows", w)?;
            if ms <= 0 {
                return Err(invalid("windows", w, "window sizes must be positive"));
            }
            if windows_ms.contains(&ms) {
                return Err(invalid("windows", w, "list each window size once"));
            }
            windows_ms.push(ms);
        }
        let fraction = |key: &str, v: f64| -> Result<Factor, ConfigError> {
            if !v.is_finite() || !(0.0..=1_000_000.0).contains(&v) {
                return Err(invalid(key, v, "use a finite, non-negative number such as 0.8"));
            }
            let factor = Factor::from_f64(v);
            if factor.micros % 1_000 != 0 {
                return Err(invalid(key, v, "use a multiple of 0.001 such as 0.8 or 0.125"));
            }
            Ok(factor)
        };
        if self.thresholds.len() > MAX_THRESHOLDS {
            return Err(invalid("thresholds", self.thresholds.len(), "list at most 64 thresholds"));
        }
        let mut thresholds = Vec::new();
        for &f in &self.thresholds {
            let factor = fraction("thresholds", f)?;
            if factor.micros == 0 {
                return Err(invalid("thresholds", f, "thresholds must be greater than 0, e.g. [0.8, 1.0]"));
            }
            if thresholds.iter().any(|t: &Factor| t.per_mille() == factor.per_mille()) {
                return Err(invalid("thresholds", f, "list each threshold once (they are told apart in per-mille)"));
            }
            thresholds.push(factor);
        }
        let drawdown = fraction("drawdown", self.drawdown)?;
        let accumulation = fraction("accumulation", self.accumulation)?;
        if self.max_value_bytes == 0 {
            return Err(invalid("max_value_bytes", self.max_value_bytes, "use a positive size in bytes, e.g. 65536"));
        }
        let mut default_burst = Vec::new();
        for (i, r) in self.burst.iter().enumerate() {
            let key = format!("burst[{i}]");
            let window_ms = duration(&format!("{key}.window"), &r.window)?;
            if window_ms <= 0 || window_ms % 60 != 0 {
                return Err(invalid(&format!("{key}.window"), &r.window, "the window must split into 60 slices of whole milliseconds (a multiple of 60ms)"));
            }
            let credits = match &r.credits {
                Some(c) => Some(crate::model::credits::parse_decimal_string(c).map_err(|_| invalid(&format!("{key}.credits"), c, "write credits as a decimal string, e.g. \"50\""))?),
                None => None,
            };
            if credits.is_none() && r.calls.is_none() && r.tokens.is_none() {
                return Err(invalid(&key, &r.window, "set at least one of credits, calls, tokens"));
            }
            if r.calls.is_some_and(|c| c < 0) || r.tokens.is_some_and(|t| t < 0) {
                return Err(invalid(&key, &r.window, "limits must be non-negative"));
            }
            default_burst.push(BurstRule { window_ms, credits, calls: r.calls, tokens: r.tokens });
        }
        let drift_dimensions = self.drift_dimensions()?;
        let day_limit = |key: &str, v: Option<i64>| match v {
            Some(n) if n < 1 => Err(invalid(key, n, "use an integer of at least 1, or leave the key out to switch the rule off")),
            v => Ok(v),
        };
        let max_principals = day_limit("max_principals", self.max_principals)?;
        let max_source_ips = day_limit("max_source_ips", self.max_source_ips)?;
        // The data-quality guard (opt-in).
        let max_event_lead_ms = match &self.max_event_lead {
            None => None,
            Some(v) => match duration("max_event_lead", v)? {
                ms if ms > 0 => Some(ms),
                _ => return Err(invalid("max_event_lead", v, "use a positive duration such as \"1h\", or remove the key to turn the guard off")),
            },
        };
        Ok(EngineConfig {
            lateness_ms,
            dedupe_window_ms,
            windows_ms,
            dormancy_ms,
            learning_ms,
            thresholds,
            drawdown,
            accumulation,
            default_burst,
            max_value_bytes: self.max_value_bytes,
            drift_dimensions,
            max_principals,
            max_source_ips,
            usage_topic: self.topics.usage.clone(),
            tuning: super::tuning::tuning(&self.rules, &self.suppress)?,
            max_event_lead_ms,
        })
    }

    /// `drift_dimensions` as flags by `ScopeDimension as usize`.
    fn drift_dimensions(&self) -> Result<[bool; 4], ConfigError> {
        let mut on = [false; 4];
        for name in &self.drift_dimensions {
            let Some(d) = ScopeDimension::parse(name) else {
                return Err(invalid("drift_dimensions", name, "use any of \"capability\", \"model\", \"principal\", \"network\" (an empty list switches drift off)"));
            };
            if on[d as usize] {
                return Err(invalid("drift_dimensions", name, "list each dimension once"));
            }
            on[d as usize] = true;
        }
        Ok(on)
    }
}
