//! The minimal engine of the benches' baselines: two tumbling windows (1m,
//! 1h) per credential with calls and credits sums, closed when the
//! watermark (max event time - 30 s) passes their end. Included by
//! benches/replay.rs and benches/kafka_throughput.rs.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use bursar::model::{credits, time};
use serde_json::Value;

/// The default lateness (README.md, Configuration): watermark = max time - 30 s.
const LATENESS_MS: i64 = 30_000;
/// The default tumbling windows, 1m and 1h.
const WINDOWS_MS: [i64; 2] = [60_000, 3_600_000];

/// One open tumbling window of a credential.
pub struct Open {
    size: i64,
    start: i64,
    calls: u64,
    credits: i64,
}

/// The minimal engine of (b): open windows per credential, closed by the watermark.
#[derive(Default)]
pub struct Windows {
    pub ids: HashMap<String, usize>,
    open: Vec<Vec<Open>>,
    /// Window end -> (credential, size) whose window ends then.
    timers: BTreeMap<i64, Vec<(usize, i64)>>,
    max_time: i64,
    /// Windows closed by the watermark.
    pub closed: u64,
    /// Calls in the closed windows.
    pub calls_closed: u64,
    /// Window updates dropped because the window had already closed.
    pub late: u64,
}

impl Windows {
    pub fn new() -> Windows {
        Windows { max_time: i64::MIN / 2, ..Windows::default() }
    }

    pub fn event(&mut self, credential: &str, t: i64, micros: i64) {
        let watermark = self.max_time - LATENESS_MS;
        let id = match self.ids.get(credential) {
            Some(&id) => id,
            None => {
                self.ids.insert(credential.to_string(), self.open.len());
                self.open.push(Vec::new());
                self.open.len() - 1
            }
        };
        for size in WINDOWS_MS {
            let start = t.div_euclid(size) * size;
            if start + size <= watermark {
                self.late += 1;
                continue;
            }
            let open = &mut self.open[id];
            match open.iter_mut().find(|w| w.size == size && w.start == start) {
                Some(w) => {
                    w.calls += 1;
                    w.credits += micros;
                }
                None => {
                    open.push(Open { size, start, calls: 1, credits: micros });
                    self.timers.entry(start + size).or_default().push((id, size));
                }
            }
        }
        if t > self.max_time {
            self.max_time = t;
            self.close(t - LATENESS_MS);
        }
    }

    pub fn close(&mut self, watermark: i64) {
        while let Some(entry) = self.timers.first_entry() {
            if *entry.key() > watermark {
                break;
            }
            let end = *entry.key();
            for (id, size) in entry.remove() {
                let open = &mut self.open[id];
                if let Some(i) = open.iter().position(|w| w.size == size && w.start + size == end) {
                    let w = open.swap_remove(i);
                    self.closed += 1;
                    self.calls_closed += w.calls;
                    black_box(w.credits);
                }
            }
        }
    }
}

/// Credential, event time and credits of a decoded line (native or CloudEvent).
pub fn fields(v: &Value) -> Option<(&str, i64, i64)> {
    let (credential, data) = match v.get("specversion") {
        Some(_) => (v.get("subject")?.as_str()?, v.get("data")?),
        None => (v.get("credential")?.as_str()?, v),
    };
    let t = time::parse_rfc3339_any(v.get("time")?.as_str()?).ok()?;
    let micros = match data.get("credits")? {
        Value::String(s) => credits::parse_decimal_string(s).ok()?,
        Value::Number(n) => credits::parse_json_number(&n.to_string()).ok()?,
        _ => return None,
    };
    Some((credential, t, micros))
}
