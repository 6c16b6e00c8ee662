//! Reading an inventory file (CSV or XLSX) as a header and a stream of numbered records, with
//! everything wrong said precisely: structural problems stop the import before anything is
//! written; problems of one row make that row invalid, with its reason, and the import goes on.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{Data, DataRef, ExcelDateTime, Reader, Xlsb, Xlsx, open_workbook, open_workbook_auto};
use encoding_rs::WINDOWS_1252;
use encoding_rs_io::DecodeReaderBytesBuilder;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::values::{DecimalMark, detect_decimal_mark, parse_number};

/// Cells longer than this are truncated and make their row invalid.
pub const MAX_CELL_BYTES: usize = 1024 * 1024;
/// The rows above the header a file may have (titles, notes, blank rows, Excel's `sep=` line).
pub const HEADER_SEARCH_ROWS: usize = 20;
/// A header row (and each row above it) longer than this is refused: no inventory has one.
pub const MAX_HEADER_BYTES: usize = 1024 * 1024;
/// Columns of a header or a sheet: far beyond any inventory export (RVTools' vInfo has about
/// 90), far below Excel's 16,384, so that a sparse sheet's far corner is refused.
pub const MAX_COLUMNS: usize = 4096;
/// Limits of a workbook, checked before its cells are read: the uncompressed size its zip
/// directory declares, and the cells (rows × columns) its sheet declares or holds.
pub const MAX_WORKBOOK_UNCOMPRESSED_BYTES: u64 = 1024 * 1024 * 1024;
pub const MAX_SHEET_ROWS: u64 = 1_048_576;
pub const MAX_SHEET_CELLS: u64 = 50_000_000;
/// A zip entry expanding more than this many times its compressed size is a zip bomb.
pub const MAX_COMPRESSION_RATIO: u64 = 200;
/// Limits of the formats calamine reads whole, every sheet at once, into dense grids (.xls,
/// .ods): the cells of all sheets' extents together (about 70 bytes each in memory, so some
/// 350 MB at the limit; an RVTools vInfo of 20,000 VMs has 1.8 million), and the bytes of the
/// file (.xls) or of its sheets' XML (.ods). A larger inventory goes as .xlsx, .xlsb or CSV,
/// which are streamed.
pub const MAX_WHOLE_WORKBOOK_CELLS: u64 = 5_000_000;
pub const MAX_WHOLE_WORKBOOK_BYTES: u64 = 256 * 1024 * 1024;
/// Records after the header whose cells show the file's decimal mark.
const DECIMAL_SAMPLE_ROWS: usize = 200;

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
    #[error("{path}: no header row in its first {searched} non-blank rows (row {first_row} looks like data: {reason})")]
    NoHeader { path: PathBuf, searched: usize, first_row: u64, reason: String },
    #[error("{path}: row {row}: duplicate column headers: {}", .duplicates.join("; "))]
    DuplicateHeaders { path: PathBuf, row: u64, duplicates: Vec<String> },
    #[error("{path}: row {row}: header of column {column} is empty")]
    EmptyHeader { path: PathBuf, row: u64, column: usize },
    #[error("{path}: row {row} is longer than {limit} bytes before a header row was found")]
    HeaderTooLong { path: PathBuf, row: u64, limit: usize },
    #[error("{path}: row {row}: the header has {columns} columns; the limit is {limit}")]
    TooManyColumns { path: PathBuf, row: u64, columns: usize, limit: usize },
    #[error("{path} is not valid UTF-8 (first bad byte at offset {offset}); import it with --encoding latin1")]
    InvalidUtf8 { path: PathBuf, offset: usize },
    #[error("{path}: no sheet named {sheet:?}; the workbook has: {}", .available.join(", "))]
    UnknownSheet { path: PathBuf, sheet: String, available: Vec<String> },
    #[error("{path}: cannot read the workbook: {message}")]
    Workbook { path: PathBuf, message: String },
    #[error("{path}: refused: {message}")]
    WorkbookTooLarge { path: PathBuf, message: String },
    #[error("{path}: CSV error at line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{path}: unsupported file type (expected .csv, .txt, .tsv, .xlsx, .xlsm, .xlsb, .xls or .ods)")]
    UnsupportedType { path: PathBuf },
}

/// How the bytes of a CSV file are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    /// UTF-8 when the file is valid UTF-8; Windows-1252 when no line of it is UTF-8 beyond
    /// ASCII; line by line when it mixes both (each Windows-1252 line flagged).
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
    /// The record's row in the file as a person sees it (CSV line, sheet row).
    pub file_row: u64,
    /// Header → value (null for an empty cell).
    pub data: Map<String, Value>,
    pub is_valid: bool,
    /// Problems of this row: `{"kind", "row", "column"?, "message", "severity"}`.
    pub issues: Vec<Value>,
}

/// What was found about the file before its records are read.
#[derive(Debug, Clone, Serialize)]
pub struct FileShape {
    pub headers: Vec<String>,
    pub format: &'static str,
    /// `utf-8`, `utf-16`, `windows-1252`, or `utf-8 with windows-1252 lines`.
    pub encoding: &'static str,
    pub delimiter: Option<char>,
    pub sheet: Option<String>,
    /// The header's row in the file (1-based; rows above it were titles, notes or blank).
    pub header_row: u64,
    /// The decimal mark the cells show; None when they show none.
    pub decimal_mark: Option<DecimalMark>,
}

type Rows = Box<dyn Iterator<Item = Result<RawRow, IngestError>> + Send>;

/// The cells of one row and where it is in the file.
struct RawRow {
    file_row: u64,
    cells: Vec<String>,
    /// Row-level findings of the reader (a line decoded as Windows-1252).
    issues: Vec<Value>,
}

pub struct InventoryFile {
    pub shape: FileShape,
    rows: Rows,
    next_row: i64,
    extent: Extent,
}

