//! `regulars::import`: vendor CSV exports to events, through the public API only.

#![cfg(feature = "csv")]

use std::io::{self, Read};

use chrono::{NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use regulars::import::{COLUMNS, ImportError, ImportedRecord, MAX_FIELD_BYTES, OrderCsv};
use regulars::normalize::Country;
use regulars::{Error, Event, EventKind, ManualClock, Memory, Order, PreparedEvent, Signals};

// ---------------------------------------------------------------- helpers

fn reader(csv: &str) -> OrderCsv<&[u8]> {
    OrderCsv::from_reader(csv.as_bytes()).expect("a usable header")
}

/// Every row, good or bad.
fn rows(csv: &str) -> Vec<Result<ImportedRecord, ImportError>> {
    reader(csv).collect()
}

/// Every row, all expected good.
fn good(csv: &str) -> Vec<ImportedRecord> {
    rows(csv)
        .into_iter()
        .map(|row| row.expect("a good row"))
        .collect()
}

/// The one row of a file, expected bad.
fn bad(csv: &str) -> ImportError {
    let mut all = rows(csv);
    assert_eq!(all.len(), 1, "one row expected");
    all.remove(0).expect_err("a bad row")
}

fn header_error(csv: &[u8]) -> ImportError {
    OrderCsv::from_reader(csv).expect_err("an unusable header")
}

fn buyer(record: &ImportedRecord) -> &Signals {
    match record.event().kind() {
        EventKind::Order(order) => order.buyer(),
        other => panic!("expected an order, got {other:?}"),
    }
}

fn order(record: &ImportedRecord) -> &Order {
    match record.event().kind() {
        EventKind::Order(order) => order,
        other => panic!("expected an order, got {other:?}"),
    }
}

fn memory() -> Memory {
    Memory::builder()
        .default_country(Country::GB)
        .clock(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
                .single()
                .expect("valid time"),
        ))
        .build()
        .expect("valid configuration")
}

/// Observes one imported row, naming observe's errors by column.
fn observe(memory: &mut Memory, record: ImportedRecord) -> Result<&'static str, ImportError> {
    let line = record.line();
    memory
        .observe(record.into_event())
        .map(|seen| seen.recognition().decision())
        .map_err(|e| ImportError::from_observe(line, &e))
}

fn where_(error: &ImportError) -> (Option<u64>, Option<&'static str>) {
    (error.line(), error.column())
}

// ---------------------------------------------------------------- header

