//! Hostile workbooks built by the tests that need them (shared by bounded_input.rs and cases.rs).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

fn case(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/cases").join(path)
}

/// The sparse case with its sheet replaced by `rows` rows of data after a header and then, with
/// no `<dimension>` to announce it, one cell in Excel's far corner: a reader that looks at the
/// first rows only (a sample, an import's first chunks) sees nothing wrong.
pub fn far_cell_after_rows(dir: &Path, rows: usize) -> PathBuf {
    let source = std::fs::File::open(case("robustness/sparse-corner-cells.xlsx")).expect("case");
    let mut source = zip::ZipArchive::new(source).expect("zip");
    let path = dir.join("far-cell.xlsx");
    let mut workbook = zip::ZipWriter::new(std::fs::File::create(&path).expect("create"));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut entry = source.by_index(i).expect("entry");
        let name = entry.name().expect("entry name").into_owned();
        workbook.start_file(name.as_str(), options).expect("start");
        if name.ends_with("sheet1.xml") {
            let cell = |r: usize, column: &str, text: &str| {
                format!(r#"<c r="{column}{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
            };
            let mut sheet = String::from(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#,
            );
            sheet.push_str(&format!(r#"<row r="1">{}{}</row>"#, cell(1, "A", "hostname"), cell(1, "B", "environment")));
            for r in 2..rows + 2 {
                sheet.push_str(&format!(
                    r#"<row r="{r}">{}{}</row>"#,
                    cell(r, "A", &format!("srv-{r:06}")),
                    cell(r, "B", "prod")
                ));
            }
            sheet.push_str(&format!(
                r#"<row r="1048576">{}</row></sheetData></worksheet>"#,
                cell(1_048_576, "XFD", "x")
            ));
            workbook.write_all(sheet.as_bytes()).expect("write");
        } else {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read");
            workbook.write_all(&bytes).expect("write");
        }
    }
    workbook.finish().expect("finish");
    path
}
