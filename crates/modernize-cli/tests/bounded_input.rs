//! Hostile workbooks are refused within a measured memory bound (issue 11, item 5): the sparse
//! sheet whose two cells span all of Excel's grid (A1 and XFD1048576), a zip bomb (a sheet of
//! tens of MB compressed a thousandfold), and a sheet without `<dimension>` whose far cell comes
//! after 50,000 rows (refused although the rows sampled are fine); and the formats calamine
//! reads whole: an OpenDocument sheet of one value repeated over a million rows (16 million
//! cells once expanded, in 2 KB), an Excel 97-2003 sheet with a value in its far corner and one
//! whose DIMENSIONS record declares 4 billion rows. Each is read by `modernize map suggest` (the same file
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

/// An OpenDocument spreadsheet whose one row of 16 values is repeated a million times.
fn repeated_ods(dir: &Path) -> PathBuf {
    let path = dir.join("repeated.ods");
    let mut ods = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let entries: [(&str, &str); 3] = [
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#,
        ),
        (
            "content.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="vInfo"><table:table-row><table:table-cell office:value-type="string"><text:p>VM</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="16" office:value-type="float" office:value="1"/></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#,
        ),
    ];
    for (name, text) in entries {
        ods.start_file(name, options).expect("start");
        ods.write_all(text.as_bytes()).expect("write");
    }
    ods.finish().expect("finish");
    path
}

/// An Excel 97-2003 workbook (a compound file) whose one sheet holds `records` (type, body).
fn xls(dir: &Path, name: &str, records: &[(u16, Vec<u8>)]) -> PathBuf {
    let path = dir.join(name);
    let mut compound = cfb::create(&path).expect("compound file");
    let mut stream = compound.create_stream("/Workbook").expect("stream");
    let (bof, eof) = ((0x0809u16, vec![0u8; 16]), (0x000Au16, Vec::new()));
    let all = [bof.clone(), eof.clone(), bof].into_iter().chain(records.iter().cloned()).chain([eof]);
    for (kind, body) in all {
        stream.write_all(&kind.to_le_bytes()).expect("type");
        stream.write_all(&u16::try_from(body.len()).expect("short record").to_le_bytes()).expect("length");
        stream.write_all(&body).expect("body");
    }
    stream.flush().expect("flush");
    path
}

fn xls_number(row: u16, column: u16) -> (u16, Vec<u8>) {
    (0x0203, [&row.to_le_bytes()[..], &column.to_le_bytes(), &[0, 0], &1.0f64.to_le_bytes()].concat())
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
        (repeated_ods(dir.path()), "sheet \"vInfo\" spans 1000001 rows × 16 columns"),
        (
            xls(dir.path(), "corner.xls", &[xls_number(0, 0), xls_number(65_535, 255)]),
            "sheet 1 spans 65536 rows × 256 columns",
        ),
        (
            xls(
                dir.path(),
                "dimensions.xls",
                &[(
                    0x0200,
                    [
                        &0u32.to_le_bytes()[..],
                        &u32::MAX.to_le_bytes(),
                        &0u16.to_le_bytes(),
                        &256u16.to_le_bytes(),
                        &[0, 0],
                    ]
                    .concat(),
                )],
            ),
            "sheet 1 declares 4294967295 rows × 256 columns",
        ),
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