#[test]
fn columns_are_found_by_name_in_any_order_trimmed_and_case_insensitive() {
    let csv = " EMAIL ,notes,Record_Id,\tGiven_Name\n\
               ana@example.org,likes the balcony,r-1,Ana\n";
    let reader = reader(csv);
    assert_eq!(
        reader.columns().collect::<Vec<_>>(),
        ["record_id", "given_name", "email"]
    );
    let rows: Vec<_> = reader.collect::<Result<_, _>>().expect("good rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].record_id(), "r-1");
    let expected = Signals::new().given_name("Ana").email("ana@example.org");
    assert_eq!(buyer(&rows[0]), &expected);
}

#[test]
fn every_listed_column_fills_its_signal() {
    let csv = "record_id,ts,given_name,family_name,email,phone,address,postcode,city,country,\
               birth_date,card_token,loyalty_id\n\
               r-1,2026-02-01 10:00:00,Ana,Silva,ana@example.org,020 7946 0018,1 High St,\
               SW1A 1AA,London,gb,1980-05-17,tok_123,L-0042\n";
    assert_eq!(COLUMNS.len(), 13);
    let row = &good(csv)[0];
    let expected = Signals::new()
        .given_name("Ana")
        .family_name("Silva")
        .email("ana@example.org")
        .phone("020 7946 0018")
        .street("1 High St")
        .postcode("SW1A 1AA")
        .city("London")
        .country("GB")
        .birth_date(NaiveDate::from_ymd_opt(1980, 5, 17).expect("valid date"))
        .card_token("tok_123")
        .external_id("loyalty", "L-0042");
    assert_eq!(buyer(row), &expected);
    let order = order(row);
    assert_eq!(order.id().as_str(), "r-1");
    assert!(order.tickets().is_empty());
    assert_eq!(row.event().id().as_str(), "r-1");
    assert_eq!(
        row.event().occurred_at(),
        Utc.with_ymd_and_hms(2026, 2, 1, 10, 0, 0).single()
    );
}

#[test]
fn empty_cells_and_absent_columns_are_missing_values() {
    let rows = good("record_id,given_name,email,ts\nr-1,Ana,  ,\n");
    assert_eq!(buyer(&rows[0]), &Signals::new().given_name("Ana"));
    assert_eq!(rows[0].event().occurred_at(), None);
}

#[test]
fn a_header_without_record_id_is_fatal() {
    let err = header_error(b"id,email\nr-1,ana@example.org\n");
    assert!(matches!(
        err,
        ImportError::MissingColumn {
            line: 1,
            column: "record_id"
        }
    ));
    assert!(err.is_fatal());
    assert_eq!(
        err.to_string(),
        "line 1: the header has no record_id column"
    );
    // An empty file has no header at all.
    assert!(matches!(
        header_error(b""),
        ImportError::MissingColumn { .. }
    ));
    assert!(matches!(
        header_error(b"\xEF\xBB\xBF"),
        ImportError::MissingColumn { .. }
    ));
}

#[test]
fn a_column_named_twice_is_fatal_but_repeated_unknown_columns_are_ignored() {
    let err = header_error(b"record_id,email,notes,Email \n");
    assert!(matches!(
        err,
        ImportError::DuplicateColumn {
            line: 1,
            column: "email",
            first: 2,
            second: 4
        }
    ));
    assert!(err.is_fatal());
    assert_eq!(good("record_id,notes,notes,,\nr-1,a,b,,\n").len(), 1);
}

#[test]
fn a_byte_order_mark_is_dropped_even_before_a_quoted_name() {
    let rows = good("\u{feff}record_id,email\nr-1,ana@example.org\n");
    assert_eq!(rows[0].record_id(), "r-1");
    let rows = good("\u{feff}\"record_id\",email\nr-1,ana@example.org\n");
    assert_eq!(rows[0].record_id(), "r-1");
    assert_eq!(rows[0].line(), 2);
}

// ---------------------------------------------------------------- lines

#[test]
fn lines_are_physical_lines_of_the_file() {
    let csv = "record_id,given_name,address\r\n\
               r-1,Ana,\"1 High St\r\nFlat 2\"\r\n\
               r-2,Ben,\"a\nb\nc\"\r\n\
               \r\n\
               r-3,Cy,\r\n";
    let lines: Vec<(u64, String)> = good(csv)
        .iter()
        .map(|r| (r.line(), r.record_id().to_owned()))
        .collect();
    assert_eq!(
        lines,
        [
            (2, "r-1".to_owned()),
            (4, "r-2".to_owned()),
            (8, "r-3".to_owned())
        ]
    );
}

#[test]
fn lines_stay_right_over_a_long_file_with_blank_lines_before_the_header() {
    let mut csv = String::from("\r\n\nrecord_id,given_name,address\r\n");
    let mut expected = Vec::new();
    let mut line = 4;
    for i in 0..5000 {
        expected.push(line);
        if i % 7 == 0 {
            csv.push_str(&format!("r-{i},Ana,\"1 High St\nFlat {i}\"\r\n\r\n"));
            line += 3;
        } else {
            csv.push_str(&format!("r-{i},Ana,1 High St\r\n"));
            line += 1;
        }
    }
    let lines: Vec<u64> = good(&csv).iter().map(ImportedRecord::line).collect();
    assert_eq!(lines, expected);
    let err = header_error(b"\n\nid\n");
    assert_eq!(err.line(), Some(3));
}

#[test]
fn quoted_fields_keep_commas_and_quotes() {
    let rows = good("record_id,family_name\n\"r,1\",\"O\"\"Brien, Jr\"\n");
    assert_eq!(rows[0].record_id(), "r,1");
    assert_eq!(buyer(&rows[0]), &Signals::new().family_name("O\"Brien, Jr"));
}

// ---------------------------------------------------------------- values

#[test]
fn timestamps_are_rfc3339_or_utc_date_times_or_dates() {
    let csv = "record_id,ts,given_name\n\
               r-1,2026-02-01T10:00:00+01:00,A\n\
               r-2,2026-02-01 10:00:00,B\n\
               r-3,2026-02-01,C\n\
               r-4,2026-02-01T10:00:00Z,D\n";
    let at: Vec<_> = good(csv)
        .iter()
        .map(|r| r.event().occurred_at().expect("a time"))
        .collect();
    let utc = |h| {
        Utc.with_ymd_and_hms(2026, 2, 1, h, 0, 0)
            .single()
            .expect("valid")
    };
    assert_eq!(at, [utc(9), utc(10), utc(0), utc(10)]);
}

#[test]
fn a_bad_timestamp_names_line_and_column() {
    for ts in [
        "yesterday",
        "2026-02-30",
        "01/02/2026",
        "2026-2-1",
        "2026-02-01 25:00:00",
        "2026-02-01T10:00:00",
        "+2026-02-01",
    ] {
        let err = bad(&format!("record_id,ts,given_name\nr-1,{ts},Ana\n"));
        assert_eq!(where_(&err), (Some(2), Some("ts")), "{ts}");
        assert!(!err.is_fatal());
    }
}

#[test]
fn a_bad_birth_date_names_line_and_column() {
    for date in [
        "17/05/1980",
        "1980-5-17",
        "1980-02-30",
        "19800517",
        "1980-05-17x",
    ] {
        let err = bad(&format!("record_id,birth_date\nr-1,{date}\n"));
        assert!(
            matches!(
                &err,
                ImportError::Field {
                    line: 2,
                    column: "birth_date",
                    ..
                }
            ),
            "{date}: {err}"
        );
        assert_eq!(
            err.to_string(),
            "line 2, column birth_date: value is malformed: expected YYYY-MM-DD"
        );
    }
}

#[test]
fn a_country_must_be_an_iso_code() {
    assert_eq!(
        buyer(&good("record_id,country\nr-1, de \n")[0]),
        &Signals::new().country("DE")
    );
    let err = bad("record_id,country\nr-1,Germany\n");
    assert_eq!(where_(&err), (Some(2), Some("country")));
    assert!(!err.to_string().contains("Germany"));
}

#[test]
fn record_ids_must_be_present_and_unique() {
    let csv = "record_id,given_name\n\
               r-1,Ana\n\
               ,Ben\n\
               \x20\x20,Cy\n\
               r-1,Dee\n\
               \"r-\x07\",Ed\n\
               r-2,Flo\n";
    let results = rows(csv);
    assert_eq!(results.len(), 6);
    assert!(results[0].is_ok());
    for (i, line) in [(1, 3), (2, 4), (3, 5), (4, 6)] {
        let err = results[i].as_ref().expect_err("a bad record id");
        assert_eq!(where_(err), (Some(line), Some("record_id")), "{err}");
    }
    let dup = results[3].as_ref().expect_err("a repeat");
    assert_eq!(
        dup.to_string(),
        "line 5, column record_id: record id already used on line 2"
    );
    assert_eq!(
        results[5].as_ref().expect("good").record_id(),
        "r-2",
        "reading goes on after bad rows"
    );
}

#[test]
fn a_row_with_the_wrong_number_of_fields_names_its_line_and_reading_goes_on() {
    let mut reader = reader("record_id,given_name\nr-1,Ana,extra\nr-2\nr-3,Cy\n");
    let first = reader.next().expect("a row").expect_err("too many fields");
    assert!(matches!(
        first,
        ImportError::Csv {
            line: 2,
            column: None,
            ..
        }
    ));
    assert_eq!(
        first.to_string(),
        "line 2: row has 3 fields, the header has 2"
    );
    let second = reader.next().expect("a row").expect_err("too few fields");
    assert_eq!(second.line(), Some(3));
    assert_eq!(
        reader.next().expect("a row").expect("good").record_id(),
        "r-3"
    );
    assert!(reader.next().is_none());
    assert_eq!(reader.rows_read(), 3);
}

#[test]
fn invalid_utf8_names_the_column_and_is_ignored_in_unknown_columns() {
    let csv: &[u8] = b"record_id,notes,family_name\nr-1,\xff\xfe,Silva\nr-2,ok,Sil\xE9va\n";
    let results: Vec<_> = OrderCsv::from_reader(csv).expect("header").collect();
    assert!(results[0].is_ok());
    let err = results[1].as_ref().expect_err("latin-1");
    assert!(matches!(
        err,
        ImportError::Csv {
            line: 3,
            column: Some("family_name"),
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "line 3, column family_name: value is not valid UTF-8"
    );
}

#[test]
fn long_values_are_refused_and_huge_records_stop_reading() {
    let long = "x".repeat(MAX_FIELD_BYTES + 1);
    let err = bad(&format!("record_id,given_name\nr-1,{long}\n"));
    assert_eq!(where_(&err), (Some(2), Some("given_name")));
    assert!(!err.is_fatal());
    // Ignored columns may be long, within the record bound.
    assert_eq!(good(&format!("record_id,notes\nr-1,{long}\n")).len(), 1);

    let huge = "y".repeat(3 << 20);
    let csv = format!("record_id,notes\nr-1,a\nr-2,\"{huge}\"\nr-3,c\n");
    let results = rows(&csv);
    assert_eq!(results.len(), 2, "reading stops at the huge record");
    assert!(results[0].is_ok());
    let err = results[1].as_ref().expect_err("too long");
    assert!(
        matches!(err, ImportError::RecordTooLong { line: 3, .. }),
        "{err}"
    );
    assert!(err.is_fatal());
}

/// Yields one byte per read, and `Interrupted` before each.
struct Trickle<'a> {
    bytes: &'a [u8],
    interrupt: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        match (self.bytes.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.bytes = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn a_slow_reader_is_read_whole_with_its_byte_order_mark_dropped() {
    let csv = "\u{feff}record_id,given_name\nr-1,Ana\nr-2,Ben\n";
    let trickle = Trickle {
        bytes: csv.as_bytes(),
        interrupt: false,
    };
    let rows: Vec<_> = OrderCsv::from_reader(trickle)
        .expect("header")
        .collect::<Result<_, _>>()
        .expect("good rows");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].line(), 3);
}

/// Fails after `ok` bytes.
struct Failing<'a> {
    bytes: &'a [u8],
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.bytes.is_empty() {
            return Err(io::Error::other("disk on fire"));
        }
        let n = self.bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

#[test]
fn a_failing_reader_ends_the_import_with_an_io_error() {
    let mut reader = OrderCsv::from_reader(Failing {
        bytes: b"record_id\nr-1\n",
    })
    .expect("header");
    let first = reader.next().expect("a result");
    // The reader fails while looking for the end of the first record or the next one.
    let err = match first {
        Ok(row) => {
            assert_eq!(row.record_id(), "r-1");
            reader.next().expect("a result").expect_err("io error")
        }
        Err(err) => err,
    };
    assert!(matches!(err, ImportError::Io { .. }));
    assert!(err.is_fatal());
    assert!(reader.next().is_none());
    assert!(matches!(
        header_error_from(Failing { bytes: b"" }),
        ImportError::Io { line: 1, .. }
    ));
}

fn header_error_from(read: impl Read) -> ImportError {
    OrderCsv::from_reader(read).expect_err("an unreadable header")
}

// ---------------------------------------------------------------- observe

#[test]
fn imported_rows_recognize_a_returning_patron() {
    let csv = "record_id,ts,given_name,family_name,email,phone\n\
               r-1,2026-01-10,Ana,Silva,ana.silva@example.org,\n\
               r-2,2026-01-11,Ben,Okafor,,07700 900123\n\
               r-3,2026-02-01,ANA,,  Ana.Silva@EXAMPLE.org ,\n\
               r-4,2026-02-02,Ben,,,+44 7700 900123\n";
    let mut memory = memory();
    let decisions: Vec<_> = good(csv)
        .into_iter()
        .map(|row| observe(&mut memory, row).expect("observed"))
        .collect();
    assert_eq!(decisions, ["new", "new", "known", "known"]);
    assert_eq!(memory.patron_count(), 2);
}

#[test]
fn observe_errors_are_named_by_column() {
    let cases = [
        ("email", "not-an-address", "email"),
        ("phone", "12", "phone"),
        ("given_name", "\u{0}\u{0}", "given_name"),
        ("family_name", "1234", "family_name"),
        ("address", "1 High\u{7}St", "address"),
        ("city", "Lon\u{1b}don", "city"),
        ("card_token", "tok 123", "card_token"),
        ("loyalty_id", "L 42", "loyalty_id"),
        ("postcode", "!!!", "postcode"),
        ("birth_date", "2030-01-01", "birth_date"),
        ("birth_date", "1700-01-01", "birth_date"),
    ];
    for (column, value, expected) in cases {
        let csv = format!("record_id,{column}\nr-1,\"{value}\"\n");
        let row = good(&csv).remove(0);
        let mut memory = memory();
        let err = observe(&mut memory, row).expect_err(value);
        assert_eq!(where_(&err), (Some(2), Some(expected)), "{column}: {err}");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("line 2, column {expected}: value ")),
            "{message}"
        );
        assert!(!message.contains(value), "{message} echoes the value");
        assert_eq!(memory.patron_count(), 0);
    }
}

