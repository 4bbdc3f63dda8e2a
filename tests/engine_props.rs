//! Properties of the engine that must hold for any input: credits are
//! conserved exactly, and a crash at any point followed by a restore from the
//! changelog loses no output, invents none, and ends in the same state.

use bursar::config::{Config, EngineConfig};
use bursar::engine::output::Output;
use bursar::engine::Engine;
use bursar::model::net::Network;
use bursar::model::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, Status, UsageEvent};
use proptest::prelude::*;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400_000;

fn config() -> EngineConfig {
    let c = Config {
        windows: vec!["1h".into(), "1d".into()],
        dormancy: "20d".into(),
        drift_dimensions: ["capability", "model", "principal", "network"].map(String::from).to_vec(),
        max_source_ips: Some(2),
        ..Config::default()
    };
    c.engine().expect("valid config")
}

fn entitlement(cred: &str, updated_at: i64, monthly: i64, bank_months: u32, cap: Option<i64>) -> EntitlementRecord {
    EntitlementRecord::Version(Entitlement {
        credential: cred.into(),
        owner: format!("{cred}@example.com"),
        status: Status::Active,
        updated_at,
        valid_from: Some(updated_at),
        valid_until: None,
        scope: Scope {
            capabilities: Some(vec!["chat".into(), "emb*".into()]),
            principals: Some(vec!["svc-*".into()]),
            networks: Some(vec![Network::parse("10.0.0.0/8").expect("a network")]),
            ..Scope::default()
        },
        credits: Some(CreditPlan { monthly, bank_months, bank_cap: cap }),
        burst: Some(vec![BurstRule { window_ms: 3_600_000, credits: Some(40_000_000), calls: Some(5), tokens: None }]),
        dormancy_ms: None,
        max_principals: Some(2),
        max_source_ips: None,
    })
}

#[derive(Debug, Clone)]
struct Ev {
    cred: usize,
    dt: i64,
    back: i64,
    credits: i64,
    cap: usize,
    dup: bool,
}

fn events() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(
        (0usize..4, 0i64..(6 * DAY), 0i64..120_000, 0i64..30_000_000, 0usize..3, prop::bool::weighted(0.05))
            .prop_map(|(cred, dt, back, credits, cap, dup)| Ev { cred, dt, back, credits, cap, dup }),
        1..120,
    )
}

fn materialize(evs: &[Ev]) -> Vec<(i32, UsageEvent)> {
    let mut t = T0;
    let mut out = Vec::new();
    for (i, e) in evs.iter().enumerate() {
        t += e.dt / 8;
        let id = if e.dup && i > 0 { format!("id{}", i - 1) } else { format!("id{i}") };
        let cred = format!("k{}", e.cred);
        out.push((
            (e.cred % 2) as i32,
            UsageEvent {
                id: id.into(),
                time: t - e.back,
                credential: cred.into(),
                capability: ["chat", "embeddings", "image"][e.cap].into(),
                model: Some(["m1", "m2", "m3"][e.cap].into()),
                credits: e.credits,
                tokens_in: 10,
                tokens_out: 20,
                principal: [Some("svc-a"), Some("svc-b"), Some("svc-c"), Some("intruder"), None][(e.credits % 5) as usize].map(Into::into),
                source: None,
                src_ip: [Some("10.0.0.1"), Some("10.0.1.2"), Some("192.0.2.1"), Some("bogus"), None][((e.credits / 7) % 5) as usize].map(Into::into),
                exposed: false,
            },
        ));
    }
    out
}

fn new_engine(changelog: bool) -> Engine {
    let mut e = Engine::new(config());
    if changelog {
        e = e.with_changelog();
    }
    e.apply_entitlement(entitlement("k0", T0 - 40 * DAY, 100_000_000, 2, Some(150_000_000)));
    e.apply_entitlement(entitlement("k1", T0, 50_000_000, 0, None));
    e.apply_entitlement(entitlement("k2", T0 - 100 * DAY, 30_000_000, 3, None));
    e
}

/// Runs every event through a fresh engine; returns outputs with their record index.
fn uninterrupted(evs: &[(i32, UsageEvent)]) -> (Engine, Vec<(usize, Output)>) {
    let mut engine = new_engine(true);
    let mut all = Vec::new();
    let mut out = Vec::new();
    let mut offsets = [0i64; 2];
    for (i, (p, e)) in evs.iter().enumerate() {
        engine.process(*p, offsets[*p as usize], e.clone(), &mut out);
        offsets[*p as usize] += 1;
        all.extend(out.drain(..).map(|o| (i, o)));
    }
    (engine, all)
}

