//! Properties of the engine that must hold for any input: credits are
//! conserved exactly, and a crash at any point followed by a restore from the
//! changelog loses no output, invents none, and ends in the same state.

use bursar::config::{Config, EngineConfig};
use bursar::engine::output::Output;
use bursar::engine::{Engine, PARTITION_META_KEY};
use bursar::model::{BurstRule, CreditPlan, Entitlement, EntitlementRecord, Scope, Status, UsageEvent};
use proptest::prelude::*;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400_000;

fn config() -> EngineConfig {
    let mut c = Config::default();
    c.windows = vec!["1h".into(), "1d".into()];
    c.dormancy = "20d".into();
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
        scope: Scope { capabilities: Some(vec!["chat".into(), "emb*".into()]), models: None },
        credits: Some(CreditPlan { monthly, bank_months, bank_cap: cap }),
        burst: Some(vec![BurstRule { window_ms: 3_600_000, credits: Some(40_000_000), calls: Some(5), tokens: None }]),
        dormancy_ms: None,
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
                principal: None,
                source: None,
                src_ip: None,
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
    let mut v: Vec<(String, String)> = part
        .creds
        .iter()
        .map(|(k, c)| {
            let mut c = c.clone();
            c.offset = 0;
            c.recent.clear();
            (k.to_string(), format!("{:?} {:?} {:?} {:?}", c.ledger, c.windows, c.activity, c.burst))
        })
        .collect();
    v.sort();
    v
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
                    for (k, c) in &state.creds {
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
    fn a_crash_and_restore_from_the_changelog_loses_and_invents_nothing(
        evs in events(),
        batch in 1usize..9,
        crash_at in 0usize..120,
        written_fraction in 0usize..4,
    ) {
        let evs = materialize(&evs);
        let crash_at = crash_at % evs.len();
        let (reference, expected) = uninterrupted(&evs);

        // First run: batches of `batch` records; after each batch the changelog
        // gets every dirty credential then the partition record, and the
        // consumer position is committed. The batch holding `crash_at` crashes
        // after its outputs were delivered, with only a prefix of its changelog written.
        let mut engine = new_engine(true);
        let mut changelog: Vec<(i32, Vec<u8>, Vec<u8>)> = Vec::new();
        let mut delivered: Vec<(usize, Output)> = Vec::new();
        let mut committed = 0usize;
        let mut out = Vec::new();
        let offsets_of = |upto: usize| -> Vec<i64> {
            let mut o = vec![0i64; 2];
            for (p, _) in &evs[..upto] { o[*p as usize] += 1; }
            o
        };
        let mut i = 0;
        'run: while i < evs.len() {
            let end = (i + batch).min(evs.len());
            let mut offsets = offsets_of(i);
            for (j, (p, e)) in evs[i..end].iter().enumerate() {
                engine.process(*p, offsets[*p as usize], e.clone(), &mut out);
                offsets[*p as usize] += 1;
                delivered.extend(out.drain(..).map(|o| (i + j, o)));
            }
            let mut records = Vec::new();
            for p in [0, 1] {
                for cred in engine.take_dirty(p) {
                    let v = engine.snapshot_credential(p, &cred).expect("dirty credential has state");
                    records.push((p, cred.into_bytes(), v));
                }
                if let Some(meta) = engine.snapshot_partition(p) {
                    records.push((p, PARTITION_META_KEY.to_vec(), meta));
                }
            }
            if (i..end).contains(&crash_at) {
                let keep = records.len() * written_fraction / 4;
                changelog.extend(records.into_iter().take(keep));
                break 'run;
            }
            changelog.extend(records);
            committed = end;
            i = end;
        }

        // Restart: restore from the changelog, resume from the committed position.
        let mut engine = new_engine(true);
        for (p, k, v) in &changelog {
            engine.restore(*p, k, v).expect("restore");
        }
        let mut offsets = offsets_of(committed);
        let mut replayed = Vec::new();
        for (j, (p, e)) in evs[committed..].iter().enumerate() {
            let off = offsets[*p as usize];
            offsets[*p as usize] += 1;
            if engine.partition_includes(*p, off) {
                continue;
            }
            engine.process(*p, off, e.clone(), &mut out);
            replayed.extend(out.drain(..).map(|o| (committed + j, o)));
        }

        // Nothing invented: every re-sent output is one of the reference outputs, identical.
        for r in &replayed {
            prop_assert!(expected.contains(r), "re-sent output not in the uninterrupted run: {:?}", r);
        }
        // Nothing lost: every reference output was delivered before or after the crash.
        for x in &expected {
            prop_assert!(delivered.contains(x) || replayed.contains(x), "output lost: {:?}", x);
        }
        for p in [0, 1] {
            prop_assert_eq!(state_of(&engine, p), state_of(&reference, p));
        }
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
        let mut changelog: Vec<(i32, Vec<u8>, Vec<u8>)> = Vec::new();
        let mut got = Vec::new();
        let mut out = Vec::new();
        let mut start = 0usize;
        let mut offsets = [0i64; 2];
        for end in bounds {
            let mut engine = new_engine(true);
            for (p, k, v) in &changelog {
                engine.restore(*p, k, v).expect("restore");
            }
            for (p, e) in &evs[start..end] {
                engine.process(*p, offsets[*p as usize], e.clone(), &mut out);
                offsets[*p as usize] += 1;
                got.append(&mut out);
            }
            for p in [0, 1] {
                for cred in engine.take_dirty(p) {
                    let v = engine.snapshot_credential(p, &cred).expect("state");
                    changelog.push((p, cred.into_bytes(), v));
                }
                if let Some(meta) = engine.snapshot_partition(p) {
                    changelog.push((p, PARTITION_META_KEY.to_vec(), meta));
                }
            }
            start = end;
        }
        prop_assert_eq!(got, expected);
    }
}