#[test]
fn a_row_describing_nobody_is_no_identity() {
    let row = good("record_id,ts,given_name\nr-1,2026-01-01,\n").remove(0);
    let err = observe(&mut memory(), row).expect_err("nobody");
    assert!(matches!(err, ImportError::NoIdentity { line: 2 }));
    assert!(
        err.to_string()
            .starts_with("line 2: no name and no identifier")
    );
}

#[test]
fn a_record_id_memory_already_used_is_named_as_record_id() {
    let mut memory = memory();
    let earlier = Event::order("r-1", Order::new("o-9", Signals::new().given_name("Zed")));
    memory.observe(earlier).expect("observed");
    let other_order = Event::order("e-9", Order::new("r-2", Signals::new().given_name("Yan")));
    memory.observe(other_order).expect("observed");

    let rows = good("record_id,given_name\nr-1,Ana\nr-2,Ben\n");
    let errs: Vec<_> = rows
        .into_iter()
        .map(|row| observe(&mut memory, row).expect_err("id already used"))
        .collect();
    assert_eq!(where_(&errs[0]), (Some(2), Some("record_id")));
    assert_eq!(where_(&errs[1]), (Some(3), Some("record_id")));
}

#[test]
fn from_observe_keeps_errors_no_column_explains() {
    let err = Error::UnknownPerformance {
        location: "event `r-1`: order.tickets[0].performance".to_owned(),
        performance: "`x`".to_owned(),
    };
    let mapped = ImportError::from_observe(7, &err);
    assert!(matches!(&mapped, ImportError::Observe { line: 7, source } if *source == err));
    assert_eq!(where_(&mapped), (Some(7), None));
    assert_eq!(
        mapped.to_string(),
        "line 7: event `r-1`: order.tickets[0].performance: unknown performance `x`"
    );
    // A record id that looks like a field path does not fool the mapping.
    let row = good("record_id,given_name\n\"x: order.buyer.email\",A\u{1}B\n").remove(0);
    let err = observe(&mut memory(), row).expect_err("a control character");
    assert_eq!(where_(&err), (Some(2), Some("given_name")));
}