/// How far into the file reading is: bytes for a CSV, rows for a sheet (as declared).
enum Extent {
    Bytes { read: Arc<AtomicU64>, total: u64 },
    Rows { read: Arc<AtomicU64>, total: u64 },
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
    /// Opens `path`, finds its header row and checks the file's structure.
    pub fn open(path: &Path, sheet: Option<&str>, encoding: Encoding) -> Result<Self, IngestError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        match extension.as_str() {
            "xlsx" | "xlsm" => open_xlsx(path, sheet),
            "xlsb" => open_xlsb(path, sheet),
            "xls" => {
                scan_xls(path)?;
                open_whole_workbook(path, "xls", sheet)
            }
            "ods" => {
                scan_ods(path)?;
                open_whole_workbook(path, "ods", sheet)
            }
            "csv" | "txt" | "tsv" | "" => open_csv(path, encoding),
            _ => Err(IngestError::UnsupportedType { path: path.to_owned() }),
        }
    }

    /// Refuses, before anything of the file is used, a file past the limits anywhere in it, not
    /// only in the rows [`InventoryFile::open`] reads ahead: an XLSX or XLSB sheet's cell
    /// references are all read (their values never kept, memory that of one cell), so that a
    /// far cell refuses the file whatever its declared dimension says or lacks. A CSV is checked
    /// as it is read. The formats read whole (.xls, .ods) are measured without loading them
    /// (BIFF records, XML events), here and again by `open`, which must not load them unmeasured.
    /// Errors: [`IngestError::WorkbookTooLarge`] naming the cell, sheet or size and the limit.
    pub fn check_limits(path: &Path, sheet: Option<&str>) -> Result<(), IngestError> {
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
        match extension.as_str() {
            "xlsx" | "xlsm" => scan_xlsx(path, sheet),
            "xlsb" => scan_xlsb(path, sheet),
            "xls" => scan_xls(path),
            "ods" => scan_ods(path),
            _ => Ok(()),
        }
    }

    /// The share of the file read so far, in 0..=1 (read-ahead buffers make it run a little ahead).
    pub fn fraction_read(&self) -> f64 {
        let fraction = match &self.extent {
            Extent::Bytes { read, total } | Extent::Rows { read, total } => {
                read.load(Ordering::Relaxed) as f64 / (*total).max(1) as f64
            }
        };
        fraction.clamp(0.0, 1.0)
    }

    /// The next record, or None at the end of the file.
    pub fn next_record(&mut self) -> Option<Result<Record, IngestError>> {
        let row = match self.rows.next()? {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        self.next_row += 1;
        Some(Ok(to_record(&self.shape.headers, self.next_row, row)))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IngestError {
    let path = path.to_owned();
    move |source| IngestError::Io { path, source }
}

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

/// Why a row cannot be the header, if it cannot: it holds a number, or fewer labels than half
/// the widest row (a title, a note).
fn not_a_header(cells: &[String], widest: usize) -> Option<String> {
    let labels: Vec<&str> = cells.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    if let Some(number) = labels.iter().find(|c| parse_number(c, None).is_ok()) {
        return Some(format!("{number:?} is a number"));
    }
    let needed = if widest >= 2 { widest.div_ceil(2).max(2) } else { 1 };
    (labels.len() < needed).then(|| format!("{} labels where the widest row has {widest} cells", labels.len()))
}

/// Index of the header among `rows` (file row, cells), which are the file's first rows: the
/// first non-blank row that is not a title or a note above it (see [`not_a_header`]).
fn find_header(path: &Path, rows: &[(u64, Vec<String>)]) -> Result<usize, IngestError> {
    let non_blank: Vec<usize> = (0..rows.len()).filter(|&i| !is_blank(&rows[i].1)).take(HEADER_SEARCH_ROWS).collect();
    let Some(&first) = non_blank.first() else { return Err(IngestError::Empty { path: path.to_owned() }) };
    let widest = non_blank.iter().map(|&i| rows[i].1.iter().filter(|c| !c.trim().is_empty()).count()).max();
    let widest = widest.unwrap_or(0);
    let mut first_reason = None;
    for &i in &non_blank {
        match not_a_header(&rows[i].1, widest) {
            None => return Ok(i),
            Some(reason) => {
                first_reason.get_or_insert(reason);
            }
        }
    }
    Err(IngestError::NoHeader {
        path: path.to_owned(),
        searched: non_blank.len(),
        first_row: rows[first].0,
        reason: first_reason.unwrap_or_default(),
    })
}

/// The header's labels: trailing empty cells dropped (a sheet's used range, a CSV's trailing
/// separators), none empty, none twice (case-insensitive), at most [`MAX_COLUMNS`].
fn check_headers(path: &Path, row: u64, raw: &[String]) -> Result<Vec<String>, IngestError> {
    let width = raw.iter().rposition(|h| !h.trim().is_empty()).map_or(0, |i| i + 1);
    if width == 0 {
        return Err(IngestError::Empty { path: path.to_owned() });
    }
    if width > MAX_COLUMNS {
        return Err(IngestError::TooManyColumns { path: path.to_owned(), row, columns: width, limit: MAX_COLUMNS });
    }
    let headers: Vec<String> =
        raw[..width].iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_owned()).collect();
    if let Some(column) = headers.iter().position(String::is_empty) {
        return Err(IngestError::EmptyHeader { path: path.to_owned(), row, column: column + 1 });
    }
    // One pass with a map: a sheet may have thousands of columns.
    let mut first_seen: HashMap<String, usize> = HashMap::with_capacity(headers.len());
    let mut duplicates = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        if let Some(first) = first_seen.get(&header.to_lowercase()) {
            duplicates.push(format!("{header:?} at columns {} and {}", first + 1, i + 1));
        } else {
            first_seen.insert(header.to_lowercase(), i);
        }
    }
    if !duplicates.is_empty() {
        return Err(IngestError::DuplicateHeaders { path: path.to_owned(), row, duplicates });
    }
    Ok(headers)
}

/// The decimal mark shown by the cells of the first data rows.
fn decimal_mark_of(rows: &[Vec<String>]) -> Option<DecimalMark> {
    detect_decimal_mark(rows.iter().take(DECIMAL_SAMPLE_ROWS).flatten().map(String::as_str))
}

/// What one pass over a CSV file's bytes says of its encoding.
struct Scan {
    first_invalid: Option<usize>,
    /// Some valid UTF-8 sequence beyond ASCII.
    multibyte: bool,
}