fn state_of(engine: &Engine, p: i32) -> Vec<(String, String)> {
    let Some(part) = engine.partition_state(p) else { return Vec::new() };
    if part.is_empty() && part.meta.offset < 0 {
        return Vec::new();
    }
    let window = config().dedupe_window_ms;
    let wm = part.meta.watermark;
    let mut v: Vec<(String, String)> = part
        .credentials()
        .map(|(k, c)| {
            let ids = c.dedupe.remembered(wm, window);
            (k.to_string(), format!("{:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}", c.ledger, c.windows, c.activity, c.burst, c.scope, c.lifecycle, (&c.origin, &c.shared), ids))
        })
        .collect();
    v.push(("partition".into(), format!("{:?} {:?} {:?} {:?}", part.meta.max_time, part.meta.watermark, part.meta.month, part.meta.offset)));
    v.sort();
    v
}

/// A changelog topic: (partition, key, value) in log order.
type Log = Vec<(i32, Vec<u8>, Option<Vec<u8>>)>;

fn restored(log: &Log) -> Engine {
    let mut engine = new_engine(true);
    for p in [0, 1] {
        let records: Vec<_> = log.iter().filter(|(q, _, _)| *q == p).map(|(_, k, v)| (k.clone(), v.clone())).collect();
        engine.restore_partition(p, records).expect("restore");
    }
    engine
}

fn snapshot(engine: &mut Engine) -> Log {
    let mut records = Vec::new();
    for p in [0, 1] {
        records.extend(engine.changelog_snapshot(p).into_iter().map(|r| (p, r.key, r.value)));
    }
    records
}

/// Runs `evs` with crashes as `runs` says (batch size, crash point, share of
/// the crashing batch's changelog written) and checks the outputs and the
/// final state against an uninterrupted run.
fn check_crashes(evs: &[(i32, UsageEvent)], runs: &[(usize, usize, usize)]) -> Result<(), TestCaseError> {
        let (reference, expected) = uninterrupted(evs);
        let offsets_of = |upto: usize| -> Vec<i64> {
            let mut o = vec![0i64; 2];
            for (p, _) in &evs[..upto] { o[*p as usize] += 1; }
            o
        };
        // Each run but the last processes batches of its size; after each batch
        // the changelog gets that batch's records and the position is committed.
        // The batch holding the run's crash point has delivered its outputs and
        // written only a prefix of its changelog records when the process dies.
        // Each run starts from the changelog the runs before it left.
        let mut log: Log = Vec::new();
        let mut delivered: Vec<(usize, Output)> = Vec::new();
        let mut committed = 0usize;
        let mut out = Vec::new();
        let last = runs.len() - 1;
        for (r, (batch, crash_at, fraction)) in runs.iter().copied().enumerate() {
            let mut engine = restored(&log);
            let crash_at = if r == last { usize::MAX } else { committed + crash_at % (evs.len() - committed).max(1) };
            let mut i = committed;
            let mut offsets = offsets_of(committed);
            let mut crashed = false;
            while i < evs.len() {
                let end = (i + batch).min(evs.len());
                for (j, (p, e)) in evs[i..end].iter().enumerate() {
                    let off = offsets[*p as usize];
                    offsets[*p as usize] += 1;
                    if engine.partition_includes(*p, off) {
                        continue;
                    }
                    engine.process(*p, off, e.clone(), &mut out);
                    delivered.extend(out.drain(..).map(|o| (i + j, o)));
                }
                let records = snapshot(&mut engine);
                if (i..end).contains(&crash_at) {
                    let keep = records.len() * fraction / 4;
                    log.extend(records.into_iter().take(keep));
                    crashed = true;
                    break;
                }
                log.extend(records);
                committed = end;
                i = end;
            }
            if !crashed {
                for p in [0, 1] {
                    prop_assert_eq!(state_of(&engine, p), state_of(&reference, p));
                }
                // The changelog alone restores the same state once more.
                let again = restored(&log);
                for p in [0, 1] {
                    prop_assert_eq!(state_of(&again, p), state_of(&reference, p));
                }
                break;
            }
        }
        // Nothing invented: every output is one of the reference outputs, identical.
        for d in &delivered {
            prop_assert!(expected.contains(d), "output not in the uninterrupted run: {:?}", d);
        }
        // Nothing lost.
        for x in &expected {
            prop_assert!(delivered.contains(x), "output lost: {:?}", x);
        }
    Ok(())
}