#[test]
fn messages_and_debug_never_show_personal_data() {
    let csv = "record_id,given_name,family_name,email,birth_date\n\
               r-1,Ana,Silva,ana.silva@example.org,1980-13-01\n\
               r-2,Ana,Silva,ana.silva@example.org,1980-01-01\n";
    let results = rows(csv);
    let err = results[0].as_ref().expect_err("bad date");
    let row = results[1].as_ref().expect("good");
    for text in [err.to_string(), format!("{err:?}"), format!("{row:?}")] {
        for personal in ["Ana", "Silva", "ana.silva", "1980"] {
            assert!(!text.contains(personal), "{text} shows {personal}");
        }
    }
    let reader = reader(csv);
    assert!(!format!("{reader:?}").contains("Silva"));
}

// ---------------------------------------------------------------- hostile input

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes at all: a header error or rows, never a panic, and never more rows than
    /// the input has bytes.
    #[test]
    fn any_bytes_are_read_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut input = b"record_id,ts,given_name,email,phone,country,birth_date\n".to_vec();
        input.extend_from_slice(&bytes);
        let mut memory = memory();
        let reader = OrderCsv::from_reader(input.as_slice());
        prop_assert!(reader.is_ok());
        if let Ok(reader) = reader {
            let mut count = 0usize;
            for row in reader {
                count += 1;
                prop_assert!(count <= input.len());
                if let Ok(row) = row {
                    let line = row.line();
                    prop_assert!(line >= 2);
                    if let Err(e) = memory.observe(row.into_event()) {
                        let mapped = ImportError::from_observe(line, &e);
                        prop_assert_eq!(mapped.line(), Some(line));
                    }
                }
            }
        }
        // Headers of any bytes, too.
        let _ = OrderCsv::from_reader(bytes.as_slice()).map(|r| r.count());
    }

    /// Rows of hostile strings in every column go through import and observe without
    /// panicking, and every error names a line.
    #[test]
    fn hostile_values_are_answered_with_errors(values in proptest::collection::vec("\\PC{0,12}|[\\x00-\\x1f\",\\r\\n]{0,6}", COLUMNS.len() - 1)) {
        let mut csv = COLUMNS.join(",");
        csv.push('\n');
        csv.push_str("r-1");
        for value in &values {
            csv.push_str(",\"");
            csv.push_str(&value.replace('"', "\"\""));
            csv.push('"');
        }
        csv.push('\n');
        let mut memory = memory();
        for row in OrderCsv::from_reader(csv.as_bytes()).expect("header") {
            match row {
                Ok(row) => {
                    if let Err(e) = observe(&mut memory, row) {
                        prop_assert_eq!(e.line(), Some(2));
                    }
                }
                Err(e) => prop_assert_eq!(e.line(), Some(2)),
            }
        }
    }
}

