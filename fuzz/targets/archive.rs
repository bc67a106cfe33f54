//! A day's archive (`.mtar`), damaged or made up, as `search --historical`, `show`, `replay`
//! and `verify` read it. Invariants: damage is an error naming the archive, never a panic or
//! a hang; an archive that `verify` passes is read whole without error. (Under cargo-fuzz the
//! checksums let every mutation through, so the readers behind them are fuzzed too.)

use mailtrace::query::{AddressPattern, Criteria};
use mailtrace::store::archive::{self, Archive};

pub fn run(data: &[u8]) {
    let path = super::scratch().join("2026-11-24.mtar");
    std::fs::write(&path, data).unwrap();
    let named = |e: anyhow::Error| {
        let message = format!("{e:#}");
        assert!(
            message.contains("2026-11-24.mtar"),
            "the error names the archive: {message}"
        );
    };
    // under cargo-fuzz every checksum passes, so `verify` vouches for nothing there
    let verified = archive::verify(&path).map_err(named).is_ok() && !cfg!(fuzzing);
    let _ = Archive::hosts_of(&path).map_err(named);
    let a = match Archive::open(&path) {
        Ok(a) => a,
        Err(e) => {
            assert!(!verified, "verify passed an archive that does not open: {e:#}");
            return named(e);
        }
    };
    let _ = a.info();
    let to = Criteria {
        to: vec![AddressPattern::parse("*@example.com")],
        ..Criteria::default()
    };
    let results = [
        a.all().map(drop),
        a.raw_records().map(drop),
        a.search(&to).map(drop),
        a.traces("4B7F31C0A2").map(drop),
        a.all().and_then(|mut t| a.fill_texts(&mut t)),
    ];
    for r in results {
        match r {
            Ok(()) => {}
            Err(e) if !verified => named(e),
            Err(e) => panic!("verify passed an archive that does not read: {e:#}"),
        }
    }
}