/// A few credentials calling every few seconds: hundreds of ids within the
/// dedupe window, so most of them live in dedupe segments.
fn busy_events() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(
        (0usize..2, 0i64..40_000, 0i64..20_000, 0i64..300_000, 0usize..3, prop::bool::weighted(0.05))
            .prop_map(|(cred, dt, back, credits, cap, dup)| Ev { cred, dt, back, credits, cap, dup }),
        40..400,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn credits_are_conserved_exactly_at_every_step(evs in events()) {
        let evs = materialize(&evs);
        let mut engine = new_engine(false);
        let mut out = Vec::new();
        let mut offsets = [0i64; 2];
        for (p, e) in &evs {
            engine.process(*p, offsets[*p as usize], e.clone(), &mut out);
            offsets[*p as usize] += 1;
            for part in [0, 1] {
                if let Some(state) = engine.partition_state(part) {
                    for (k, c) in state.credentials() {
                        if let Some(l) = &c.ledger {
                            prop_assert!(l.conserved(), "ledger of {} not conserved: {:?}", k, l);
                        }
                    }
                }
            }
            for o in out.drain(..) {
                if let Output::Balance(b) = o {
                    prop_assert_eq!(b.granted_total, b.burned_total + b.expired_total + b.remaining);
                }
            }
        }
    }

    #[test]
    fn crashes_and_restores_from_the_changelog_lose_and_invent_nothing(
        evs in events(),
        runs in prop::collection::vec((1usize..9, 0usize..120, 0usize..5), 1..4),
    ) {
        check_crashes(&materialize(&evs), &runs)?;
    }

    #[test]
    fn busy_keys_crash_and_restore_exactly_with_their_ids_in_segments(
        evs in busy_events(),
        runs in prop::collection::vec((1usize..80, 0usize..400, 0usize..5), 1..4),
    ) {
        check_crashes(&materialize(&evs), &runs)?;
    }

    #[test]
    fn outputs_are_identical_however_the_input_is_chunked_with_restarts_between_chunks(
        evs in events(),
        cuts in prop::collection::vec(0usize..120, 0..6),
    ) {
        let evs = materialize(&evs);
        let (_, expected) = uninterrupted(&evs);
        let expected: Vec<Output> = expected.into_iter().map(|(_, o)| o).collect();
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % evs.len()).collect();
        bounds.push(evs.len());
        bounds.sort();
        bounds.dedup();
        // Each chunk runs in a new engine restored from the previous chunk's changelog.
        let mut changelog: Log = Vec::new();
        let mut got = Vec::new();
        let mut out = Vec::new();
        let mut start = 0usize;
        let mut offsets = [0i64; 2];
        for end in bounds {
            let mut engine = restored(&changelog);
            for (p, e) in &evs[start..end] {
                engine.process(*p, offsets[*p as usize], e.clone(), &mut out);
                offsets[*p as usize] += 1;
                got.append(&mut out);
            }
            changelog.extend(snapshot(&mut engine));
            start = end;
        }
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn a_busy_key_keeps_every_changelog_record_under_64_kib_and_restores_its_ids() {
    // One credential calling every 100 ms for two hours: 72,000 ids, 36,000 within the dedupe window.
    let mut engine = new_engine(true);
    let mut out = Vec::new();
    let mut log: Log = Vec::new();
    let mut largest = 0usize;
    let mut segments = 0usize;
    for i in 0..72_000i64 {
        let e = UsageEvent {
            id: format!("busy-{i}").into(),
            time: T0 + i * 100,
            credential: "k0".into(),
            capability: "chat".into(),
            model: Some("m1".into()),
            credits: 1,
            tokens_in: 1,
            tokens_out: 1,
            principal: None,
            source: None,
            src_ip: None,
            exposed: false,
        };
        engine.process(0, i, e, &mut out);
        out.clear();
        if i % 5_000 == 4_999 || i == 71_999 {
            for r in engine.changelog_snapshot(0) {
                largest = largest.max(r.value.as_ref().map_or(0, Vec::len));
                segments += usize::from(r.key.first() == Some(&0xF7) && r.value.is_some());
                log.push((0, r.key, r.value));
            }
        }
    }
    assert!(largest <= 64 * 1024, "largest changelog record {largest} B");
    assert!(segments > 10, "ids beyond the inline ones live in segments ({segments})");
    let restored = restored(&log);
    let window = config().dedupe_window_ms;
    let (a, b) = (engine.partition_state(0).unwrap(), restored.partition_state(0).unwrap());
    let ids = |p: &bursar::engine::partition::PartitionState| p.credentials().map(|(_, c)| c.dedupe.remembered(p.meta.watermark, window)).collect::<Vec<_>>();
    assert_eq!(ids(a), ids(b));
    assert!(ids(a)[0].len() > 30_000);
}