// ---------------------------------------------------------------- prepared rows

mod common;
#[path = "../examples/support/population.rs"]
#[allow(dead_code)]
mod population;

/// A generated export of recurring, differently-typed people, then rows `observe` refuses.
fn population_export(persons: usize, seed: u64) -> String {
    let people = population::Population::generate(persons, seed);
    let mut csv = population::CSV_HEADER.join(",");
    csv.push('\n');
    for record in &people.records {
        let row: Vec<String> = record
            .csv_row()
            .iter()
            .map(|field| format!("\"{}\"", field.replace('"', "\"\"")))
            .collect();
        csv.push_str(&row.join(","));
        csv.push('\n');
    }
    csv.push_str("bad-1,2026-01-01,Ana,Silva,not-an-address,,,,,,,,,\n");
    csv.push_str("bad-2,2026-01-02,Ben,,,12,,,,,,,,\n");
    csv
}

/// Feeds every good row of `csv` to `memory` through `feed`; what each row became.
fn feed_all(
    memory: &mut Memory,
    csv: &str,
    mut feed: impl FnMut(&mut Memory, Event) -> Result<regulars::Observation, Error>,
) -> Vec<String> {
    reader(csv)
        .map(|row| {
            let row = row.expect("a good row");
            observed(feed(memory, row.into_event()))
        })
        .collect()
}

