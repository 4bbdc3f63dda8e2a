//! `bursar explain --topic` against a real broker (scripts/test.sh starts
//! one): a finding of a topic replay is found at its real partition and
//! offset and explained in the same words as the file explain gives for the
//! same records split into the topic's partition count.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

const PARTITIONS: i32 = 3;

fn bursar(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bursar")).args(args).output().expect("run bursar");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The findings of `replay --topic` over the whole usage topic: (rule, credential, uid) of each.
fn replayed_findings(s: &Setup) -> Vec<(String, String, String)> {
    let file = s.dir.path().join("replayed.jsonl");
    let (ok, _, err) = bursar(&["replay", "--topic", &s.config.topics.usage, "--config", path(&s.path), "--findings", path(&file)]);
    assert!(ok, "replay --topic failed: {err}");
    std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let rule = v["finding_info"]["types"][0].as_str().or_else(|| v["unmapped"]["bursar"]["rule"].as_str()).unwrap_or_default().to_string();
            (rule, v["unmapped"]["bursar"]["credential"].as_str().unwrap_or_default().to_string(), v["finding_info"]["uid"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The report without its trigger's place, and that place.
fn split_trigger(report: &str) -> (String, String) {
    let trigger = report.lines().find(|l| l.starts_with("Trigger: ")).unwrap_or_default().to_string();
    (report.replace(&trigger, "Trigger: <place>"), trigger)
}

#[test]
fn a_finding_of_a_topic_is_explained_at_its_partition_and_offset_in_the_words_of_the_file_explain() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(3_000, 60, 11);
    let s = Setup::new(&b, "explain", PARTITIONS, "");
    produce(&s.config, &ents, &usage);
    let (usage_file, ents_file) = (s.dir.path().join("usage.jsonl"), s.dir.path().join("ents.jsonl"));
    std::fs::write(&usage_file, usage.join("\n") + "\n").unwrap();
    std::fs::write(&ents_file, ents.join("\n") + "\n").unwrap();
    let records = consume_all(&b, &s.config.topics.usage, true, READ_LIMIT);
    assert_eq!(records.len(), usage.len(), "every usage line produced");

    let findings = replayed_findings(&s);
    let pick = |rule: &str| findings.iter().find(|(r, _, _)| r == rule).cloned().unwrap_or_else(|| panic!("the workload has no {rule} finding"));
    let rules = [
        ("scope.violation", "none of the allowed globs of the version in force"),
        ("burst", "more than the limit"),
        ("banking.accumulation", "at the month start the banked remainder"),
        // Output when another credential's record moved the watermark past the timer.
        ("dormant.idle", "moved the partition's watermark from"),
    ];
    for (rule, words) in rules {
        let (_, credential, uid) = pick(rule);
        let (ok, topic, err) = bursar(&["explain", "--credential", &credential, "--uid", &uid, "--topic", "--config", path(&s.path)]);
        assert!(ok, "explain --topic of {rule} {uid}: {err}");
        let (ok, file, err) = bursar(&["explain", "--credential", &credential, "--uid", &uid, "--input", path(&usage_file), "--entitlements", path(&ents_file), "--partitions", "3", "--config", path(&s.path)]);
        assert!(ok, "explain --input of {rule} {uid}: {err}");
        let ((topic_rest, topic_at), (file_rest, file_at)) = (split_trigger(&topic), split_trigger(&file));
        assert_eq!(topic_rest, file_rest, "{rule}: the topic explain differs from the file explain beyond the trigger's place");
        assert!(topic.contains(words) && topic.contains(&format!("Finding {uid} ({rule})")), "{rule}:\n{topic}");
        if rule == "scope.violation" {
            assert!(topic.contains("Entitlement in force at"), "a scope violation rests on a version in force:\n{topic}");
        }
        // The file's place names the partition and offset of the file partitioner,
        // the topic's the record's real ones: the same record, and it is there.
        let (p, o) = place(&topic_at).unwrap_or_else(|| panic!("no partition/offset in {topic_at:?}"));
        assert_eq!(file_at.split_once(" (").map(|x| x.1), Some(format!("partition {p}, offset {o}).").as_str()), "{file_at} vs {topic_at}");
        assert!(topic_at.ends_with(&format!("of topic {}.", s.config.topics.usage)), "{topic_at}");
        let record = records.iter().find(|r| r.partition == p && r.offset == o).expect("the trigger record is in the topic");
        let value = String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into_owned();
        let line: usize = file_at.trim_start_matches("Trigger: line ").split(' ').next().and_then(|n| n.parse().ok()).expect("a line number");
        assert_eq!(value, usage[line - 1], "the topic's record at the trigger is the file's line");
    }
}

/// `partition P offset O` of a topic trigger.
fn place(trigger: &str) -> Option<(i32, i64)> {
    let rest = trigger.strip_prefix("Trigger: partition ")?;
    let (p, rest) = rest.split_once(" offset ")?;
    let o = rest.split(' ').next()?;
    Some((p.parse().ok()?, o.parse().ok()?))
}

#[test]
fn a_uid_not_in_the_topic_range_names_the_topic_the_range_and_what_to_check() {
    let Some(b) = bootstrap() else { return };
    let (ents, usage) = workload(300, 10, 5);
    let s = Setup::new(&b, "explain-none", 2, "");
    produce(&s.config, &ents, &usage);
    let topic = &s.config.topics.usage;
    let (ok, _, err) = bursar(&["explain", "--credential", "k1", "--uid", "00000000000000000000000000000000", "--topic", topic, "--config", path(&s.path), "--until", "2000-01-01T00:00:00Z"]);
    assert!(!ok);
    let range = format!("in topic {topic} from the earliest record until 2000-01-01T00:00:00.000Z");
    for want in [range.as_str(), "partition 0 offsets", "partition 1 offsets", "--from/--until range"] {
        assert!(err.contains(want), "missing {want:?} in: {err}");
    }
}
