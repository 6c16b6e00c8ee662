//! Accuracy on real headers from the public documentation of each format
//! (`tests/data/labelled_headers.csv`, one source URL per row). Each format's headers are mapped
//! together, as one file, from the headers alone (no sample values).
//!
//! A format's name says which set it is in: no prefix, one of the 12 formats the profiles were
//! written from; `tuning_`, a format without a profile whose misses the vocabulary was tuned on;
//! `heldoutN_`, a format kept out of tuning, measured before and after round N of tuning (round 1:
//! `heldout_`). The floors below are the figures measured after the last round.
//!
//! `cargo test -p modernize-mapping --test accuracy -- --nocapture` prints the figures and misses.

use std::collections::BTreeMap;

use modernize_mapping::{Engine, SourceProfile};

struct Row {
    format: String,
    header: String,
    expected: Option<String>,
}

fn labelled() -> Vec<Row> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/labelled_headers.csv");
    let mut reader = csv::Reader::from_path(path).expect("labelled set");
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            assert!(r[3].starts_with("https://"), "row {:?} cites no source", &r[1]);
            Row {
                format: r[0].to_owned(),
                header: r[1].to_owned(),
                expected: Some(r[2].to_owned()).filter(|t| !t.is_empty()),
            }
        })
        .collect()
}

#[derive(Debug, Default)]
struct Figures {
    rows: usize,
    correct: usize,
    mappable: usize,
    mappable_correct: usize,
    suggested: usize,
    suggested_correct: usize,
    /// A mappable column left unmapped.
    abstained: usize,
    /// A field suggested that is not the labelled one (an unmappable column mapped included).
    wrong: usize,
    wrong_at_90: usize,
    misses: Vec<String>,
}

impl Figures {
    fn top1(&self) -> f64 {
        self.correct as f64 / self.rows as f64
    }
}

/// The labelled set of a format name's prefix: "" for the profiled formats, "tuning", or
/// "heldout" (round 1), "heldout2", … for the formats kept out of tuning.
fn set_of(format: &str) -> &str {
    match format.split_once('_') {
        Some((prefix, _)) if prefix == "tuning" || prefix.starts_with("heldout") => prefix,
        _ => "",
    }
}

/// Maps every format of the sets `sets` names and scores it against its labels.
fn evaluate(engine: &Engine, sets: &[&str]) -> (Figures, BTreeMap<String, SourceProfile>) {
    let rows: Vec<Row> = labelled().into_iter().filter(|r| sets.contains(&set_of(&r.format))).collect();
    let mut formats: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        formats.entry(row.format.clone()).or_default().push(row);
    }
    let mut figures = Figures::default();
    let mut detected = BTreeMap::new();
    for (format, rows) in formats {
        let headers: Vec<String> = rows.iter().map(|r| r.header.clone()).collect();
        let mapping = engine.map(&headers, &[], &[]);
        detected.insert(format.clone(), mapping.profile.profile);
        for (row, s) in rows.iter().zip(&mapping.suggestions) {
            let ok = s.target_field == row.expected;
            figures.rows += 1;
            figures.correct += usize::from(ok);
            if row.expected.is_some() {
                figures.mappable += 1;
                figures.mappable_correct += usize::from(ok);
            }
            if s.target_field.is_some() {
                figures.suggested += 1;
                figures.suggested_correct += usize::from(ok);
            }
            if !ok {
                if s.target_field.is_some() {
                    figures.wrong += 1;
                } else {
                    figures.abstained += 1;
                }
                if s.confidence >= 0.9 {
                    figures.wrong_at_90 += 1;
                }
                figures.misses.push(format!(
                    "{format}: {:?} → {:?} ({:.2}, {}) expected {:?} — {}",
                    row.header, s.target_field, s.confidence, s.match_type, row.expected, s.explanation
                ));
            }
        }
    }
    (figures, detected)
}