/// One observation as a line to compare: the patron, the decision and its score, or the
/// error.
fn observed(seen: Result<regulars::Observation, Error>) -> String {
    match seen {
        Ok(seen) => format!(
            "{} {} {:?}",
            seen.patron().as_u64(),
            seen.recognition().decision(),
            seen.recognition().score()
        ),
        Err(error) => format!("error: {error}"),
    }
}

#[test]
fn prepared_rows_are_observed_exactly_as_plain_ones() {
    let csv = population_export(400, 11);
    let mut plain = memory();
    let expected = feed_all(&mut plain, &csv, |memory, event| memory.observe(event));

    let mut again = memory();
    let same = feed_all(&mut again, &csv, |memory, event| memory.observe(event));
    assert_eq!(same, expected);
    assert_same_memory(&again, &plain);

    let mut prepared = memory();
    let preparer = prepared.preparer();
    let got = feed_all(&mut prepared, &csv, |memory, event| {
        let event = preparer.prepare(event);
        assert!(event.is_prepared(), "a timed order is prepared");
        memory.observe_prepared(event)
    });
    assert_eq!(got, expected);
    // The export recognizes people and refuses its two bad rows, by column.
    assert!(expected.iter().any(|row| row.contains(" known ")));
    let errors: Vec<&String> = expected.iter().filter(|r| r.starts_with("error")).collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("event `bad-1`: order.buyer.email"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("order.buyer.phone"), "{}", errors[1]);
    assert_same_memory(&prepared, &plain);
}

