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

    // Running the moment rules changes no decision and no cluster.
    let with_moments = dir.0.join("with-moments.csv");
    let again = replay(&[
        "--country",
        "GB",
        "--moments",
        "--clusters",
        path(&with_moments),
        path(&input),
    ]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), stdout);
    assert_eq!(
        fs::read_to_string(&with_moments).expect("clusters written"),
        clusters
    );
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

    let no_dir = replay(&[path(&input), "--data-dir"]);
    assert_eq!(no_dir.status.code(), Some(2));
    let stderr = text(&no_dir.stderr);
    assert!(stderr.contains("--data-dir needs a value"), "{stderr}");
    assert!(stderr.contains("usage: replay"), "{stderr}");

    // A data dir that cannot be one is memory's failure, not a usage error.
    let not_a_dir = replay(&["--data-dir", path(&input), path(&input)]);
    assert_eq!(not_a_dir.status.code(), Some(1));
    let stderr = text(&not_a_dir.stderr);
    assert!(stderr.contains("replay: memory: "), "{stderr}");
}

// ---------------------------------------------------------------- durable runs

#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

/// The built example itself, so that a test can kill it (killing `cargo run` would leave
/// the example running).
fn replay_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // This test runs from `<target>/<profile>/deps/`; examples live next to it,
            // built in the same profile (a release test run must not pick up a stale
            // release example while cargo builds a debug one).
            let exe = std::env::current_exe().expect("the test binary");
            let profile = exe
                .parent()
                .and_then(Path::parent)
                .expect("the profile directory");
            let mut build = Command::new(env!("CARGO"));
            build.args([
                "build",
                "--quiet",
                "--manifest-path",
                concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
                "--example",
                "replay",
            ]);
            if profile.file_name().is_some_and(|name| name == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "the example builds");
            profile.join("examples").join("replay")
        })
        .clone()
}

/// A vendor export of a few thousand orders by recurring, differently-typed people.
fn export(dir: &TempDir) -> PathBuf {
    let people = population::Population::generate(1500, 21);
    let mut csv = population::CSV_HEADER.join(",");
    csv.push('\n');
    for record in &people.records {
        let row: Vec<String> = record
            .csv_row()
            .iter()
            .map(|field| {
                if field.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", field.replace('"', "\"\""))
                } else {
                    field.clone()
                }
            })
            .collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    dir.file("export.csv", &csv)
}

/// Runs the example on `input` with `data_dir`, to the end.
fn durable_run(input: &Path, data_dir: &Path, clusters: &Path) -> Output {
    let out = Command::new(replay_binary())
        .args(["--country", "GB", "--skip-bad", "--data-dir"])
        .arg(data_dir)
        .arg("--clusters")
        .arg(clusters)
        .arg(input)
        .output()
        .expect("the example runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    out
}

/// Starts the example on `input` and SIGKILLs it once it has printed `rows` rows;
/// returns the rows it printed.
#[cfg(unix)]
fn killed_run(input: &Path, data_dir: &Path, rows: usize) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;

    let mut child = Command::new(replay_binary())
        .args(["--country", "GB", "--skip-bad", "--data-dir"])
        .arg(data_dir)
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the example starts");
    let stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut printed = Vec::new();
    for line in stdout.lines() {
        let Ok(line) = line else { break };
        printed.push(line);
        if printed.len() > rows {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert_eq!(
        status.signal(),
        Some(9),
        "the run ended before it was killed: {status:?}"
    );
    printed
}

/// Rows as printed, without the header.
fn rows_of(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| *l != "record_id,patron_id,decision,score")
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_run_killed_twice_and_resumed_ends_like_an_uninterrupted_one() {
    let dir = TempDir::new("resume");
    let input = export(&dir);
    let whole = dir.0.join("whole.csv");
    let once = durable_run(&input, &dir.0.join("once"), &whole);
    let all_rows = rows_of(&text(&once.stdout));
    let expected = fs::read_to_string(&whole).expect("clusters");
    assert!(all_rows.len() > 3000, "{} rows", all_rows.len());

    // The same memory without a data dir writes the same clusters.
    let plain = dir.0.join("plain.csv");
    let out = replay(&[
        "--country",
        "GB",
        "--skip-bad",
        "--clusters",
        path(&plain),
        path(&input),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(fs::read_to_string(&plain).expect("clusters"), expected);
    assert_eq!(rows_of(&text(&out.stdout)), all_rows);
    // So does one that runs the moment rules on the imported orders.
    let with_moments = dir.0.join("moments.csv");
    let out = replay(&[
        "--country",
        "GB",
        "--skip-bad",
        "--moments",
        "--clusters",
        path(&with_moments),
        path(&input),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        fs::read_to_string(&with_moments).expect("clusters"),
        expected
    );
    assert_eq!(rows_of(&text(&out.stdout)), all_rows);

    #[cfg(unix)]
    {
        let data = dir.0.join("interrupted");
        let mut printed = killed_run(&input, &data, 200);
        printed.extend(killed_run(&input, &data, 400));
        let resumed = dir.0.join("resumed.csv");
        let last = durable_run(&input, &data, &resumed);
        assert_eq!(
            fs::read_to_string(&resumed).expect("clusters"),
            expected,
            "the clusters of the interrupted run differ"
        );
        printed.extend(rows_of(&text(&last.stdout)));
        // Every row printed is the row the uninterrupted run printed, and none twice.
        let printed: Vec<String> = printed
            .into_iter()
            .filter(|l| *l != "record_id,patron_id,decision,score")
            .collect();
        let unique: std::collections::BTreeSet<&String> = printed.iter().collect();
        assert_eq!(unique.len(), printed.len(), "a row was printed twice");
        let expected_rows: std::collections::BTreeSet<&String> = all_rows.iter().collect();
        for row in &printed {
            assert!(expected_rows.contains(row), "{row} differs");
        }
        let stderr = text(&last.stderr);
        assert!(stderr.contains("rows were in memory already"), "{stderr}");
    }

    // Once done, a run on the same input prints no row and writes the same clusters.
    let again = dir.0.join("again.csv");
    let out = durable_run(&input, &dir.0.join("once"), &again);
    assert_eq!(text(&out.stdout), "record_id,patron_id,decision,score\n");
    assert_eq!(fs::read_to_string(&again).expect("clusters"), expected);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{} rows were in memory already", all_rows.len())),
        "{stderr}"
    );
}