fn scan_utf8(path: &Path) -> Result<Scan, IngestError> {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).map_err(io(path))?);
    let mut buffer = vec![0u8; 1 << 20];
    let (mut carry, mut offset) = (Vec::new(), 0usize);
    let mut scan = Scan { first_invalid: None, multibyte: false };
    loop {
        let read = reader.read(&mut buffer).map_err(io(path))?;
        if read == 0 {
            if !carry.is_empty() {
                scan.first_invalid.get_or_insert(offset);
            }
            return Ok(scan);
        }
        carry.extend_from_slice(&buffer[..read]);
        // Valid stretches and invalid bytes, to the end of what is complete.
        loop {
            match std::str::from_utf8(&carry) {
                Ok(valid) => {
                    scan.multibyte |= !valid.is_ascii();
                    offset += carry.len();
                    carry.clear();
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    scan.multibyte |= !carry[..valid].is_ascii();
                    match e.error_len() {
                        // An incomplete sequence at the end of the chunk: keep it for the next one.
                        None => {
                            offset += valid;
                            carry.drain(..valid);
                            break;
                        }
                        Some(bad) => {
                            scan.first_invalid.get_or_insert(offset + valid);
                            offset += valid + bad;
                            carry.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }
}

/// How each CSV record's bytes become text.
#[derive(Clone, Copy, PartialEq)]
enum Decoding {
    Utf8,
    Windows1252,
    /// UTF-8 where a line is UTF-8, Windows-1252 (flagged) where it is not.
    PerLine,
}

/// The delimiter: Excel's `sep=` hint line, else the one of `,` `;` tab `|` with the highest
/// median count over the first lines (a title line above the header does not decide it).
fn sniff_delimiter(head: &str) -> (u8, bool) {
    let first = head.lines().next().unwrap_or_default().trim_start_matches('\u{feff}');
    if let Some(hint) = first.strip_prefix("sep=").or_else(|| first.strip_prefix("SEP="))
        && let [byte] = hint.trim_end_matches('\r').as_bytes()
    {
        return (*byte, true);
    }
    let lines: Vec<&str> = head.lines().filter(|l| !l.trim().is_empty()).take(HEADER_SEARCH_ROWS + 5).collect();
    let mut best = (b',', 0usize, 0usize);
    for candidate in [b',', b';', b'\t', b'|'] {
        let mut counts: Vec<usize> = lines.iter().map(|l| l.bytes().filter(|b| *b == candidate).count()).collect();
        counts.sort_unstable();
        let median = counts.get(counts.len() / 2).copied().unwrap_or(0);
        let total: usize = counts.iter().sum();
        if (median, total) > (best.1, best.2) {
            best = (candidate, median, total);
        }
    }
    (best.0, false)
}

fn decode(bytes: &[u8], decoding: Decoding) -> (String, bool) {
    match decoding {
        Decoding::Windows1252 => (WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(), false),
        Decoding::Utf8 => (String::from_utf8_lossy(bytes).into_owned(), false),
        Decoding::PerLine => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => (WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(), true),
        },
    }
}

/// Decodes a CSV record; a line that had to be read as Windows-1252 says so.
fn decode_record(record: &csv::ByteRecord, decoding: Decoding) -> (Vec<String>, bool) {
    let line_is_utf8 = decoding != Decoding::PerLine || std::str::from_utf8(record.as_slice()).is_ok();
    let effective = if line_is_utf8 { decoding } else { Decoding::Windows1252 };
    let mut cells: Vec<String> = record.iter().map(|field| decode(field, effective).0).collect();
    // Records end at '\n' only (so that line numbers stay right in CRLF files): the '\r' of a
    // CRLF is the last field's, and goes.
    if let Some(last) = cells.last_mut()
        && last.ends_with('\r')
    {
        last.pop();
    }
    (cells, !line_is_utf8)
}

fn csv_error(path: &Path, e: &csv::Error) -> IngestError {
    IngestError::Csv {
        path: path.to_owned(),
        line: e.position().map_or(0, csv::Position::line),
        message: e.to_string(),
    }
}

fn open_csv(path: &Path, encoding: Encoding) -> Result<InventoryFile, IngestError> {
    let mut head = Vec::new();
    File::open(path).map_err(io(path))?.take(MAX_HEADER_BYTES as u64 + 1).read_to_end(&mut head).map_err(io(path))?;
    let utf16 = head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]);
    let (decoding, encoding_name) = if utf16 {
        (Decoding::Utf8, "utf-16")
    } else {
        match encoding {
            Encoding::Latin1 => (Decoding::Windows1252, "windows-1252"),
            Encoding::Utf8 => match scan_utf8(path)?.first_invalid {
                Some(offset) => return Err(IngestError::InvalidUtf8 { path: path.to_owned(), offset }),
                None => (Decoding::Utf8, "utf-8"),
            },
            Encoding::Auto => match scan_utf8(path)? {
                Scan { first_invalid: None, .. } => (Decoding::Utf8, "utf-8"),
                Scan { multibyte: false, .. } => (Decoding::Windows1252, "windows-1252"),
                Scan { multibyte: true, .. } => (Decoding::PerLine, "utf-8 with windows-1252 lines"),
            },
        }
    };
    // The head of the file as UTF-8 (or single-byte) bytes, cut after its last complete line.
    let full = head.len() > MAX_HEADER_BYTES;
    let mut head_bytes = match encoding_rs::Encoding::for_bom(&head) {
        Some((bom_encoding, bom_length)) => {
            let (text, _) = bom_encoding.decode_without_bom_handling(&head[bom_length..]);
            text.into_owned().into_bytes()
        }
        None => head,
    };
    if full {
        let cut = head_bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        head_bytes.truncate(cut);
    }
    let head_decoding = if decoding == Decoding::Windows1252 { decoding } else { Decoding::PerLine };
    let (delimiter, _) = sniff_delimiter(&decode(&head_bytes, head_decoding).0);
    let mut above: Vec<(u64, Vec<String>)> = Vec::new();
    let mut head_reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .from_reader(&head_bytes[..]);
    for record in head_reader.byte_records() {
        let record = record.map_err(|e| csv_error(path, &e))?;
        let line = record.position().map_or(0, csv::Position::line);
        let (cells, _) = decode_record(&record, head_decoding);
        let is_hint = above.is_empty() && cells.first().is_some_and(|c| c.starts_with("sep="));
        above.push((line, if is_hint { Vec::new() } else { cells }));
        if above.iter().filter(|(_, c)| !is_blank(c)).count() >= HEADER_SEARCH_ROWS {
            break;
        }
    }
    let header_index = match find_header(path, &above) {
        Ok(index) => index,
        // The header may lie in the line that did not fit: refused, it is too long to be one.
        Err(_) if full => {
            let row = above.last().map_or(1, |(line, _)| line + 1);
            return Err(IngestError::HeaderTooLong { path: path.to_owned(), row, limit: MAX_HEADER_BYTES });
        }
        Err(e) => return Err(e),
    };
    let header_row = above[header_index].0;
    let headers = check_headers(path, header_row, &above[header_index].1)?;

    let file = File::open(path).map_err(io(path))?;
    let total = file.metadata().map_err(io(path))?.len();
    let read = Arc::new(AtomicU64::new(0));
    let file = Counting { inner: file, read: Arc::clone(&read) };
    // UTF-16 is transcoded to UTF-8 (by its BOM); every other file passes through as bytes and
    // is decoded record by record.
    let mut builder = DecodeReaderBytesBuilder::new();
    builder.bom_override(true).strip_bom(true).utf8_passthru(true);
    let decoded = builder.build(BufReader::with_capacity(1 << 20, file));
    let reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(decoded);
    let mut rows = csv_rows(path, reader, decoding, header_row);
    // Records are read ahead for the decimal mark, then replayed.
    let mut ahead: Vec<RawRow> = Vec::new();
    while ahead.len() < DECIMAL_SAMPLE_ROWS {
        match rows.next() {
            Some(row) => ahead.push(row?),
            None => break,
        }
    }
    let sample: Vec<Vec<String>> = ahead.iter().map(|r| r.cells.clone()).collect();
    let decimal_mark = decimal_mark_of(&sample);
    Ok(InventoryFile {
        shape: FileShape {
            headers,
            format: "csv",
            encoding: encoding_name,
            delimiter: Some(char::from(delimiter)),
            sheet: None,
            header_row,
            decimal_mark,
        },
        rows: Box::new(ahead.into_iter().map(Ok).chain(rows)),
        next_row: 0,
        extent: Extent::Bytes { read, total },
    })
}

/// The records after the header, decoded, blank ones skipped.
fn csv_rows<R: Read + Send + 'static>(
    path: &Path,
    reader: csv::Reader<R>,
    decoding: Decoding,
    header_row: u64,
) -> impl Iterator<Item = Result<RawRow, IngestError>> + Send + 'static {
    let path = path.to_owned();
    reader.into_byte_records().filter_map(move |record| {
        let record = match record {
            Ok(record) => record,
            Err(e) => return Some(Err(csv_error(&path, &e))),
        };
        let file_row = record.position().map_or(0, csv::Position::line);
        if file_row <= header_row {
            return None;
        }
        let (cells, windows_1252) = decode_record(&record, decoding);
        if is_blank(&cells) {
            return None;
        }
        let issues = if windows_1252 {
            vec![json!({
                "kind": "encoding", "severity": "warning", "row": file_row,
                "message": "this line is not UTF-8 like the rest of the file; read as Windows-1252"
            })]
        } else {
            Vec::new()
        };
        Some(Ok(RawRow { file_row, cells, issues }))
    })
}

/// Text of a typed sheet cell: numbers as numbers, dates as ISO 8601, percentages as shown,
/// booleans as `true`/`false`, formulas as their cached value.
fn typed_cell_text(cell: &DataRef<'_>, percent: bool) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) if percent => format!("{}%", i * 100),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if percent => format!("{}%", number_text(f * 100.0)),
        DataRef::Float(f) => number_text(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => excel_date_text(d),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    }
}

fn data_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date_text(d),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// The shortest text that reads back as the same number (binary noise of a percentage × 100
/// rounded away at 12 significant digits).
fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    let rounded: f64 = format!("{f:.12e}").parse().unwrap_or(f);
    format!("{rounded}")
}

/// An Excel date as ISO 8601: `2026-10-28` for a date, `2026-10-28T14:30:00` with a time;
/// a duration as `PT…`.
fn excel_date_text(date: &ExcelDateTime) -> String {
    if date.is_duration() {
        let seconds = (date.as_f64() * 86_400.0).round() as i64;
        return format!("PT{}H{}M{}S", seconds / 3600, seconds % 3600 / 60, seconds % 60);
    }
    let (year, month, day, hour, minute, second, milli) = date.to_ymd_hms_milli();
    let exact = chrono::NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))
        .and_then(|d| d.and_hms_milli_opt(u32::from(hour), u32::from(minute), u32::from(second), u32::from(milli)));
    let Some(exact) = exact else { return date.as_f64().to_string() };
    // Serial days carry binary noise (14:29:59.999 for 14:30): to the nearest second.
    let rounded = exact + chrono::Duration::milliseconds(500);
    let rounded = rounded - chrono::Duration::milliseconds(i64::from(rounded.and_utc().timestamp_subsec_millis()));
    if rounded.time() == chrono::NaiveTime::MIN {
        rounded.format("%Y-%m-%d").to_string()
    } else {
        rounded.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// Refuses a workbook whose zip directory declares more than the limits: a zip bomb is
/// refused before one byte of it is inflated.
fn check_zip(path: &Path) -> Result<(), IngestError> {
    let too_large = |message: String| IngestError::WorkbookTooLarge { path: path.to_owned(), message };
    let file = File::open(path).map_err(io(path))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| IngestError::Workbook { path: path.to_owned(), message: e.to_string() })?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| IngestError::Workbook { path: path.to_owned(), message: e.to_string() })?;
        let (size, compressed) = (entry.size(), entry.compressed_size());
        if size > MAX_COMPRESSION_RATIO * compressed.max(1024) {
            return Err(too_large(format!(
                "{} expands {compressed} bytes to {size} (more than {MAX_COMPRESSION_RATIO} times): a zip bomb",
                entry.name().unwrap_or_default()
            )));
        }
        total = total.saturating_add(size);
    }
    if total > MAX_WORKBOOK_UNCOMPRESSED_BYTES {
        return Err(too_large(format!(
            "the workbook expands to {total} bytes; the limit is {MAX_WORKBOOK_UNCOMPRESSED_BYTES}"
        )));
    }
    Ok(())
}