#[test]
fn rows_prepared_on_another_thread_come_out_in_file_order() {
    let csv = population_export(300, 12);
    let mut plain = memory();
    let expected = feed_all(&mut plain, &csv, |memory, event| memory.observe(event));

    let mut threaded = memory();
    let preparer = threaded.preparer();
    let got: Vec<String> = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel(4);
        scope.spawn(|| {
            for row in reader(&csv) {
                let event = preparer.prepare(row.expect("a good row").into_event());
                if send.send(event).is_err() {
                    return;
                }
            }
            drop(send);
        });
        receive
            .iter()
            .map(|event| observed(threaded.observe_prepared(event)))
            .collect()
    });
    assert_eq!(got, expected);
    assert_same_memory(&threaded, &plain);
}

/// Panics unless two memories show the same through the public API (not printed when
/// they differ: the snapshots are long).
#[track_caller]
fn assert_same_memory(a: &Memory, b: &Memory) {
    let (a, b) = (common::snapshot(a), common::snapshot(b));
    let differ = a.patrons.iter().zip(&b.patrons).position(|(x, y)| x != y);
    assert!(
        a == b,
        "memories differ: {} and {} patrons, {} and {} events, first different patron at {differ:?}",
        a.patron_count,
        b.patron_count,
        a.event_count,
        b.event_count
    );
}

/// An order at a fixed time, by a buyer with these signals.
fn timed_order(id: &str, buyer: Signals) -> Event {
    let at = Utc
        .with_ymd_and_hms(2026, 2, 1, 10, 0, 0)
        .single()
        .expect("valid time");
    Event::order(id, Order::new(id, buyer)).at(at)
}

#[test]
fn a_prepared_error_comes_where_observe_would_give_it() {
    let mut memory = memory();
    let preparer = memory.preparer();
    let ana = Signals::new().email("ana@example.org");
    memory
        .observe_prepared(preparer.prepare(timed_order("e-1", ana)))
        .expect("a good order");

    // A seen event id with other content conflicts, before its signals are looked at.
    let bad = Signals::new().email("not-an-address");
    let conflict = memory.observe_prepared(preparer.prepare(timed_order("e-1", bad.clone())));
    assert!(
        matches!(conflict, Err(Error::ConflictingEvent { .. })),
        "{conflict:?}"
    );
    // An id `observe` refuses is refused first too.
    let bad_id = memory.observe_prepared(preparer.prepare(timed_order("", bad.clone())));
    let plain_bad_id = memory.observe(timed_order("", bad.clone()));
    assert_eq!(
        bad_id.map(|_| ()).map_err(|e| e.to_string()),
        plain_bad_id.map(|_| ()).map_err(|e| e.to_string())
    );
    // A new event with a bad e-mail: the same error as observe's, and nothing changes.
    let before = common::snapshot(&memory);
    let prepared = memory
        .observe_prepared(preparer.prepare(timed_order("e-2", bad.clone())))
        .expect_err("a malformed e-mail");
    let plain = memory
        .observe(timed_order("e-2", bad))
        .expect_err("a malformed e-mail");
    assert_eq!(prepared.to_string(), plain.to_string());
    assert!(
        prepared.to_string().contains("order.buyer.email"),
        "{prepared}"
    );
    assert!(common::snapshot(&memory) == before, "memory changed");
    assert_eq!(memory.event_count(), 1);
}

#[test]
fn what_was_prepared_with_other_settings_is_normalized_again() {
    // A national number means something with a default country and nothing without one.
    let national = || {
        timed_order(
            "e-1",
            Signals::new().given_name("Ben").phone("07700 900123"),
        )
    };
    let without_country = Memory::new();
    let with_country = memory();

    let mut plain = Memory::new();
    let expected = plain
        .observe(national())
        .map(|seen| seen.recognition().decision());
    let mut target = Memory::new();
    let got = target
        .observe_prepared(with_country.preparer().prepare(national()))
        .map(|seen| seen.recognition().decision());
    assert_eq!(
        got.map_err(|e| e.to_string()),
        expected.map_err(|e| e.to_string())
    );
    assert_same_memory(&target, &plain);

    let mut plain = memory();
    plain.observe(national()).expect("a GB mobile");
    let mut target = memory();
    target
        .observe_prepared(without_country.preparer().prepare(national()))
        .expect("normalized again with GB");
    assert_same_memory(&target, &plain);
}

