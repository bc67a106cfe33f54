//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// `../shared/<rel>` beside the checkout, if present. When `CI=true` it must be present.
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