fn check_declared_size(path: &Path, rows: u64, columns: u64) -> Result<(), IngestError> {
    let too_large = |message: String| IngestError::WorkbookTooLarge { path: path.to_owned(), message };
    if rows > MAX_SHEET_ROWS {
        return Err(too_large(format!("the sheet has {rows} rows; the limit is {MAX_SHEET_ROWS}")));
    }
    if rows.saturating_mul(columns) > MAX_SHEET_CELLS {
        return Err(too_large(format!(
            "the sheet spans {rows} rows × {columns} columns = {} cells; the limit is {MAX_SHEET_CELLS}",
            rows.saturating_mul(columns)
        )));
    }
    Ok(())
}

/// The spreadsheet name of a column (0-based): A, …, Z, AA, …, XFD.
fn column_name(column: u32) -> String {
    let (mut n, mut name) = (u64::from(column) + 1, Vec::new());
    while n > 0 {
        n -= 1;
        name.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    name.iter().rev().map(|&b| char::from(b)).collect()
}

/// Refuses the `seen`-th cell of a sheet, at 0-based (`row`, `column`), when it passes a limit,
/// naming the cell and the limit.
fn check_cell(path: &Path, row: u32, column: u32, seen: u64) -> Result<(), IngestError> {
    let limit = if u64::from(row) >= MAX_SHEET_ROWS {
        format!("{MAX_SHEET_ROWS} rows")
    } else if column as usize >= MAX_COLUMNS {
        format!("{MAX_COLUMNS} columns")
    } else if seen > MAX_SHEET_CELLS {
        format!("{MAX_SHEET_CELLS} cells")
    } else {
        return Ok(());
    };
    Err(IngestError::WorkbookTooLarge {
        path: path.to_owned(),
        message: format!(
            "cell {}{} at row {} column {} passes the limit of {limit}",
            column_name(column),
            u64::from(row) + 1,
            u64::from(row) + 1,
            u64::from(column) + 1
        ),
    })
}

/// Reads every cell reference of the sheet (one cell at a time, never a grid) and checks each
/// against the limits.
fn scan_xlsx(path: &Path, sheet: Option<&str>) -> Result<(), IngestError> {
    check_zip(path)?;
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(|e: calamine::XlsxError| workbook_error(e.to_string()))?;
    let name = choose_sheet(path, &workbook.sheet_names(), sheet)?;
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(|e| workbook_error(e.to_string()))?;
    let d = cells.dimensions();
    check_declared_size(path, u64::from(d.end.0) + 1, u64::from(d.end.1) + 1)?;
    let mut seen = 0u64;
    while let Some(cell) = cells.next_cell().map_err(|e| workbook_error(e.to_string()))? {
        let (row, column) = cell.get_position();
        seen += 1;
        check_cell(path, row, column, seen)?;
    }
    Ok(())
}

/// The same for an XLSB sheet: its records read one at a time.
fn scan_xlsb(path: &Path, sheet: Option<&str>) -> Result<(), IngestError> {
    check_zip(path)?;
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let mut workbook: Xlsb<_> = open_workbook(path).map_err(|e: calamine::XlsbError| workbook_error(e.to_string()))?;
    let name = choose_sheet(path, &workbook.sheet_names(), sheet)?;
    let mut cells = workbook.worksheet_cells_reader(&name).map_err(|e| workbook_error(e.to_string()))?;
    let d = cells.dimensions();
    check_declared_size(path, u64::from(d.end.0) + 1, u64::from(d.end.1) + 1)?;
    let mut seen = 0u64;
    while let Some(cell) = cells.next_cell().map_err(|e| workbook_error(e.to_string()))? {
        let (row, column) = cell.get_position();
        seen += 1;
        check_cell(path, row, column, seen)?;
    }
    Ok(())
}

/// The extent of one sheet of a format read whole: the cells between its first and last
/// non-empty row and column, as calamine's dense grid will hold them.
#[derive(Default)]
struct SheetExtent {
    rows: Option<(u64, u64)>,
    columns: Option<(u64, u64)>,
}

impl SheetExtent {
    fn add(&mut self, row: u64, first_column: u64, last_column: u64) {
        let widen = |span: Option<(u64, u64)>, low: u64, high: u64| {
            Some(span.map_or((low, high), |(a, b)| (a.min(low), b.max(high))))
        };
        self.rows = widen(self.rows, row, row);
        self.columns = widen(self.columns, first_column, last_column);
    }

    fn cells(&self) -> u64 {
        match (self.rows, self.columns) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1).saturating_mul(c1 - c0 + 1),
            _ => 0,
        }
    }
}

/// Adds a sheet's extent to the workbook's, refusing past [`MAX_WHOLE_WORKBOOK_CELLS`].
fn add_whole_cells(path: &Path, total: &mut u64, sheet: &str, extent: &SheetExtent) -> Result<(), IngestError> {
    *total = total.saturating_add(extent.cells());
    if *total > MAX_WHOLE_WORKBOOK_CELLS {
        let (rows, columns) = match (extent.rows, extent.columns) {
            (Some((r0, r1)), Some((c0, c1))) => (r1 - r0 + 1, c1 - c0 + 1),
            _ => (0, 0),
        };
        return Err(IngestError::WorkbookTooLarge {
            path: path.to_owned(),
            message: format!(
                "{sheet} spans {rows} rows × {columns} columns; with the sheets before it that is {total} cells, \
                 and this format is read whole with a limit of {MAX_WHOLE_WORKBOOK_CELLS} (save it as .xlsx or .csv)"
            ),
        });
    }
    Ok(())
}

fn check_whole_bytes(path: &Path, what: &str, bytes: u64) -> Result<(), IngestError> {
    if bytes > MAX_WHOLE_WORKBOOK_BYTES {
        return Err(IngestError::WorkbookTooLarge {
            path: path.to_owned(),
            message: format!(
                "{what} is {bytes} bytes, and this format is read whole with a limit of {MAX_WHOLE_WORKBOOK_BYTES} \
                 (save it as .xlsx or .csv)"
            ),
        });
    }
    Ok(())
}

/// Measures an Excel 97-2003 workbook (a compound file holding a BIFF stream) without loading
/// it: calamine reads every sheet at open, reserving what each DIMENSIONS record declares and
/// a dense grid up to each sheet's farthest value cell, so both are checked, record by record.
fn scan_xls(path: &Path) -> Result<(), IngestError> {
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    check_whole_bytes(path, "the file", std::fs::metadata(path).map_err(io(path))?.len())?;
    let mut compound = cfb::open(path).map_err(|e| workbook_error(format!("not an Excel 97-2003 workbook: {e}")))?;
    let stream_name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|name| compound.is_stream(name))
        .ok_or_else(|| workbook_error("no Workbook stream: not an Excel 97-2003 workbook".into()))?;
    let stream = compound.open_stream(stream_name).map_err(|e| workbook_error(e.to_string()))?;
    check_whole_bytes(path, "its Workbook stream", stream.len())?;
    let mut stream = BufReader::new(stream);
    let (mut depth, mut sheet, mut total) = (0u32, 0u32, 0u64);
    let mut extent = SheetExtent::default();
    let mut data = vec![0u8; usize::from(u16::MAX)];
    loop {
        let mut head = [0u8; 4];
        match stream.read_exact(&mut head) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(io(path)(e)),
        }
        let kind = u16::from_le_bytes([head[0], head[1]]);
        let length = usize::from(u16::from_le_bytes([head[2], head[3]]));
        let body = &mut data[..length];
        stream.read_exact(body).map_err(|e| workbook_error(format!("a BIFF record is cut short: {e}")))?;
        let u16_at = |at: usize| body.get(at..at + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
        let u32_at = |at: usize| body.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        match kind {
            // BOF: a substream starts (the globals, a sheet, or a chart nested in a sheet).
            0x0809 => {
                depth += 1;
                if depth == 1 {
                    sheet += 1;
                    extent = SheetExtent::default();
                }
            }
            // EOF: the substream ends; a sheet's extent counts towards the workbook's.
            0x000A => {
                if depth == 1 {
                    add_whole_cells(path, &mut total, &format!("sheet {}", sheet.saturating_sub(1)), &extent)?;
                }
                depth = depth.saturating_sub(1);
            }
            // DIMENSIONS: calamine reserves rows × columns as it computes them (wrapping u32).
            0x0200 if depth == 1 => {
                let (first_row, row_end, first_column, column_end) = match length {
                    10 => (u32::from(u16_at(0)), u32::from(u16_at(2)), u32::from(u16_at(4)), u32::from(u16_at(6))),
                    14 | 16 => (u32_at(0), u32_at(4), u32::from(u16_at(8)), u32::from(u16_at(10))),
                    _ => continue,
                };
                let first_column = if first_column > 0xFF || column_end < first_column { 0 } else { first_column };
                if row_end >= 1 && column_end >= 1 {
                    let rows = u64::from((row_end - 1).wrapping_sub(first_row).wrapping_add(1));
                    let columns = u64::from((column_end - 1).wrapping_sub(first_column).wrapping_add(1));
                    if rows.saturating_mul(columns) > MAX_WHOLE_WORKBOOK_CELLS {
                        return Err(IngestError::WorkbookTooLarge {
                            path: path.to_owned(),
                            message: format!(
                                "sheet {} declares {rows} rows × {columns} columns; this format is read whole with a \
                                 limit of {MAX_WHOLE_WORKBOOK_CELLS} cells (save it as .xlsx or .csv)",
                                sheet.saturating_sub(1)
                            ),
                        });
                    }
                }
            }
            // Value cells (number, label, rich label, bool/error, RK, shared-string label,
            // formula) start with their row and column; MULRK spans to its last column.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 if depth == 1 => {
                let column = u64::from(u16_at(2));
                extent.add(u64::from(u16_at(0)), column, column);
            }
            0x00BD if depth == 1 && length >= 6 => {
                let last = u64::from(u16_at(length - 2));
                extent.add(u64::from(u16_at(0)), u64::from(u16_at(2)), last.max(u64::from(u16_at(2))));
            }
            _ => {}
        }
    }
    Ok(())
}