fn report(name: &str, f: &Figures) {
    println!(
        "{name}: top-1 {}/{} = {:.1}%; mappable columns {}/{} = {:.1}%; suggested targets correct {}/{} = {:.1}%; misses: {} abstentions, {} wrong fields; misses at confidence ≥ 0.9: {}",
        f.correct,
        f.rows,
        100.0 * f.top1(),
        f.mappable_correct,
        f.mappable,
        100.0 * f.mappable_correct as f64 / f.mappable as f64,
        f.suggested_correct,
        f.suggested,
        100.0 * f.suggested_correct as f64 / f.suggested as f64,
        f.abstained,
        f.wrong,
        f.wrong_at_90
    );
    for miss in &f.misses {
        println!("  {miss}");
    }
}

#[test]
fn real_headers_are_mapped() {
    let (figures, detected) = evaluate(&Engine::new(), &[""]);
    report("engine", &figures);
    let expected_profiles = [
        ("aws_migration_hub", SourceProfile::AwsMigrationHub),
        ("azure_migrate", SourceProfile::AzureMigrate),
        ("device42", SourceProfile::Device42),
        ("google_mc_vminfo", SourceProfile::GoogleMigrationCenter),
        ("lansweeper", SourceProfile::Lansweeper),
        ("netbox_device", SourceProfile::Netbox),
        ("netbox_vm", SourceProfile::Netbox),
        ("rvtools_vdisk", SourceProfile::RvtoolsVdisk),
        ("rvtools_vhost", SourceProfile::RvtoolsVhost),
        ("rvtools_vinfo", SourceProfile::RvtoolsVinfo),
        ("servicenow_fields", SourceProfile::ServicenowCmdb),
        ("servicenow_labels", SourceProfile::ServicenowCmdb),
    ];
    for (format, profile) in expected_profiles {
        assert_eq!(detected.get(format), Some(&profile), "{format}");
    }
    assert!(figures.top1() >= 0.95, "top-1 {:.3}", figures.top1());
    assert_eq!(figures.wrong_at_90, 0);
}

/// The generic part alone (names, fuzzy matching): the profiles were written from these very
/// documents, so this is the fairer estimate for formats the engine has no profile for.
#[test]
fn generic_engine_without_profiles() {
    let (figures, _) = evaluate(&Engine::new().without_profiles(), &[""]);
    report("without profiles", &figures);
    assert!(figures.top1() >= 0.98, "top-1 {:.3}", figures.top1());
    assert!(figures.wrong_at_90 <= 1);
}

/// Formats without a profile whose misses the vocabulary and tokenisation were tuned on (round 2:
/// 203 headers, 187 right before, 198 after; round 3: 200). The 3 misses left need the
/// documentation to be understood (osquery's `hostname` holds the FQDN, BMC's `NetworkName` the
/// DNS name).
#[test]
fn tuning_formats() {
    let (figures, detected) = evaluate(&Engine::new(), &["tuning"]);
    report("tuning", &figures);
    assert!(detected.values().all(|p| *p == SourceProfile::Generic), "{detected:?}");
    assert!(figures.correct >= 200, "top-1 {}/{}", figures.correct, figures.rows);
    assert!(figures.wrong_at_90 <= 1);
}

/// Formats kept out of a round's tuning: measured before and after it, the honest figure for an
/// unknown export. Floors: (set, right, misses at ≥ 0.9) as measured after the last round.
/// Round N's held-out formats are tuned on in round N + 1, so only the last round's set is
/// unseen: round 2's set was measured at 178/198 before and after round 2, then tuned on in
/// round 3 (187); round 3's set was measured at 80/92 before and after round 3. Azure Migrate's
/// list of discovered metadata is recognised as the Azure Migrate import format, a profile written
/// from another document.
#[test]
fn held_out_formats() {
    for (set, floor, confident_misses) in [("heldout", 28, 0), ("heldout2", 187, 0), ("heldout3", 80, 2)] {
        let (figures, detected) = evaluate(&Engine::new(), &[set]);
        report(set, &figures);
        let profiled: Vec<&String> =
            detected.iter().filter(|(_, p)| **p != SourceProfile::Generic).map(|(f, _)| f).collect();
        assert!(profiled.iter().all(|f| f.as_str() == "heldout2_azure_migrate_discovered_metadata"), "{profiled:?}");
        assert!(figures.correct >= floor, "{set}: top-1 {}/{}", figures.correct, figures.rows);
        assert!(figures.wrong_at_90 <= confident_misses, "{set}: {} misses at ≥ 0.9", figures.wrong_at_90);
    }
}
