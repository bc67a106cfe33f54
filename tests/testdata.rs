//! Crafted excerpts in `testdata/cases/<name>/`: `mail.log` must give exactly
//! `expected.ndjson` (compared as JSON values, row by row). An optional `case.toml` sets
//! `year` (default 2026), `timezone` (default UTC), `local_domains`, `local_networks`.

use std::path::{Path, PathBuf};

use mailtrace::app::{search, Common};
use mailtrace::output::Format;
use mailtrace::query::Criteria;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Case {
    year: Option<i32>,
    timezone: Option<String>,
    #[serde(default)]
    local_domains: Vec<String>,
    #[serde(default)]
    local_networks: Vec<String>,
}

fn run_case(dir: &Path) -> Result<(), String> {
    let case: Case = match std::fs::read_to_string(dir.join("case.toml")) {
        Ok(t) => toml::from_str(&t).map_err(|e| format!("case.toml: {e}"))?,
        Err(_) => Case::default(),
    };
    let common = Common {
        logs: vec![dir.join("mail.log")],
        year: Some(case.year.unwrap_or(2026)),
        timezone: Some(case.timezone.unwrap_or_else(|| "UTC".into())),
        local_domains: case.local_domains,
        local_networks: case.local_networks,
        config: None,
        store: None,
    };
    let mut out = Vec::new();
    search(&common, &Criteria::default(), Format::Ndjson, None, &mut out).map_err(|e| format!("{e:#}"))?;
    let got: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected_text =
        std::fs::read_to_string(dir.join("expected.ndjson")).map_err(|e| format!("expected.ndjson: {e}"))?;
    let expected: Vec<Value> = expected_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("expected.ndjson: {e}")))
        .collect::<Result<_, _>>()?;
    if got.len() != expected.len() {
        return Err(format!(
            "{} rows, expected {}:\n{}",
            got.len(),
            expected.len(),
            got.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
        ));
    }
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        if g != e {
            let mut diffs = Vec::new();
            for (k, ev) in e.as_object().unwrap() {
                let gv = g.get(k).unwrap_or(&Value::Null);
                if gv != ev {
                    diffs.push(format!("{k}: expected {ev}, got {gv}"));
                }
            }
            for k in g.as_object().unwrap().keys() {
                if e.get(k).is_none() {
                    diffs.push(format!("{k}: not in expected"));
                }
            }
            return Err(format!("row {}: {}", i + 1, diffs.join("; ")));
        }
    }
    Ok(())
}

#[test]
fn crafted_cases_give_their_expected_rows() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("testdata/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("mail.log").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 12, "only {} cases", dirs.len());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            run_case(d)
                .err()
                .map(|e| format!("{}: {e}", d.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