/// A `table:number-*-repeated` count (1 when absent or unreadable).
fn repeats(element: &quick_xml::events::BytesStart<'_>, attribute: &str) -> u64 {
    element.try_get_attribute(attribute).ok().flatten().and_then(|a| a.value.trim().parse().ok()).unwrap_or(1)
}

/// Measures an OpenDocument spreadsheet without loading it: its content.xml is read as a
/// stream of XML events, repeated rows and columns counted, and every sheet's extent (to its
/// last non-empty cell, as calamine's grid holds it) checked; calamine reads all sheets at open.
fn scan_ods(path: &Path) -> Result<(), IngestError> {
    use quick_xml::events::Event;
    check_zip(path)?;
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let file = File::open(path).map_err(io(path))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| workbook_error(e.to_string()))?;
    let content = archive.by_name("content.xml").map_err(|e| workbook_error(format!("content.xml: {e}")))?;
    check_whole_bytes(path, "its content.xml", content.size())?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(content));
    let (mut buffer, mut total) = (Vec::new(), 0u64);
    let mut extent = SheetExtent::default();
    let mut sheet = String::new();
    // Position in the current sheet: the row's first index and repeats, the next column.
    let (mut row, mut row_repeats, mut column) = (0u64, 1u64, 0u64);
    let mut row_cells: Option<(u64, u64)> = None;
    loop {
        let event = reader.read_event_into(&mut buffer).map_err(|e| workbook_error(format!("content.xml: {e}")))?;
        match &event {
            Event::Start(e) if e.name().as_ref() == "table:table" => {
                extent = SheetExtent::default();
                row = 0;
                sheet =
                    e.try_get_attribute("table:name").ok().flatten().map_or_else(String::new, |a| a.value.into_owned());
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                add_whole_cells(path, &mut total, &format!("sheet {sheet:?}"), &extent)?;
            }
            Event::Start(e) if e.name().as_ref() == "table:table-row" => {
                (row_repeats, column, row_cells) = (repeats(e, "table:number-rows-repeated"), 0, None);
            }
            Event::Empty(e) if e.name().as_ref() == "table:table-row" => {
                row = row.saturating_add(repeats(e, "table:number-rows-repeated"));
            }
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if let Some((first, last)) = row_cells {
                    let last_row = row.saturating_add(row_repeats - 1);
                    if last_row >= MAX_SHEET_ROWS || last >= MAX_COLUMNS as u64 {
                        return Err(IngestError::WorkbookTooLarge {
                            path: path.to_owned(),
                            message: format!(
                                "sheet {sheet:?} has a value at row {} column {}, past the limit of {MAX_SHEET_ROWS} \
                                 rows and {MAX_COLUMNS} columns",
                                last_row + 1,
                                last + 1
                            ),
                        });
                    }
                    extent.add(row, first, last);
                    extent.add(last_row, first, last);
                    // A sheet past the limit is refused before its end, not after reading it all.
                    let mut so_far = total;
                    add_whole_cells(path, &mut so_far, &format!("sheet {sheet:?}"), &extent)?;
                }
                row = row.saturating_add(row_repeats);
            }
            Event::Start(e) | Event::Empty(e)
                if matches!(e.name().as_ref(), "table:table-cell" | "table:covered-table-cell") =>
            {
                let count = repeats(e, "table:number-columns-repeated").max(1);
                // A cell with content (Start) or a value in its attributes holds a value.
                let valued = matches!(event, Event::Start(_))
                    || e.try_get_attribute("office:value-type").ok().flatten().is_some();
                if valued {
                    let last = column.saturating_add(count - 1);
                    row_cells = Some(row_cells.map_or((column, last), |(a, b)| (a.min(column), b.max(last))));
                }
                column = column.saturating_add(count);
            }
            Event::Eof => break,
            _ => {}
        }
        buffer.clear();
    }
    Ok(())
}

/// The sheets of the workbook at `path`, in order; None for a file that is no workbook (CSV).
/// An .xlsx or .xlsb is opened after its zip directory is checked (no sheet is read); the
/// formats read whole (.xls, .ods) are measured first, as [`InventoryFile::open`] does.
/// Errors: [`IngestError::Workbook`], [`IngestError::WorkbookTooLarge`].
pub fn sheet_names(path: &Path) -> Result<Option<Vec<String>>, IngestError> {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let names = match extension.as_str() {
        "xlsx" | "xlsm" => {
            check_zip(path)?;
            let workbook: Xlsx<_> =
                open_workbook(path).map_err(|e: calamine::XlsxError| workbook_error(e.to_string()))?;
            workbook.sheet_names()
        }
        "xlsb" => {
            check_zip(path)?;
            let workbook: Xlsb<_> =
                open_workbook(path).map_err(|e: calamine::XlsbError| workbook_error(e.to_string()))?;
            workbook.sheet_names()
        }
        "xls" | "ods" => {
            if extension == "xls" {
                scan_xls(path)?
            } else {
                scan_ods(path)?
            }
            open_workbook_auto(path).map_err(|e| workbook_error(e.to_string()))?.sheet_names()
        }
        _ => return Ok(None),
    };
    Ok(Some(names))
}

fn choose_sheet(path: &Path, names: &[String], sheet: Option<&str>) -> Result<String, IngestError> {
    match sheet {
        Some(wanted) => names.iter().find(|n| n.eq_ignore_ascii_case(wanted)).cloned().ok_or_else(|| {
            IngestError::UnknownSheet { path: path.to_owned(), sheet: wanted.to_owned(), available: names.to_vec() }
        }),
        None => names.first().cloned().ok_or_else(|| IngestError::Empty { path: path.to_owned() }),
    }
}

/// A message from the sheet-reading thread.
enum SheetMessage {
    Declared(u64),
    Row(Result<RawRow, IngestError>),
}

/// One cell as a streamed sheet gives it: 0-based row and column, and its text.
type SheetCell = (u32, u32, String);

