//! Properties of the principal, network and shared-key rules
//! (docs/semantics.md, "Where and by whom a key is used"), over random
//! streams of principals and source addresses: a day set never holds more
//! than limit + 1 values; `credential.shared` fires at most once per
//! (dimension, day) with count = limit + 1; an event that breaks any scope
//! dimension never also yields `scope.drift`; drift fires once per value.

use std::collections::{BTreeMap, BTreeSet};

use bursar::config::Config;
use bursar::engine::output::Output;
use bursar::engine::Engine;
use bursar::model::net::Network;
use bursar::model::{Entitlement, EntitlementRecord, Scope, Status, UsageEvent};
use bursar::rules::{Figures, Rule};
use proptest::prelude::*;

const T0: i64 = 1_767_225_600_000; // 2026-01-01
const HOUR: i64 = 3_600_000;

/// Principals: the first three match the scope `svc-*`.
const PRINCIPALS: [&str; 6] = ["svc-a", "svc-b", "svc-c", "intruder", "other-team", ""];
/// Source addresses: the first three lie in 10.0.0.0/8 (one as IPv4-mapped IPv6).
const ADDRESSES: [&str; 7] = ["10.0.0.1", "10.0.1.2", "::ffff:10.2.0.1", "192.0.2.1", "2001:db8::1", "not-an-ip", ""];

fn in_scope(principal: usize, address: usize) -> bool {
    let p = principal < 3 || PRINCIPALS[principal].is_empty();
    let a = address < 3 || ADDRESSES[address].is_empty();
    p && a
}

#[derive(Debug, Clone)]
struct Ev {
    cred: usize,
    /// Hours after the previous event (so several days are crossed).
    dt: i64,
    principal: usize,
    address: usize,
    model: usize,
}

fn events() -> impl Strategy<Value = Vec<Ev>> {
    prop::collection::vec(
        (0usize..3, 0i64..10, 0..PRINCIPALS.len(), 0..ADDRESSES.len(), 0usize..4).prop_map(|(cred, dt, principal, address, model)| Ev { cred, dt, principal, address, model }),
        1..200,
    )
}

/// k0 and k1 are scoped (principals `svc-*`, network 10.0.0.0/8; k1 also
/// sets its own limits); k2 is unmanaged and uses the config limits.
fn engine(limits: (i64, i64)) -> Engine {
    let c = Config {
        drift_dimensions: ["capability", "model", "principal", "network"].map(String::from).to_vec(),
        learning_period: "1h".into(),
        max_principals: Some(limits.0),
        max_source_ips: Some(limits.1),
        ..Config::default()
    };
    let mut e = Engine::new(c.engine().expect("valid config"));
    for (cred, own) in [("k0", None), ("k1", Some((limits.1, limits.0)))] {
        e.apply_entitlement(EntitlementRecord::Version(Entitlement {
            credential: cred.into(),
            owner: "o".into(),
            status: Status::Active,
            updated_at: T0 - HOUR,
            valid_from: None,
            valid_until: None,
            scope: Scope { principals: Some(vec!["svc-*".into()]), networks: Some(vec![Network::parse("10.0.0.0/8").unwrap()]), ..Scope::default() },
            credits: None,
            burst: None,
            dormancy_ms: None,
            max_principals: own.map(|o| o.0),
            max_source_ips: own.map(|o| o.1),
        }));
    }
    e
}

fn limits_of(cred: usize, limits: (i64, i64)) -> [i64; 2] {
    if cred == 1 {
        [limits.1, limits.0]
    } else {
        [limits.0, limits.1]
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn day_sets_stay_bounded_and_shared_fires_once_per_dimension_and_day(evs in events(), lp in 1i64..4, ls in 1i64..4) {
        let mut engine = engine((lp, ls));
        let mut t = T0;
        let mut out = Vec::new();
        let mut seen_uids = BTreeSet::new();
        for (i, e) in evs.iter().enumerate() {
            t += e.dt * HOUR;
            let event = event(i, t, e);
            engine.process(0, i as i64, event, &mut out);
            let part = engine.partition_state(0).unwrap();
            for (name, state) in part.credentials() {
                let cred: usize = name[1..].parse().unwrap();
                let limits = limits_of(cred, (lp, ls));
                let held = state.shared.as_ref().map_or([0, 0], |s| s.held());
                prop_assert!(held[0] as i64 <= limits[0] + 1 && held[1] as i64 <= limits[1] + 1, "{name}: {held:?} over {limits:?}");
            }
            for o in out.drain(..) {
                let Output::Finding(f) = o else { continue };
                if let Figures::CredentialShared { dimension, limit, count, values, .. } = &f.figures {
                    prop_assert!(seen_uids.insert(f.uid()), "fired twice: {}", f.dedupe_key());
                    let cred: usize = f.credential[1..].parse().unwrap();
                    let want = limits_of(cred, (lp, ls))[if *dimension == "principal" { 0 } else { 1 }];
                    prop_assert_eq!((*limit, *count), (want, want + 1));
                    let distinct: BTreeSet<_> = values.iter().collect();
                    prop_assert_eq!(distinct.len(), values.len().min(10));
                }
            }
        }
    }

    #[test]
    fn a_scope_break_never_yields_drift_and_drift_fires_once_per_value(evs in events()) {
        let mut engine = engine((2, 2));
        let mut t = T0;
        let mut out = Vec::new();
        let mut drifted: BTreeMap<String, usize> = BTreeMap::new();
        for (i, e) in evs.iter().enumerate() {
            t += e.dt * HOUR;
            engine.process(0, i as i64, event(i, t, e), &mut out);
            let findings: Vec<_> = out.drain(..).filter_map(|o| match o { Output::Finding(f) => Some(f), _ => None }).collect();
            let scoped = e.cred < 2;
            for f in &findings {
                if f.rule == Rule::ScopeDrift {
                    prop_assert!(!scoped || in_scope(e.principal, e.address), "drift at an out-of-scope event {e:?}");
                    *drifted.entry(format!("{} {}", f.credential, f.dedupe_key())).or_default() += 1;
                }
                if matches!(f.rule, Rule::ScopePrincipal | Rule::ScopeNetwork) {
                    prop_assert!(scoped && !in_scope(e.principal, e.address), "a break finding for an in-scope event {e:?}");
                }
            }
        }
        // At most 64 values per dimension are remembered; these streams have fewer, so each fires once.
        prop_assert!(drifted.values().all(|n| *n == 1), "{drifted:?}");
    }
}

fn event(i: usize, t: i64, e: &Ev) -> UsageEvent {
    let text = |s: &str| (!s.is_empty()).then(|| s.into());
    UsageEvent {
        id: format!("id{i}").into(),
        time: t,
        credential: format!("k{}", e.cred).into(),
        capability: "chat".into(),
        model: Some(format!("m{}", e.model).into()),
        credits: 1,
        tokens_in: 0,
        tokens_out: 0,
        principal: text(PRINCIPALS[e.principal]),
        source: None,
        src_ip: text(ADDRESSES[e.address]),
        exposed: false,
    }
}
