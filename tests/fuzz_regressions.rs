//! The fuzzers' saved inputs, run as ordinary tests: every file in
//! `fuzz/regressions/<target>/` goes through the same code the fuzz target runs
//! (`fuzz/harness.rs`), so a bug a fuzzer once found stays fixed without nightly tools.

#![cfg(feature = "csv")]

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn run(target: &str) {
    let (_, harness) = harness::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a harness target");
    let files = inputs(target);
    // An empty directory would make the test pass without testing anything.
    assert!(!files.is_empty(), "no regression inputs for {target}");
    for file in files {
        let data = std::fs::read(&file).expect("readable input");
        let outcome = std::panic::catch_unwind(|| harness(&data));
        assert!(outcome.is_ok(), "{target}: {} failed", file.display());
    }
}

#[test]
fn every_target_has_a_regression_directory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for (target, _) in harness::TARGETS {
        assert!(root.join(target).is_dir(), "fuzz/regressions/{target}");
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("fuzz/fuzz_targets/{target}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{target}.rs"
        );
    }
}

#[test]
fn email() {
    run("email");
}

#[test]
fn phone() {
    run("phone");
}

#[test]
fn name() {
    run("name");
}

#[test]
fn postcode() {
    run("postcode");
}

#[test]
fn country() {
    run("country");
}

#[test]
fn recognize() {
    run("recognize");
}

#[test]
fn import_csv() {
    run("import_csv");
}

#[test]
fn events() {
    run("events");
}

#[test]
fn snapshot() {
    run("snapshot");
}

#[test]
fn journal() {
    run("journal");
}