/// Streams an XLSX sheet's cells (never the dense grid its dimension declares) on a thread of
/// its own, row by row through a bounded channel; memory is that of a few rows.
fn open_xlsx(path: &Path, sheet: Option<&str>) -> Result<InventoryFile, IngestError> {
    check_zip(path)?;
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let mut workbook: Xlsx<_> = open_workbook(path).map_err(|e: calamine::XlsxError| workbook_error(e.to_string()))?;
    let name = choose_sheet(path, &workbook.sheet_names(), sheet)?;
    // The declared size is checked here, before any thread or row.
    {
        let cells = workbook.worksheet_cells_reader(&name).map_err(|e| workbook_error(e.to_string()))?;
        let d = cells.dimensions();
        check_declared_size(path, u64::from(d.end.0) + 1, u64::from(d.end.1) + 1)?;
    }
    let (sender, receiver) = std::sync::mpsc::sync_channel::<SheetMessage>(256);
    let owned_path = path.to_owned();
    let sheet_name = name.clone();
    std::thread::spawn(move || {
        let mut cells = match workbook.worksheet_cells_reader(&sheet_name) {
            Ok(cells) => cells,
            Err(e) => return fail(&owned_path, &sender, e.to_string()),
        };
        let percent_styles: Vec<bool> = cells
            .styles()
            .iter()
            .map(|s| {
                s.number_format
                    .as_ref()
                    .is_some_and(|f| f.format_code.contains('%') || matches!(f.format_id, Some(9 | 10)))
            })
            .collect();
        let declared = u64::from(cells.dimensions().end.0) + 1;
        stream_cells(&owned_path, declared, &sender, || {
            let next = cells.next_cell_with_style_id().map_err(|e| e.to_string())?;
            Ok(next.map(|(cell, style)| {
                let (r, c) = cell.get_position();
                (r, c, typed_cell_text(cell.get_value(), percent_styles.get(style).copied().unwrap_or(false)))
            }))
        });
    });
    receive_rows(path, "xlsx", name, receiver)
}

/// Streams an XLSB sheet like an XLSX one (calamine reads its records one at a time).
fn open_xlsb(path: &Path, sheet: Option<&str>) -> Result<InventoryFile, IngestError> {
    check_zip(path)?;
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let mut workbook: Xlsb<_> = open_workbook(path).map_err(|e: calamine::XlsbError| workbook_error(e.to_string()))?;
    let name = choose_sheet(path, &workbook.sheet_names(), sheet)?;
    {
        let cells = workbook.worksheet_cells_reader(&name).map_err(|e| workbook_error(e.to_string()))?;
        let d = cells.dimensions();
        check_declared_size(path, u64::from(d.end.0) + 1, u64::from(d.end.1) + 1)?;
    }
    let (sender, receiver) = std::sync::mpsc::sync_channel::<SheetMessage>(256);
    let owned_path = path.to_owned();
    let sheet_name = name.clone();
    std::thread::spawn(move || {
        let mut cells = match workbook.worksheet_cells_reader(&sheet_name) {
            Ok(cells) => cells,
            Err(e) => return fail(&owned_path, &sender, e.to_string()),
        };
        let declared = u64::from(cells.dimensions().end.0) + 1;
        stream_cells(&owned_path, declared, &sender, || {
            let next = cells.next_cell().map_err(|e| e.to_string())?;
            Ok(next.map(|cell| {
                let (r, c) = cell.get_position();
                (r, c, typed_cell_text(cell.get_value(), false))
            }))
        });
    });
    receive_rows(path, "xlsb", name, receiver)
}

fn fail(path: &Path, sender: &std::sync::mpsc::SyncSender<SheetMessage>, message: String) {
    let _ = sender.send(SheetMessage::Row(Err(IngestError::Workbook { path: path.to_owned(), message })));
}

/// The reading side of a streamed sheet: the declared row count, then rows as they come.
fn receive_rows(
    path: &Path,
    format: &'static str,
    name: String,
    receiver: std::sync::mpsc::Receiver<SheetMessage>,
) -> Result<InventoryFile, IngestError> {
    let declared = match receiver.recv() {
        Ok(SheetMessage::Declared(rows)) => rows,
        Ok(SheetMessage::Row(Err(e))) => return Err(e),
        _ => return Err(IngestError::Workbook { path: path.to_owned(), message: "the sheet reader stopped".into() }),
    };
    let rows = receiver.into_iter().map_while(|m| match m {
        SheetMessage::Row(row) => Some(row),
        SheetMessage::Declared(_) => None,
    });
    let read = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&read);
    let rows = rows.inspect(move |row| {
        if let Ok(row) = row {
            counted.store(row.file_row, Ordering::Relaxed);
        }
    });
    sheet_file(path, format, Some(name), Box::new(rows), Extent::Rows { read, total: declared.max(1) })
}

/// The sheet-reading thread's loop: sends the declared row count, then the non-blank rows
/// built from `next`'s cells (in row order); stops when the receiver is gone or a limit is
/// passed.
fn stream_cells(
    path: &Path,
    declared: u64,
    sender: &std::sync::mpsc::SyncSender<SheetMessage>,
    mut next: impl FnMut() -> Result<Option<SheetCell>, String>,
) {
    if sender.send(SheetMessage::Declared(declared)).is_err() {
        return;
    }
    let (mut row_index, mut row, mut seen_cells) = (None::<u32>, Vec::<String>::new(), 0u64);
    let send_row = |index: u32, row: &mut Vec<String>| {
        let cells = std::mem::take(row);
        if is_blank(&cells) {
            return true;
        }
        let raw = RawRow { file_row: u64::from(index) + 1, cells, issues: Vec::new() };
        sender.send(SheetMessage::Row(Ok(raw))).is_ok()
    };
    loop {
        let (r, c, text) = match next() {
            Ok(Some(cell)) => cell,
            Ok(None) => break,
            Err(message) => return fail(path, sender, message),
        };
        seen_cells += 1;
        // A file checked by `InventoryFile::check_limits` never gets here; one read without it
        // (a sample) stops at the far cell.
        if let Err(refused) = check_cell(path, r, c, seen_cells) {
            let _ = sender.send(SheetMessage::Row(Err(refused)));
            return;
        }
        if row_index != Some(r) {
            if let Some(previous) = row_index
                && !send_row(previous, &mut row)
            {
                return;
            }
            row_index = Some(r);
        }
        if text.is_empty() {
            continue;
        }
        let column = c as usize;
        if row.len() <= column {
            row.resize(column + 1, String::new());
        }
        row[column] = text;
    }
    if let Some(previous) = row_index {
        send_row(previous, &mut row);
    }
}

/// A workbook of a format calamine reads whole (xls, ods), measured by `scan_xls`/`scan_ods`
/// before this loads it: its sheet is read as one grid.
fn open_whole_workbook(path: &Path, format: &'static str, sheet: Option<&str>) -> Result<InventoryFile, IngestError> {
    let workbook_error = |message: String| IngestError::Workbook { path: path.to_owned(), message };
    let mut workbook = open_workbook_auto(path).map_err(|e| workbook_error(e.to_string()))?;
    let name = choose_sheet(path, &workbook.sheet_names(), sheet)?;
    let range = workbook.worksheet_range(&name).map_err(|e| workbook_error(e.to_string()))?;
    let (height, width) = range.get_size();
    check_declared_size(path, height as u64, width as u64)?;
    let start = u64::from(range.start().map_or(0, |(r, _)| r));
    let rows: Vec<RawRow> = range
        .rows()
        .enumerate()
        .map(|(i, row)| RawRow {
            file_row: start + i as u64 + 1,
            cells: row.iter().map(data_text).collect(),
            issues: Vec::new(),
        })
        .filter(|r| !is_blank(&r.cells))
        .collect();
    let total = rows.len() as u64;
    let read = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&read);
    let rows = rows.into_iter().map(Ok).inspect(move |_| {
        counted.fetch_add(1, Ordering::Relaxed);
    });
    sheet_file(path, format, Some(name), Box::new(rows), Extent::Rows { read, total })
}

/// Finds the header among a sheet's first rows and keeps what is read ahead for the rest.
fn sheet_file(
    path: &Path,
    format: &'static str,
    sheet: Option<String>,
    mut rows: Rows,
    extent: Extent,
) -> Result<InventoryFile, IngestError> {
    let mut above: Vec<(u64, Vec<String>)> = Vec::new();
    for row in rows.by_ref() {
        let row = row?;
        above.push((row.file_row, row.cells));
        if above.len() >= HEADER_SEARCH_ROWS {
            break;
        }
    }
    let header_index = find_header(path, &above)?;
    let header_row = above[header_index].0;
    let headers = check_headers(path, header_row, &above[header_index].1)?;
    let mut ahead: Vec<RawRow> = above
        .drain(header_index + 1..)
        .map(|(file_row, cells)| RawRow { file_row, cells, issues: Vec::new() })
        .collect();
    while ahead.len() < DECIMAL_SAMPLE_ROWS {
        match rows.next() {
            Some(row) => ahead.push(row?),
            None => break,
        }
    }
    let sample: Vec<Vec<String>> = ahead.iter().map(|r| r.cells.clone()).collect();
    let decimal_mark = decimal_mark_of(&sample);
    Ok(InventoryFile {
        shape: FileShape { headers, format, encoding: "utf-8", delimiter: None, sheet, header_row, decimal_mark },
        rows: Box::new(ahead.into_iter().map(Ok).chain(rows)),
        next_row: 0,
        extent,
    })
}

