//! The `replay` example, run as a user would: `cargo run --example replay -- …`.
//!
//! Each run costs a cargo invocation, so there are few, each checking several things.

#![cfg(feature = "csv")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "regulars-replay-{name}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir_all(&dir).expect("temporary directory");
        Self(dir)
    }

    fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, content).expect("test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            "--example",
            "replay",
            "--",
        ])
        .args(args)
        .output()
        .expect("cargo runs")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 temporary path")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const EXPORT: &str = "\
record_id,ts,given_name,family_name,email,phone
r-1,2026-01-10,Ana,Silva,ana.silva@example.org,
r-2,2026-01-11,Ben,Okafor,,07700 900123
\"r,3\",2026-02-01,ANA,,  Ana.Silva@EXAMPLE.org ,
r-4,2026-02-02,Ben,,,+44 7700 900123
";

#[test]
fn happy_path_prints_each_decision_and_the_clusters() {
    let dir = TempDir::new("happy");
    let input = dir.file("export.csv", EXPORT);
    let clusters = dir.0.join("clusters.csv");
    let out = replay(&[
        "--country",
        "GB",
        "--clusters",
        path(&clusters),
        path(&input),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(lines[0], "record_id,patron_id,decision,score");
    assert_eq!(lines[1], "r-1,1,new,");
    assert_eq!(lines[2], "r-2,2,new,");
    assert!(lines[3].starts_with("\"r,3\",1,known,"), "{}", lines[3]);
    assert!(lines[4].starts_with("r-4,2,known,"), "{}", lines[4]);
    let score = lines[3].rsplit(',').next().expect("a score");
    assert_eq!(score.split('.').nth(1).map(str::len), Some(2), "{score}");

    let clusters = fs::read_to_string(&clusters).expect("clusters written");
    assert_eq!(
        clusters,
        "record_id,patron_id\nr-1,1\nr-2,2\n\"r,3\",1\nr-4,2\n"
    );
    assert!(stderr.contains("4 rows"), "{stderr}");
    assert!(stderr.contains("2 known, 0 review, 2 new"), "{stderr}");
    assert!(stderr.contains("2 patrons"), "{stderr}");
    assert!(stderr.contains("rows/s"), "{stderr}");
}

#[test]
fn a_bad_row_stops_the_run_unless_skipped() {
    let dir = TempDir::new("bad");
    let input = dir.file(
        "export.csv",
        "record_id,given_name,email,birth_date\n\
         r-1,Ana,ana@example.org,1980-05-17\n\
         r-2,Ben,ben@example.org,17/05/1980\n\
         r-3,Cy,not-an-address,\n\
         r-4,Dee,dee@example.org,\n",
    );

    let stopped = replay(&[path(&input)]);
    assert_eq!(stopped.status.code(), Some(2));
    let stderr = text(&stopped.stderr);
    assert!(
        stderr.contains("line 3, column birth_date: value is malformed: expected YYYY-MM-DD"),
        "{stderr}"
    );
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("replay:"))
        .collect();
    assert_eq!(ours.len(), 1, "one line: {stderr}");
    assert!(!stderr.contains("Ben"), "{stderr}");
    assert_eq!(
        text(&stopped.stdout),
        "record_id,patron_id,decision,score\nr-1,1,new,\n"
    );

    let skipped = replay(&["--skip-bad", path(&input)]);
    let stderr = text(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped line 3, column birth_date"),
        "{stderr}"
    );
    assert!(stderr.contains("skipped line 4, column email"), "{stderr}");
    assert!(!stderr.contains("not-an-address"), "{stderr}");
    assert!(stderr.contains("4 rows, 2 bad rows skipped"), "{stderr}");
    let stdout = text(&skipped.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.ends_with("r-4,2,new,\n"), "{stdout}");
}

#[test]
fn unusable_inputs_and_options_exit_with_2() {
    let dir = TempDir::new("usage");
    let input = dir.file("export.csv", "id,email\nr-1,ana@example.org\n");

    let missing_column = replay(&["--skip-bad", path(&input)]);
    assert_eq!(missing_column.status.code(), Some(2));
    let stderr = text(&missing_column.stderr);
    assert!(
        stderr.contains("line 1: the header has no record_id column"),
        "{stderr}"
    );

    let data_dir = replay(&["--data-dir", path(&dir.0), path(&input)]);
    assert_eq!(data_dir.status.code(), Some(2));
    let stderr = text(&data_dir.stderr);
    assert!(
        stderr.contains("--data-dir: durable memory is not available yet"),
        "{stderr}"
    );
    assert!(stderr.contains("usage: replay"), "{stderr}");
}
