//! The store's `state.json` (files read and how far, the checkpoint in use, the counters), as
//! every writer loads it. Invariants: a damaged file is an error naming it, never a panic; a
//! state that loads can be asked where a file resumes, and saves and loads back the same.

use mailtrace::store::state::IngestState;

pub fn run(data: &[u8]) {
    let dir = super::scratch().join("state");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(IngestState::FILE), data).unwrap();
    let state = match IngestState::load(&dir) {
        Ok(s) => s,
        Err(e) => {
            let message = format!("{e:#}");
            assert!(message.contains("state.json"), "the error names the file: {message}");
            return;
        }
    };
    // a log whose head may match a known file's fingerprint
    let log = dir.join("mail.log");
    std::fs::write(&log, data).unwrap();
    for transformed in [false, true] {
        let _ = state.resume(&log, data.len() as u64, transformed);
    }
    state.save(&dir).expect("saving a state that loaded");
    let again = IngestState::load(&dir).expect("a saved state loads");
    assert_eq!(
        serde_json::to_value(&again).unwrap(),
        serde_json::to_value(&state).unwrap(),
        "a saved state loads back the same"
    );
}