/// A cell a spreadsheet would run as a formula: kept as text, flagged.
fn looks_like_formula(value: &str) -> bool {
    let Some(first) = value.chars().next() else { return false };
    match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => value.len() > 1 && parse_number(&value[1..], None).is_err(),
        _ => false,
    }
}

fn to_record(headers: &[String], row_number: i64, row: RawRow) -> Record {
    let RawRow { file_row, cells: mut fields, mut issues } = row;
    // Empty cells past the header are a writer's trailing separators, not fields.
    while fields.len() > headers.len() && fields.last().is_some_and(|f| f.trim().is_empty()) {
        fields.pop();
    }
    if fields.len() > headers.len() {
        issues.push(json!({
            "kind": "long_row", "severity": "error", "row": file_row,
            "message": format!("row has {} fields, the header has {}", fields.len(), headers.len())
        }));
    } else if fields.len() < headers.len() {
        issues.push(json!({
            "kind": "short_row", "severity": "warning", "row": file_row,
            "message": format!("row has {} fields, the header has {}; the missing cells are read as empty", fields.len(), headers.len())
        }));
    }
    let mut data = Map::new();
    for (index, value) in fields.iter_mut().enumerate() {
        let column = headers.get(index).cloned().unwrap_or_else(|| format!("_extra_{}", index + 1 - headers.len()));
        if value.contains('\0') {
            // PostgreSQL text and jsonb cannot hold a NUL: the byte is dropped, the row refused.
            value.retain(|c| c != '\0');
            issues.push(json!({
                "kind": "nul_byte", "severity": "error", "row": file_row, "column": column,
                "message": format!("column {} holds a NUL byte (kept without it)", index + 1)
            }));
        }
        if value.len() > MAX_CELL_BYTES {
            issues.push(json!({
                "kind": "cell_too_large", "severity": "error", "row": file_row, "column": column,
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
                "kind": "formula_injection", "severity": "warning", "row": file_row, "column": column,
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
    Record { row_number, file_row, data, is_valid, issues }
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
    fn short_rows_are_padded_long_rows_invalid_and_formulas_flagged() {
        let f = file(b"Name,OS,,\nweb-01\ndb-01,Linux,extra\n=cmd|' /C calc'!A0,-5\nweb-02,Linux,,\n", ".csv");
        let (shape, rows) = records(&f);
        assert_eq!(shape.headers, ["Name", "OS"], "trailing empty header cells are no columns");
        assert!(rows[0].is_valid && rows[0].data["OS"].is_null(), "a short row is padded");
        assert_eq!(rows[0].issues[0]["kind"], "short_row");
        assert_eq!(rows[0].issues[0]["row"], 2, "the file row");
        assert!(!rows[1].is_valid && rows[1].data["_extra_1"] == "extra");
        assert!(rows[2].is_valid, "a formula is a warning, not an error");
        assert_eq!(rows[2].issues.len(), 1, "-5 is a number, not a formula");
        assert_eq!(rows[2].data["Name"], "=cmd|' /C calc'!A0", "kept as text");
        assert!(rows[3].is_valid && rows[3].issues.is_empty(), "trailing empty cells are not fields");
    }

    #[test]
    fn the_header_is_found_below_titles_hints_and_blank_rows() {
        let f = file(b"sep=;\nInventory export 2026-11-01\n\n;;\nName;RAM (GB);OS\nweb-01;99,5;Linux\n", ".csv");
        let (shape, rows) = records(&f);
        assert_eq!((shape.header_row, shape.delimiter), (5, Some(';')));
        assert_eq!(shape.headers, ["Name", "RAM (GB)", "OS"]);
        assert_eq!(shape.decimal_mark, Some(DecimalMark::Comma));
        assert_eq!((rows.len(), rows[0].file_row), (1, 6));
        let numbers = file(b"1,2,3\n4,5,6\n", ".csv");
        let error = InventoryFile::open(numbers.path(), None, Encoding::Auto).err().expect("no header");
        assert!(error.to_string().contains("row 1 looks like data"), "{error}");
    }

    #[test]
    fn crlf_files_keep_their_rows_and_line_numbers() {
        let f = file(b"Name,OS\r\nweb-01,Linux\r\n\r\nweb-02,\"Windows\r\nServer\"\r\nweb-03,Linux\r\n", ".csv");
        let (shape, rows) = records(&f);
        assert_eq!(shape.headers, ["Name", "OS"]);
        let seen: Vec<(u64, &str)> =
            rows.iter().map(|r| (r.file_row, r.data["OS"].as_str().unwrap_or_default())).collect();
        assert_eq!(seen, [(2, "Linux"), (4, "Windows\r\nServer"), (6, "Linux")]);
    }

    #[test]
    fn bad_cells_invalidate_their_row_only() {
        let f = file(b"Name,OS\nweb-01,Linux\nbad\x00host,Linux\nweb-03,Linux\n", ".csv");
        let (_, rows) = records(&f);
        assert_eq!(rows.iter().map(|r| r.is_valid).collect::<Vec<_>>(), [true, false, true]);
        assert_eq!(rows[1].issues[0]["kind"], "nul_byte");
        assert_eq!((rows[1].issues[0]["row"].as_u64(), rows[1].issues[0]["column"].as_str()), (Some(3), Some("Name")));
        assert_eq!(rows[1].data["Name"], "badhost");
    }

    #[test]
    fn a_file_mixing_encodings_is_decoded_line_by_line() {
        let f = file("Name,Owner\nsrv-1,J\u{fc}rgen M\u{fc}ller\n".as_bytes(), ".csv");
        let mut bytes = std::fs::read(f.path()).expect("read");
        bytes.extend_from_slice(b"srv-2,Ren\xe9 Dupont\n");
        let (shape, rows) = records(&file(&bytes, ".csv"));
        assert_eq!(shape.encoding, "utf-8 with windows-1252 lines");
        assert_eq!(rows[0].data["Owner"], "J\u{fc}rgen M\u{fc}ller");
        assert!(rows[0].issues.is_empty());
        assert_eq!(rows[1].data["Owner"], "Ren\u{e9} Dupont");
        assert_eq!(rows[1].issues[0]["kind"], "encoding");
        assert!(rows[1].is_valid, "flagged, not refused");
    }

    #[test]
    fn headers_are_bounded_and_checked_in_linear_time() {
        let mut long = vec![b'x'; MAX_HEADER_BYTES + 10];
        long.extend_from_slice(b",y\n1,2\n");
        let error = InventoryFile::open(file(&long, ".csv").path(), None, Encoding::Auto).err().expect("refused");
        assert!(matches!(error, IngestError::HeaderTooLong { row: 1, .. }), "{error}");
        let wide: Vec<String> = (0..MAX_COLUMNS + 1).map(|i| format!("c{i}")).collect();
        let f = file(format!("{}\n", wide.join(",")).as_bytes(), ".csv");
        let error = InventoryFile::open(f.path(), None, Encoding::Auto).err().expect("refused");
        assert!(matches!(error, IngestError::TooManyColumns { columns: 4097, .. }), "{error}");
        let mut many: Vec<String> = (0..MAX_COLUMNS - 1).map(|i| format!("c{i}")).collect();
        many.push("C7".into());
        let started = std::time::Instant::now();
        let f = file(format!("{}\n", many.join(",")).as_bytes(), ".csv");
        let error = InventoryFile::open(f.path(), None, Encoding::Auto).err().expect("duplicate");
        assert!(error.to_string().contains("\"C7\" at columns 8 and 4096"), "{error}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "no quadratic check");
    }

    fn workbook(build: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> tempfile::NamedTempFile {
        let f = tempfile::Builder::new().suffix(".xlsx").tempfile().expect("temp file");
        let mut book = rust_xlsxwriter::Workbook::new();
        build(book.add_worksheet());
        book.save(f.path()).expect("save");
        f
    }

    #[test]
    fn xlsx_cells_keep_their_type() {
        use rust_xlsxwriter::{ExcelDateTime as Date, Format, Formula};
        let f = workbook(|sheet| {
            let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
            let day = Format::new().set_num_format("yyyy-mm-dd");
            let percent = Format::new().set_num_format("0.0%");
            sheet.write(0, 0, "Server inventory").expect("title");
            for (c, h) in ["Name", "Lastseen", "Installed", "CPU %", "Powered", "Cores", "RAM", ""].iter().enumerate() {
                sheet.write(2, c as u16, *h).expect("header");
            }
            let when = Date::parse_from_str("2026-10-28 14:30:00").expect("date");
            let installed = Date::parse_from_str("2024-02-29").expect("date");
            sheet.write(3, 0, "ber-app-01").expect("cell");
            sheet.write_datetime_with_format(3, 1, &when, &date).expect("cell");
            sheet.write_datetime_with_format(3, 2, &installed, &day).expect("cell");
            sheet.write_number_with_format(3, 3, 0.355, &percent).expect("cell");
            sheet.write_boolean(3, 4, true).expect("cell");
            sheet.write_number(3, 5, 4.0).expect("cell");
            sheet.write_formula(3, 6, Formula::new("=8*2").set_result("16")).expect("cell");
        });
        let (shape, rows) = records(&f);
        assert_eq!((shape.header_row, shape.headers.len()), (3, 7));
        let row = &rows[0].data;
        assert_eq!(row["Lastseen"], "2026-10-28T14:30:00");
        assert_eq!(row["Installed"], "2024-02-29");
        assert_eq!(row["CPU %"], "35.5%");
        assert_eq!(row["Powered"], "true");
        assert_eq!(row["Cores"], "4");
        assert_eq!(row["RAM"], "16", "a formula's cached value");
        assert_eq!(rows[0].file_row, 4);
    }

    #[test]
    fn oversized_workbooks_are_refused_before_their_cells_are_read() {
        let f = workbook(|sheet| {
            sheet.write(0, 0, "Name").expect("cell");
            sheet.write(1_048_575, 16_383, "x").expect("corner");
        });
        let error = InventoryFile::open(f.path(), None, Encoding::Auto).err().expect("refused");
        assert!(matches!(error, IngestError::WorkbookTooLarge { .. }), "{error}");
        assert!(error.to_string().contains("1048576 rows × 16384 columns"), "{error}");
    }

    /// A zip holding `entries` (name, bytes), deflated.
    fn zip_file(extension: &str, entries: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let f = tempfile::Builder::new().suffix(extension).tempfile().expect("temp file");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(f.path()).expect("create"));
        for (name, bytes) in entries {
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            zip.start_file(*name, options).expect("entry");
            zip.write_all(bytes).expect("write");
        }
        zip.finish().expect("finish");
        f
    }

    #[test]
    fn zipped_workbooks_of_other_formats_are_refused_before_they_expand() {
        let bomb = vec![0u8; 4 * 1024 * 1024];
        for extension in [".xlsb", ".ods"] {
            let f = zip_file(extension, &[("mimetype", b"x"), ("content.xml", &bomb), ("xl/workbook.bin", &bomb)]);
            for refused in [
                InventoryFile::check_limits(f.path(), None).err(),
                InventoryFile::open(f.path(), None, Encoding::Auto).err(),
            ] {
                let error = refused.expect("refused");
                assert!(matches!(error, IngestError::WorkbookTooLarge { .. }), "{extension}: {error}");
                assert!(error.to_string().contains("a zip bomb"), "{error}");
            }
        }
    }

    const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";

    fn ods(rows: &str) -> tempfile::NamedTempFile {
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="vInfo">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        let manifest = br#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
        zip_file(
            ".ods",
            &[("mimetype", ODS_MIMETYPE), ("META-INF/manifest.xml", manifest), ("content.xml", content.as_bytes())],
        )
    }

    #[test]
    fn ods_sheets_are_measured_before_they_are_loaded() {
        let header = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>VM</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>CPUs</text:p></table:table-cell></table:table-row>"#;
        let data = r#"<table:table-row><table:table-cell office:value-type="string"><text:p>web-01</text:p></table:table-cell><table:table-cell office:value-type="float" office:value="4"><text:p>4</text:p></table:table-cell></table:table-row>"#;
        // LibreOffice pads every sheet with empty rows and columns repeated to its edge.
        let padding = r#"<table:table-row table:number-rows-repeated="1048574"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>"#;
        let fine = ods(&format!("{header}{data}{padding}"));
        InventoryFile::check_limits(fine.path(), None).expect("empty padding is no content");
        let (shape, rows) = records(&fine);
        assert_eq!((shape.format, shape.headers.len(), rows.len()), ("ods", 2, 1));
        assert_eq!(rows[0].data["CPUs"], "4");

        // One value repeated over a million rows: 2 million cells once calamine expands them.
        let far = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="6" office:value-type="float" office:value="1"/></table:table-row>"#;
        let refused = ods(&format!("{header}{far}"));
        for error in [
            InventoryFile::check_limits(refused.path(), None).err(),
            InventoryFile::open(refused.path(), None, Encoding::Auto).err(),
        ] {
            let error = error.expect("refused");
            assert!(error.to_string().contains("limit of 5000000"), "{error}");
        }
        // A value past the last column a sheet may have.
        let wide = r#"<table:table-row><table:table-cell table:number-columns-repeated="5000"/><table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>"#;
        let error = InventoryFile::check_limits(ods(&format!("{header}{wide}")).path(), None).expect_err("refused");
        assert!(error.to_string().contains("row 2 column 5001"), "{error}");
    }

    /// An Excel 97-2003 compound file whose Workbook stream holds `records` (type, body)
    /// after the globals substream.
    fn xls(records: &[(u16, Vec<u8>)]) -> tempfile::NamedTempFile {
        let f = tempfile::Builder::new().suffix(".xls").tempfile().expect("temp file");
        let mut compound = cfb::create(f.path()).expect("compound file");
        let mut stream = compound.create_stream("/Workbook").expect("stream");
        let bof = (0x0809u16, vec![0u8; 16]);
        let eof = (0x000Au16, Vec::new());
        let all = [bof.clone(), eof.clone(), bof].into_iter().chain(records.iter().cloned()).chain([eof]);
        for (kind, body) in all {
            stream.write_all(&kind.to_le_bytes()).expect("type");
            stream.write_all(&(body.len() as u16).to_le_bytes()).expect("length");
            stream.write_all(&body).expect("body");
        }
        stream.flush().expect("flush");
        f
    }

    fn number_cell(row: u16, column: u16) -> (u16, Vec<u8>) {
        let mut body = [row.to_le_bytes(), column.to_le_bytes(), [0, 0]].concat();
        body.extend(1.0f64.to_le_bytes());
        (0x0203, body)
    }

    fn dimensions(rows: u32, columns: u16) -> (u16, Vec<u8>) {
        (
            0x0200,
            [0u32.to_le_bytes().as_slice(), &rows.to_le_bytes(), &0u16.to_le_bytes(), &columns.to_le_bytes(), &[0, 0]]
                .concat(),
        )
    }

    #[test]
    fn xls_workbooks_are_measured_record_by_record_before_they_are_loaded() {
        let small = xls(&[dimensions(2, 2), number_cell(0, 0), number_cell(1, 1)]);
        InventoryFile::check_limits(small.path(), None).expect("a small sheet passes");
        let cases = [
            (xls(&[number_cell(0, 0), number_cell(65_535, 255)]), "sheet 1 spans 65536 rows × 256 columns"),
            (xls(&[dimensions(u32::MAX, 256)]), "sheet 1 declares 4294967295 rows × 256 columns"),
        ];
        for (f, expected) in cases {
            for error in [
                InventoryFile::check_limits(f.path(), None).err(),
                InventoryFile::open(f.path(), None, Encoding::Auto).err(),
            ] {
                let error = error.expect("refused");
                assert!(matches!(error, IngestError::WorkbookTooLarge { .. }), "{error}");
                assert!(error.to_string().contains(expected), "{error}");
            }
        }
        let error =
            InventoryFile::check_limits(file(b"not a compound file", ".xls").path(), None).expect_err("refused");
        assert!(error.to_string().contains("not an Excel 97-2003 workbook"), "{error}");
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
            (b"Name,OS,name\n", "row 1: duplicate column headers: \"name\" at columns 1 and 3"),
            (b"Name,,OS\n", "row 1: header of column 2 is empty"),
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
