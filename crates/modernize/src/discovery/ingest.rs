//! Reading an inventory file (CSV or XLSX) as a header and a stream of numbered records, with
//! everything wrong said precisely: structural problems stop the import before anything is
//! written; problems of one row make that row invalid, with its reason, and the import goes on.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{Data, Reader, open_workbook_auto};
use encoding_rs::WINDOWS_1252;
use encoding_rs_io::DecodeReaderBytesBuilder;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Cells longer than this are truncated and make their row invalid.
pub const MAX_CELL_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is empty: there is no header row")]
    Empty { path: PathBuf },
    #[error("{path}: duplicate column headers: {0}", .duplicates.join("; "))]
    DuplicateHeaders { path: PathBuf, duplicates: Vec<String> },
    #[error("{path}: header {column} is empty")]
    EmptyHeader { path: PathBuf, column: usize },
    #[error("{path} is not valid UTF-8 (first bad byte at offset {offset}); import it with --encoding latin1")]
    InvalidUtf8 { path: PathBuf, offset: usize },
    #[error("{path}: no sheet named {sheet:?}; the workbook has: {}", .available.join(", "))]
    UnknownSheet { path: PathBuf, sheet: String, available: Vec<String> },
    #[error("{path}: cannot read the workbook: {message}")]
    Workbook { path: PathBuf, message: String },
    #[error("{path}: CSV error at line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{path}: unsupported file type (expected .csv, .txt, .tsv, .xlsx, .xlsm or .xls)")]
    UnsupportedType { path: PathBuf },
}

/// How the bytes of a CSV file are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 when the file is valid UTF-8, else Latin-1 (Windows-1252).
    #[default]
    Auto,
    Utf8,
    Latin1,
}

/// One record of the file, ready for `raw_import_records`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1 for the first record after the header.
    pub row_number: i64,
    /// Header → value (null for an empty cell).
    pub data: Map<String, Value>,
    pub is_valid: bool,
    /// Problems of this row: `{"kind", "column"?, "message", "severity"}`.
    pub issues: Vec<Value>,
}

/// What was found about the file before its records are read.
#[derive(Debug, Clone, Serialize)]
pub struct FileShape {
    pub headers: Vec<String>,
    pub format: &'static str,
    pub encoding: &'static str,
    pub delimiter: Option<char>,
    pub sheet: Option<String>,
}

pub struct InventoryFile {
    pub shape: FileShape,
    rows: Box<dyn Iterator<Item = Result<Vec<String>, IngestError>> + Send>,
    next_row: i64,
    extent: Extent,
}

/// How far into the file reading is: bytes for a CSV (rows are not known before the end), rows
/// for a sheet (loaded whole).
enum Extent {
    Bytes { read: Arc<AtomicU64>, total: u64 },
    Rows { total: usize },
}

/// Counts the bytes read from the file, for progress.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl InventoryFile {
    /// Opens `path`, reads its header and checks the file's structure.
    pub fn open(path: &Path, sheet: Option<&str>, encoding: Encoding) -> Result<Self, IngestError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        match extension.as_str() {
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => open_workbook(path, sheet),
            "csv" | "txt" | "tsv" | "" => open_csv(path, encoding),
            _ => Err(IngestError::UnsupportedType { path: path.to_owned() }),
        }
    }

    /// The share of the file read so far, in 0..=1 (read-ahead buffers make it run a little ahead).
    pub fn fraction_read(&self) -> f64 {
        let fraction = match &self.extent {
            Extent::Bytes { read, total } => read.load(Ordering::Relaxed) as f64 / (*total).max(1) as f64,
            Extent::Rows { total } => self.next_row as f64 / (*total).max(1) as f64,
        };
        fraction.clamp(0.0, 1.0)
    }

    /// The next record, or None at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<Record, IngestError>> {
        let fields = match self.rows.next()? {
            Ok(fields) => fields,
            Err(e) => return Some(Err(e)),
        };
        self.next_row += 1;
        Some(Ok(to_record(&self.shape.headers, self.next_row, fields)))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError {
    let path = path.to_owned();
    move |source| IngestError::Io { path, source }
}

