//! Crafted excerpts in `testdata/cases/<name>/` and `testdata/exim/<name>/`: the log
//! (`mail.log`, or the files `logs` of `case.toml` names, in order) must give exactly
//! `expected.ndjson` (compared as JSON values, row by row). An optional `case.toml` sets
//! `year` (default 2026), `timezone` (default UTC), `logs`, `local_domains`, `local_networks`.

mod common;

use mailtrace::app::{search, Common};
use mailtrace::output::Format;
use mailtrace::query::Criteria;
use serde_json::Value;

fn run_case(case: &common::Case) -> Result<(), String> {
    let dir = &case.dir;
    let common = Common {
        logs: case.logs.clone(),
        journals: Vec::new(),
        year: Some(case.year),
        timezone: Some(case.timezone.clone()),
        local_domains: case.local_domains.clone(),
        local_networks: case.local_networks.clone(),
        config: None,
        store: None,
        ..Common::default()
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
    let cases = common::crafted_cases();
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    assert!(
        cases
            .iter()
            .filter(|c| c.dir.parent().unwrap().ends_with("exim"))
            .count()
            >= 8,
        "the Exim cases are missing"
    );
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            run_case(c)
                .err()
                .map(|e| format!("{}: {e}", c.dir.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