#[test]
fn untimed_events_and_sealing_memories_are_left_to_observe() {
    let memory = memory();
    let untimed = Event::order(
        "e-1",
        Order::new("o-1", Signals::new().email("ana@example.org")),
    );
    assert!(!memory.preparer().prepare(untimed.clone()).is_prepared());

    let mut sealing = Memory::builder()
        .identifier_key([7; 32])
        .build()
        .expect("valid configuration");
    let preparer = sealing.preparer();
    let timed = timed_order("e-1", Signals::new().email("ana@example.org"));
    let prepared = preparer.prepare(timed.clone());
    assert!(!prepared.is_prepared());
    assert_eq!(prepared.event(), &timed);
    let ana = sealing
        .observe_prepared(prepared)
        .expect("observed")
        .patron();
    let again = sealing
        .recognize(&Signals::new().email(" Ana@Example.ORG"))
        .expect("valid signals");
    assert_eq!(again.known_patron(), Some(ana));
    let stored = sealing.patron(ana).expect("a patron").identifiers()[0]
        .value()
        .to_owned();
    assert!(stored.starts_with("k:"), "sealed");
    assert_eq!(
        preparer.prepare(untimed.clone()).into_event(),
        untimed,
        "the event is handed back as it was"
    );
}

#[test]
fn prepared_rows_are_journaled_like_plain_ones() {
    let dir = std::env::temp_dir().join(format!(
        "regulars-import-prepared-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let csv = population_export(200, 13);
    let open = || {
        Memory::builder()
            .default_country(Country::GB)
            .open(&dir)
            .expect("a data dir")
    };
    let mut durable = open();
    let preparer = durable.preparer();
    let rows = feed_all(&mut durable, &csv, |memory, event| {
        memory.observe_prepared(preparer.prepare(event))
    });
    assert!(rows.len() > 200);
    durable.sync().expect("synced");
    let before = common::snapshot(&durable);
    drop(durable);
    let reopened = open();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        common::snapshot(&reopened) == before,
        "the journal replays to another memory"
    );
}

#[test]
fn a_prepared_event_observed_by_reference_is_kept_by_the_caller() {
    // Shared with the thread that drops it, or looked at from another.
    fn send_and_share<T: Send + Sync>() {}
    send_and_share::<PreparedEvent>();
    let csv = population_export(300, 14);
    let mut plain = memory();
    let expected = feed_all(&mut plain, &csv, |memory, event| memory.observe(event));

    let mut prepared = memory();
    let preparer = prepared.preparer();
    let events: Vec<PreparedEvent> = reader(&csv)
        .map(|row| preparer.prepare(row.expect("a good row").into_event()))
        .collect();
    let got: Vec<String> = events
        .iter()
        .map(|event| observed(prepared.observe_prepared(event)))
        .collect();
    assert_eq!(got, expected);
    assert_same_memory(&prepared, &plain);
    // Still the caller's: observed again, each is a replay (or refused again, as before).
    for (event, first) in events.iter().zip(&expected) {
        match prepared.observe_prepared(event) {
            Ok(seen) => assert!(seen.is_replay(), "{first}"),
            Err(error) => assert_eq!(format!("error: {error}"), *first),
        }
    }
    assert_same_memory(&prepared, &plain);
}

#[test]
fn a_sealing_memory_fingerprints_what_another_memory_prepared_as_it_would_itself() {
    let mut sealing = Memory::builder()
        .identifier_key([7; 32])
        .build()
        .expect("valid configuration");
    // Prepared for a memory that keeps identifiers as given: its fingerprint is of the
    // event as given, not of the sealed event the sealing memory files.
    let preparer = memory().preparer();
    let order = timed_order("e-1", Signals::new().email("ana@example.org"));
    let first = sealing
        .observe_prepared(preparer.prepare(order.clone()))
        .expect("observed");
    let again = sealing.observe(order).expect("the same event again");
    assert!(again.is_replay(), "{again:?}");
    assert_eq!(again.patron(), first.patron());
}