fn check_headers(path: &Path, raw: Vec<String>) -> Result<Vec<String>, IngestError> {
    if raw.is_empty() || raw.iter().all(|h| h.trim().is_empty()) {
        return Err(IngestError::Empty { path: path.to_owned() });
    }
    let headers: Vec<String> = raw.iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect();
    if let Some(column) = headers.iter().position(String::is_empty) {
        return Err(IngestError::EmptyHeader { path: path.to_owned(), column: column + 1 });
    }
    let mut duplicates = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let first = headers.iter().position(|h| h.eq_ignore_ascii_case(header)).unwrap_or(i);
        if first != i {
            duplicates.push(format!("{header:?} at columns {} and {}", first + 1, i + 1));
        }
    }
    if !duplicates.is_empty() {
        return Err(IngestError::DuplicateHeaders { path: path.to_owned(), duplicates });
    }
    Ok(headers)
}

/// Whether every byte of the file is UTF-8; the offset of the first bad byte otherwise.
fn first_invalid_utf8(path: &Path) -> Result<Option<usize>, IngestError> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(io(path))?);
    let mut buffer = vec![0u8; 1 << 20];
    let (mut carry, mut offset) = (Vec::new(), 0usize);
    loop {
        let read = reader.read(&mut buffer).map_err(io(path))?;
        if read == 0 {
            return Ok((!carry.is_empty()).then_some(offset));
        }
        carry.extend_from_slice(&buffer[..read]);
        match std::str::from_utf8(&carry) {
            Ok(_) => {
                offset += carry.len();
                carry.clear();
            }
            // An incomplete sequence at the end of the chunk: keep it for the next one.
            Err(e) if e.error_len().is_none() => {
                let valid = e.valid_up_to();
                offset += valid;
                carry.drain(..valid);
            }
            Err(e) => return Ok(Some(offset + e.valid_up_to())),
        }
    }
}

/// The most frequent of `,` `;` tab `|` in the header line.
fn sniff_delimiter(path: &Path, decode_latin1: bool) -> Result<u8, IngestError> {
    let mut head = Vec::new();
    File::open(path).map_err(io(path))?.take(64 * 1024).read_to_end(&mut head).map_err(io(path))?;
    let text = if decode_latin1 {
        WINDOWS_1252.decode(&head).0.into_owned()
    } else {
        String::from_utf8_lossy(&head).into_owned()
    };
    let first_line = text.lines().next().unwrap_or_default();
    let mut best = (b',', 0);
    for candidate in [b',', b';', b'\t', b'|'] {
        let count = first_line.bytes().filter(|b| *b == candidate).count();
        if count > best.1 {
            best = (candidate, count);
        }
    }
    Ok(best.0)
}

fn open_csv(path: &Path, encoding: Encoding) -> Result<InventoryFile, IngestError> {
    let latin1 = match encoding {
        Encoding::Latin1 => true,
        Encoding::Utf8 => match first_invalid_utf8(path)? {
            Some(offset) => return Err(IngestError::InvalidUtf8 { path: path.to_owned(), offset }),
            None => false,
        },
        Encoding::Auto => first_invalid_utf8(path)?.is_some(),
    };
    let delimiter = sniff_delimiter(path, latin1)?;
    let file = File::open(path).map_err(io(path))?;
    let total = file.metadata().map_err(io(path))?.len();
    let read = Arc::new(AtomicU64::new(0));
    let file = Counting { inner: file, read: Arc::clone(&read) };
    let mut builder = DecodeReaderBytesBuilder::new();
    builder.bom_override(true).strip_bom(true);
    if latin1 {
        builder.encoding(Some(WINDOWS_1252));
    }
    let decoded = builder.build(BufReader::with_capacity(1 << 20, file));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(decoded);
    let csv_error = |path: &Path, e: csv::Error| IngestError::Csv {
        path: path.to_owned(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    };
    let mut header = csv::StringRecord::new();
    let has_header = reader.read_record(&mut header).map_err(|e| csv_error(path, e))?;
    if !has_header {
        return Err(IngestError::Empty { path: path.to_owned() });
    }
    let headers = check_headers(path, header.iter().map(str::to_owned).collect())?;
    let owned_path = path.to_owned();
    let rows = reader
        .into_records()
        .filter(|r| r.as_ref().map_or(true, |r| !(r.len() == 1 && r[0].is_empty())))
        .map(move |r| r.map(|r| r.iter().map(str::to_owned).collect()).map_err(|e| csv_error(&owned_path, e)));
    Ok(InventoryFile {
        shape: FileShape {
            headers,
            format: "csv",
            encoding: if latin1 { "windows-1252" } else { "utf-8" },
            delimiter: Some(char::from(delimiter)),
            sheet: None,
        },
        rows: Box::new(rows),
        next_row: 0,
        extent: Extent::Bytes { read, total },
    })
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string(),
    }
}

