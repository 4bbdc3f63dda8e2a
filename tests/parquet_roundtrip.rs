//! Parquet and CSV outputs read back by DuckDB (installed with pip when
//! missing) carry the same records and totals as the JSON Lines outputs of
//! the same replay, with typed columns: timestamps and decimals, no floats.

use std::path::Path;
use std::process::Command;

use bursar::model::credits::parse_decimal_string;
use bursar::model::time::parse_rfc3339_any;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_bursar");

/// True when python3 can import duckdb, installing it with pip if needed.
fn duckdb() -> bool {
    let has = || Command::new("python3").args(["-c", "import duckdb"]).status().is_ok_and(|s| s.success());
    if has() {
        return true;
    }
    let _ = Command::new("python3").args(["-m", "pip", "install", "--quiet", "duckdb"]).status();
    has()
}

fn replay(dir: &Path, ext: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(BIN);
    cmd.args(["replay", "--input"]).arg(root.join("examples/usage.jsonl")).arg("--entitlements").arg(root.join("examples/entitlements.jsonl"));
    for stream in ["findings", "windows", "balances", "rejected"] {
        cmd.arg(format!("--{stream}")).arg(dir.join(format!("{stream}.{ext}")));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn micros(v: &Value) -> i128 {
    parse_decimal_string(v.as_str().unwrap()).unwrap() as i128
}

fn ms(v: &Value) -> i64 {
    parse_rfc3339_any(v.as_str().unwrap()).unwrap()
}

/// Runs a DuckDB query per line of `queries` in `dir`; each answers one row, as text.
fn query(dir: &Path, queries: &[String]) -> Vec<Vec<String>> {
    let script = "import duckdb, json, sys\ncon = duckdb.connect()\nout = []\nfor q in json.loads(sys.argv[1]):\n    out.append([str(x) for x in con.execute(q).fetchone()])\nprint(json.dumps(out))\n";
    let out = Command::new("python3").current_dir(dir).args(["-c", script, &serde_json::to_string(queries).unwrap()]).output().unwrap();
    assert!(out.status.success(), "duckdb: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Micro-credits of a DuckDB decimal printed as text.
fn decimal(s: &str) -> i128 {
    parse_decimal_string(s).unwrap() as i128
}

#[test]
fn duckdb_reads_parquet_and_csv_outputs_with_the_totals_of_the_json_lines() {
    if !duckdb() {
        eprintln!("skipping: python3 cannot import duckdb and pip could not install it");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    replay(d, "jsonl");
    replay(d, "parquet");
    replay(d, "csv");
    let windows = jsonl(&d.join("windows.jsonl"));
    let balances = jsonl(&d.join("balances.jsonl"));
    let findings = jsonl(&d.join("findings.jsonl"));
    let rejected = jsonl(&d.join("rejected.jsonl"));

    let w_credits: i128 = windows.iter().map(|w| micros(&w["credits"])).sum();
    let w_calls: u64 = windows.iter().map(|w| w["calls"].as_u64().unwrap()).sum();
    let w_first = windows.iter().map(|w| ms(&w["start"])).min().unwrap();
    let w_last = windows.iter().map(|w| ms(&w["end"])).max().unwrap();
    let b_remaining: i128 = balances.iter().map(|b| micros(&b["remaining"])).sum();
    let b_burned: i128 = balances.iter().map(|b| micros(&b["burned_total"])).sum();
    let f_time: i64 = findings.iter().map(|f| f["time"].as_i64().unwrap()).sum();
    let grants: Vec<&Value> = balances.iter().flat_map(|b| b["grants"].as_array().unwrap()).collect();
    let g_remaining: i128 = grants.iter().map(|g| micros(&g["remaining"])).sum();
    let g_expires: i64 = grants.iter().map(|g| ms(&g["expires"])).sum();
    let f_sev: i64 = findings.iter().map(|f| f["severity_id"].as_i64().unwrap()).sum();

    let q = |s: &str| s.to_string();
    let rows = query(d, &[
        q("select count(*), sum(credits), sum(calls), epoch_ms(min(start)), epoch_ms(max(\"end\")) from 'windows.parquet'"),
        q("select count(*), sum(remaining), sum(burned_total) from 'balances.parquet'"),
        q("select count(*), sum(epoch_ms(time)), sum(severity_id), count(distinct json_extract_string(finding_info, '$.uid')) from 'findings.parquet'"),
        q("select count(*) from 'rejected.parquet'"),
        q("select string_agg(column_type, ',' order by column_name) from (describe select start, credits, calls from 'windows.parquet')"),
        q("select string_agg(column_type, ',' order by column_name) from (describe select as_of, remaining from 'balances.parquet')"),
        q("select string_agg(column_type, ',' order by column_name) from (describe select time, severity_id, class_uid from 'findings.parquet')"),
        q("select count(*), sum(credits::decimal(38,6)), sum(calls) from read_csv('windows.csv', header=true)"),
        q("select count(*), sum(remaining::decimal(38,6)) from read_csv('balances.csv', header=true)"),
        q("select count(*), sum(epoch_ms(time::timestamptz)) from read_csv('findings.csv', header=true)"),
        q("select count(*), sum(bursar_rule_is_set::int) from (select json_extract_string(unmapped, '$.bursar.rule') is not null as bursar_rule_is_set from 'findings.parquet')"),
        q("select count(*), sum(g.remaining), sum(epoch_ms(g.expires)) from (select unnest(grants) as g from 'balances.parquet')"),
        q("select column_type from (describe select grants from 'balances.parquet')"),
        q("select count(*), sum((g->>'remaining')::decimal(38,6)) from (select unnest(grants::json[]) as g from read_csv('balances.csv', header=true, types={'grants': 'VARCHAR'}))"),
    ]);
    assert_eq!(rows[0], vec![windows.len().to_string(), rows[0][1].clone(), w_calls.to_string(), w_first.to_string(), w_last.to_string()]);
    assert_eq!(decimal(&rows[0][1]), w_credits, "window credits");
    assert_eq!((rows[1][0].parse::<usize>().unwrap(), decimal(&rows[1][1]), decimal(&rows[1][2])), (balances.len(), b_remaining, b_burned));
    assert_eq!(rows[2], vec![findings.len().to_string(), f_time.to_string(), f_sev.to_string(), findings.len().to_string()]);
    assert_eq!(rows[3], vec![rejected.len().to_string()]);
    assert_eq!(rows[4], vec!["UBIGINT,DECIMAL(38,6),TIMESTAMP WITH TIME ZONE".to_string()], "windows: calls, credits, start");
    assert_eq!(rows[5], vec!["TIMESTAMP WITH TIME ZONE,DECIMAL(38,6)".to_string()], "balances: as_of, remaining");
    assert_eq!(rows[6], vec!["INTEGER,INTEGER,TIMESTAMP WITH TIME ZONE".to_string()], "findings: class_uid, severity_id, time");
    assert_eq!((rows[7][0].parse::<usize>().unwrap(), decimal(&rows[7][1]), rows[7][2].clone()), (windows.len(), w_credits, w_calls.to_string()), "windows.csv");
    assert_eq!((rows[8][0].parse::<usize>().unwrap(), decimal(&rows[8][1])), (balances.len(), b_remaining), "balances.csv");
    assert_eq!(rows[9], vec![findings.len().to_string(), f_time.to_string()], "findings.csv");
    assert_eq!(rows[10], vec![findings.len().to_string(), findings.len().to_string()], "unmapped.bursar.rule in every finding");
    assert_eq!((rows[11][0].parse::<usize>().unwrap(), decimal(&rows[11][1]), rows[11][2].clone()), (grants.len(), g_remaining, g_expires.to_string()), "grants, nested");
    assert_eq!(rows[12], vec!["STRUCT(\"month\" VARCHAR, amount DECIMAL(38,6), remaining DECIMAL(38,6), expires TIMESTAMP WITH TIME ZONE)[]".to_string()]);
    assert_eq!((rows[13][0].parse::<usize>().unwrap(), decimal(&rows[13][1])), (grants.len(), g_remaining), "grants in CSV as JSON text");
}

#[test]
fn parquet_findings_keep_every_top_level_ocsf_member_as_a_column() {
    let dir = tempfile::tempdir().unwrap();
    replay(dir.path(), "jsonl");
    let columns: Vec<&str> = bursar::sink::columns::layout(bursar::sink::Stream::Findings).iter().map(|c| c.0).collect();
    for f in jsonl(&dir.path().join("findings.jsonl")) {
        for member in f.as_object().unwrap().keys() {
            assert!(columns.contains(&member.as_str()), "OCSF member {member} has no column");
        }
    }
}

#[test]
fn a_failed_replay_leaves_an_existing_output_as_it_was_and_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let findings = dir.path().join("findings.jsonl");
    std::fs::write(&findings, "old\n").unwrap();
    // The windows file cannot be created: the replay fails after the findings file was opened.
    let out = Command::new(BIN).args(["replay", "--input"]).arg(root.join("examples/usage.jsonl")).arg("--findings").arg(&findings).arg("--windows").arg(dir.path().join("no/such/dir/windows.parquet")).output().unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&findings).unwrap(), "old\n");
    let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["findings.jsonl".to_string()], "no partial file left");
    let out = Command::new(BIN).args(["replay", "--input", "-", "--format", "parquet", "--findings", "-"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("Parquet cannot be written to stdout"));
}
