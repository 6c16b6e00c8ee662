//! Hostile workbooks are refused within a measured memory bound (issue 11, item 5): the sparse
//! sheet whose two cells span all of Excel's grid (A1 and XFD1048576), a zip bomb (a sheet of
//! tens of MB compressed a thousandfold), and a sheet without `<dimension>` whose far cell comes
//! after 50,000 rows (refused although the rows sampled are fine). Each is read by `modernize map suggest` (the same file
//! reader as `import`, offline); the peak resident memory of the child processes is measured
//! with getrusage. This file holds one test so that the children measured are its own.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::resource::{UsageWho, getrusage};

mod workbooks;

/// Peak memory allowed to the process reading a hostile workbook.
const BOUND_KIB: i64 = 64 * 1024;

fn case(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases").join(path)
}

/// The sparse case with its sheet replaced by `rows` empty rows after a header: a zip bomb.
fn zip_bomb(dir: &Path, rows: usize) -> PathBuf {
    let source = std::fs::File::open(case("robustness/sparse-corner-cells.xlsx")).expect("case");
    let mut source = zip::ZipArchive::new(source).expect("zip");
    let path = dir.join("bomb.xlsx");
    let mut bomb = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    for i in 0..source.len() {
        let mut entry = source.by_index(i).expect("entry");
        let name = entry.name().expect("entry name").into_owned();
        bomb.start_file(name.as_str(), options).expect("start");
        if name.ends_with("sheet1.xml") {
            bomb.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>"#).expect("write");
            let chunk = "<row/>".repeat(100_000);
            for _ in 0..rows / 100_000 {
                bomb.write_all(chunk.as_bytes()).expect("write");
            }
            bomb.write_all(b"</sheetData></worksheet>").expect("write");
        } else {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read");
            bomb.write_all(&bytes).expect("write");
        }
    }
    bomb.finish().expect("finish");
    path
}

fn peak_children_kib() -> i64 {
    getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage").max_rss()
}

#[test]
fn hostile_workbooks_are_refused_within_a_memory_bound() {
    let dir = tempfile::tempdir().expect("dir");
    let bomb = zip_bomb(dir.path(), 5_000_000);
    let bomb_size = std::fs::metadata(&bomb).expect("size").len();
    let far = workbooks::far_cell_after_rows(dir.path(), 50_000);
    let cases = [
        (case("robustness/sparse-corner-cells.xlsx"), "row 1048576 column 16384"),
        (bomb, "a zip bomb"),
        (far, "cell XFD1048576 at row 1048576 column 16384 passes the limit of 4096 columns"),
    ];
    for (file, expected) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_modernize"))
            .args(["map", "suggest"])
            .arg(&file)
            .output()
            .expect("run modernize");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{}: refused", file.display());
        assert!(stderr.contains("refused") && stderr.contains(expected), "{}: {stderr}", file.display());
    }
    let peak = peak_children_kib();
    eprintln!("peak resident memory of the readers: {peak} KiB (zip bomb: {bomb_size} bytes, 30 MB of sheet XML)");
    assert!(peak < BOUND_KIB, "{peak} KiB");
}