fn open_workbook(path: &Path, sheet: Option<&str>) -> Result<InventoryFile, IngestError> {
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let mut workbook = open_workbook_auto(path).map_err(|e| workbook_error(e.to_string()))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names.iter().find(|n| n.eq_ignore_ascii_case(wanted)).cloned().ok_or_else(|| {
            IngestError::UnknownSheet { path: path.to_owned(), sheet: wanted.to_owned(), available: names.clone() }
        })?,
        None => names.first().cloned().ok_or_else(|| IngestError::Empty { path: path.to_owned() })?,
    };
    let range = workbook.worksheet_range(&name).map_err(|e| workbook_error(e.to_string()))?;
    let mut rows = range.rows().map(|row| row.iter().map(cell_text).collect::<Vec<_>>());
    let header = rows.next().ok_or_else(|| IngestError::Empty { path: path.to_owned() })?;
    // Trailing empty header cells are the sheet's used range, not columns.
    let width = header.iter().rposition(|h| !h.trim().is_empty()).map_or(0, |i| i + 1);
    let headers = check_headers(path, header[..width].to_vec())?;
    let rows: Vec<Vec<String>> = rows
        .filter(|r| r.iter().any(|c| !c.is_empty()))
        .map(|mut r| {
            // Cells beyond the header that are empty are not extra fields.
            while r.len() > width && r.last().is_some_and(String::is_empty) {
                r.pop();
            }
            r
        })
        .collect();
    Ok(InventoryFile {
        shape: FileShape { headers, format: "xlsx", encoding: "utf-8", delimiter: None, sheet: Some(name) },
        extent: Extent::Rows { total: rows.len() },
        rows: Box::new(rows.into_iter().map(Ok)),
        next_row: 0,
    })
}

/// A cell a spreadsheet would run as a formula: kept as text, flagged.
fn looks_like_formula(value: &str) -> bool {
    let Some(first) = value.chars().next() else { return false };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => value.len() > 1 && value[1..].trim().parse::<f64>().is_err(),
        _ => false,
    }
}

