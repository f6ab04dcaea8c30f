//! Replays every input kept under `fuzz/regressions/<target>/` (the seeds, and each crash
//! fuzzing ever found) through the same check as the fuzz target, in the ordinary test suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

fn regressions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions")
}

#[test]
fn every_kept_input_passes_its_check() {
    let mut replayed = 0;
    for (target, check) in poste_fuzz::TARGETS {
        let dir = regressions_dir().join(target);
        let entries =
            std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "{} has no input", dir.display());
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(
                outcome.is_ok(),
                "{target}: {} fails its check",
                file.display()
            );
            replayed += 1;
        }
    }
    assert!(replayed >= poste_fuzz::TARGETS.len());
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    let fuzz_targets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for (target, _) in poste_fuzz::TARGETS {
        let file = fuzz_targets.join(format!("{target}.rs"));
        assert!(file.is_file(), "{} is missing", file.display());
        assert!(poste_fuzz::run(target, b""));
    }
    assert!(!poste_fuzz::run("no_such_target", b""));
}
