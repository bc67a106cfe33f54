//! Helpers shared by the integration tests.

use std::path::PathBuf;

pub mod clickhouse;
pub mod criteria;
pub mod web;

/// `../shared/<rel>` beside the checkout, if present. When `CI=true` it must be present.
#[allow(dead_code)] // not every test binary uses every helper
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{} is required when CI=true but missing", p.display());
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

/// The log files under `dir`, at any depth, sorted: every file but the notes and expectations
/// beside them (`.md`, `.jsonl`, `.ndjson`, `.toml`).
#[allow(dead_code)]
pub fn log_files(dir: &std::path::Path) -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if !p
                .extension()
                .is_some_and(|x| x == "md" || x == "jsonl" || x == "ndjson" || x == "toml")
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// A crafted case: a directory of `testdata/cases/` or `testdata/exim/` with its log files,
/// `expected.ndjson` and optional `case.toml`.
#[allow(dead_code)] // not every test binary uses every helper
pub struct Case {
    pub dir: PathBuf,
    /// `logs` of `case.toml` (read in that order), default `mail.log`.
    pub logs: Vec<PathBuf>,
    pub year: i32,
    pub timezone: String,
    pub local_domains: Vec<String>,
    pub local_networks: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CaseToml {
    year: Option<i32>,
    timezone: Option<String>,
    logs: Option<Vec<String>>,
    #[serde(default)]
    local_domains: Vec<String>,
    #[serde(default)]
    local_networks: Vec<String>,
}

/// Every crafted case, in name order (`testdata/cases/` first).
#[allow(dead_code)]
pub fn crafted_cases() -> Vec<Case> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut out = Vec::new();
    for group in ["cases", "exim"] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join(group))
            .unwrap_or_else(|e| panic!("testdata/{group}: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("expected.ndjson").exists())
            .collect();
        dirs.sort();
        for dir in dirs {
            let t: CaseToml = match std::fs::read_to_string(dir.join("case.toml")) {
                Ok(text) => toml::from_str(&text).unwrap_or_else(|e| panic!("{}/case.toml: {e}", dir.display())),
                Err(_) => CaseToml::default(),
            };
            let logs = t.logs.unwrap_or_else(|| vec!["mail.log".into()]);
            out.push(Case {
                logs: logs.iter().map(|l| dir.join(l)).collect(),
                year: t.year.unwrap_or(2026),
                timezone: t.timezone.unwrap_or_else(|| "UTC".into()),
                local_domains: t.local_domains,
                local_networks: t.local_networks,
                dir,
            });
        }
    }
    out
}

/// The lines of `log` split by syslog host (the field after the BSD timestamp), one file per
/// host in `dir`, in host name order.
#[allow(dead_code)]
pub fn by_host(log: &std::path::Path, dir: &std::path::Path) -> Vec<PathBuf> {
    let mut hosts: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for line in std::fs::read_to_string(log).unwrap().lines() {
        let host = line.split_whitespace().nth(3).unwrap().to_string();
        let text = hosts.entry(host).or_default();
        text.push_str(line);
        text.push('\n');
    }
    hosts
        .into_iter()
        .map(|(host, text)| {
            let path = dir.join(format!("{host}.log"));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

/// The rows of ndjson `text`, each as compact JSON, sorted.
#[allow(dead_code)]
pub fn sorted_rows(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap().to_string())
        .collect();
    v.sort();
    v
}