fn to_record(headers: &[String], row_number: i64, mut fields: Vec<String>) -> Record {
    let mut issues = Vec::new();
    if fields.len() != headers.len() {
        issues.push(json!({
            "kind": "ragged_row", "severity": "error",
            "message": format!("row has {} fields, the header has {}", fields.len(), headers.len())
        }));
    }
    let mut data = Map::new();
    for (index, value) in fields.iter_mut().enumerate() {
        let column = headers.get(index).cloned().unwrap_or_else(|| format!("_extra_{}", index + 1 - headers.len()));
        if value.len() > MAX_CELL_BYTES {
            issues.push(json!({
                "kind": "cell_too_large", "severity": "error", "column": column,
                "message": format!("{} bytes; the limit is {MAX_CELL_BYTES} (kept truncated)", value.len())
            }));
            let mut cut = MAX_CELL_BYTES;
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            value.truncate(cut);
        }
        if looks_like_formula(value) {
            issues.push(json!({
                "kind": "formula_injection", "severity": "warning", "column": column,
                "message": "starts like a spreadsheet formula; kept as text"
            }));
        }
        let cell = if value.trim().is_empty() { Value::Null } else { Value::String(std::mem::take(value)) };
        data.insert(column, cell);
    }
    for missing in headers.iter().skip(fields.len()) {
        data.insert(missing.clone(), Value::Null);
    }
    let is_valid = !issues.iter().any(|i| i["severity"] == "error");
    Record { row_number, data, is_valid, issues }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn file(bytes: &[u8], extension: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(extension).tempfile().expect("temp file");
        f.write_all(bytes).expect("write");
        f
    }

    fn records(f: &tempfile::NamedTempFile) -> (FileShape, Vec<Record>) {
        let mut inventory = InventoryFile::open(f.path(), None, Encoding::Auto).expect("opens");
        let mut out = Vec::new();
        while let Some(r) = inventory.next_record() {
            out.push(r.expect("record"));
        }
        (inventory.shape, out)
    }

    #[test]
    fn semicolons_bom_and_quotes() {
        let f = file("\u{feff}Name;OS;Notes\nweb-01;Ubuntu;\"a; b\nc\"\n".as_bytes(), ".csv");
        let (shape, rows) = records(&f);
        assert_eq!(shape.headers, ["Name", "OS", "Notes"]);
        assert_eq!(shape.delimiter, Some(';'));
        assert_eq!(rows[0].data["Notes"], "a; b\nc");
        assert!(rows[0].is_valid);
    }

    #[test]
    fn latin1_is_detected_and_decoded() {
        let f = file(b"Name,Owner\nsrv-01,M\xfcller\n", ".csv");
        let (shape, rows) = records(&f);
        assert_eq!(shape.encoding, "windows-1252");
        assert_eq!(rows[0].data["Owner"], "Müller");
        let error = InventoryFile::open(f.path(), None, Encoding::Utf8).err().expect("strict UTF-8 refuses it");
        assert!(error.to_string().contains("offset 19"), "{error}");
    }

    #[test]
    fn ragged_rows_and_formulas_are_row_level_issues() {
        let f = file(b"Name,OS\nweb-01\ndb-01,Linux,extra\n=cmd|' /C calc'!A0,-5\n", ".csv");
        let (_, rows) = records(&f);
        assert!(!rows[0].is_valid && rows[0].data["OS"].is_null());
        assert!(!rows[1].is_valid && rows[1].data["_extra_1"] == "extra");
        assert!(rows[2].is_valid, "a formula is a warning, not an error");
        assert_eq!(rows[2].issues.len(), 1, "-5 is a number, not a formula");
        assert_eq!(rows[2].data["Name"], "=cmd|' /C calc'!A0", "kept as text");
    }

    #[test]
    fn progress_reaches_the_whole_file() {
        let f = file(b"Name,OS\nweb-01,Linux\nweb-02,Linux\n", ".csv");
        let mut inventory = InventoryFile::open(f.path(), None, Encoding::Auto).expect("open");
        while inventory.next_record().is_some() {}
        assert_eq!(inventory.fraction_read(), 1.0);
    }

    #[test]
    fn a_huge_cell_is_truncated_and_invalid() {
        let mut bytes = b"Name,Notes\nweb-01,".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
        bytes.push(b'\n');
        let (_, rows) = records(&file(&bytes, ".csv"));
        assert!(!rows[0].is_valid);
        assert_eq!(rows[0].data["Notes"].as_str().map(str::len), Some(MAX_CELL_BYTES));
    }

    #[test]
    fn structural_problems_are_errors() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "is empty"),
            (b"Name,OS,name\n", "duplicate column headers: \"name\" at columns 1 and 3"),
            (b"Name,,OS\n", "header 2 is empty"),
            (b"\n\n", "is empty"),
        ];
        for (bytes, expected) in cases {
            let f = file(bytes, ".csv");
            let error = InventoryFile::open(f.path(), None, Encoding::Auto).err().expect("error");
            assert!(error.to_string().contains(expected), "{error}");
        }
        let f = file(b"x", ".pdf");
        assert!(matches!(
            InventoryFile::open(f.path(), None, Encoding::Auto),
            Err(IngestError::UnsupportedType { .. })
        ));
    }
}
