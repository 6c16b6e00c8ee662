//! One parser for the numbers and quantities of inventory files: decimal point or decimal comma
//! (the file's locale), thousands separators, scientific notation, and a size unit written in
//! the value (`512 MB`, `1.5 TB`, `16GiB`, `2.048 MB`). The cleansing and the field-mapping
//! engine's value sniffing both read numbers through it, so a value means the same to both.
//!
//! Sizes are binary, as inventories count them (RVTools' MiB, Windows' "GB"): 1 GB = 1024 MB.

use serde::{Deserialize, Serialize};

/// The character that separates a number's integer part from its fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecimalMark {
    /// `1,234.5` (English locales); the thousands separator is `,`, a space or `'`.
    Point,
    /// `1.234,5` (most of continental Europe, Excel's CSV there); the thousands separator is
    /// `.`, a space or `'`.
    Comma,
}

impl DecimalMark {
    pub fn symbol(self) -> char {
        match self {
            Self::Point => '.',
            Self::Comma => ',',
        }
    }

    fn thousands(self) -> char {
        match self {
            Self::Point => ',',
            Self::Comma => '.',
        }
    }
}

/// A unit of size written in a value or a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeUnit {
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Petabytes,
}

impl SizeUnit {
    pub const ALL: [Self; 6] =
        [Self::Bytes, Self::Kilobytes, Self::Megabytes, Self::Gigabytes, Self::Terabytes, Self::Petabytes];

    /// The unit a word names (`MB`, `MiB`, `mbytes`, `megabytes`…), case-insensitive.
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "b" | "byte" | "bytes" => Self::Bytes,
            "k" | "kb" | "kib" | "kbytes" | "kilobytes" => Self::Kilobytes,
            "m" | "mb" | "mib" | "mbytes" | "megabytes" => Self::Megabytes,
            "g" | "gb" | "gib" | "gbytes" | "gigabytes" => Self::Gigabytes,
            "t" | "tb" | "tib" | "tbytes" | "terabytes" => Self::Terabytes,
            "p" | "pb" | "pib" | "pbytes" | "petabytes" => Self::Petabytes,
            _ => return None,
        })
    }

    /// Factor that turns a quantity in this unit into GB (binary).
    pub fn to_gb(self) -> f64 {
        match self {
            Self::Bytes => 1.0 / 1024.0 / 1024.0 / 1024.0,
            Self::Kilobytes => 1.0 / 1024.0 / 1024.0,
            Self::Megabytes => 1.0 / 1024.0,
            Self::Gigabytes => 1.0,
            Self::Terabytes => 1024.0,
            Self::Petabytes => 1024.0 * 1024.0,
        }
    }

    /// The unit whose factor to GB is `factor` (a mapping's `scale`), if one is.
    pub fn from_gb_factor(factor: f64) -> Option<Self> {
        Self::ALL.into_iter().find(|u| (u.to_gb() / factor - 1.0).abs() < 1e-9)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Kilobytes => "KB",
            Self::Megabytes => "MB",
            Self::Gigabytes => "GB",
            Self::Terabytes => "TB",
            Self::Petabytes => "PB",
        }
    }
}

/// The unit a value carries after its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueUnit {
    Size(SizeUnit),
    Percent,
}

/// A number and the unit written with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    pub value: f64,
    pub unit: Option<ValueUnit>,
}

impl Quantity {
    /// The size in GB when the value carried a size unit.
    pub fn gb(&self) -> Option<f64> {
        match self.unit {
            Some(ValueUnit::Size(unit)) => Some(self.value * unit.to_gb()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("{0:?} is out of range")]
    OutOfRange(String),
    #[error("{0:?} has a unit this field does not take")]
    UnknownUnit(String),
}

/// Parses a number: an optional sign, digits with thousands separators, a fraction after the
/// decimal mark, an exponent (`1e3` = 1000). With `mark` None (or when the value does not fit the
/// file's mark, e.g. `1.5` in a decimal-comma file), the mark is read from the value itself:
/// the last of `.` and `,` when both appear, a separator that appears more than once groups
/// thousands, and a lone `,` followed by exactly three digits (`2,048`) groups thousands.
///
/// Errors: [`NumberError::NotANumber`]; [`NumberError::OutOfRange`] when it overflows an f64.
pub fn parse_number(text: &str, mark: Option<DecimalMark>) -> Result<f64, NumberError> {
    let trimmed = text.trim();
    let parsed = match mark {
        Some(mark) => strict(trimmed, mark).or_else(|| strict(trimmed, guess_mark(trimmed))),
        None => strict(trimmed, guess_mark(trimmed)),
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(x),
        Some(_) => Err(NumberError::OutOfRange(text.trim().to_owned())),
        None => Err(NumberError::NotANumber(text.trim().to_owned())),
    }
}

/// Parses a number followed by an optional unit: a size (`512 MB`, `16GiB`) or `%`.
///
/// Errors: those of [`parse_number`]; [`NumberError::UnknownUnit`] for a word after the number
/// that names no unit (`16 cores` is not a size).
pub fn parse_quantity(text: &str, mark: Option<DecimalMark>) -> Result<Quantity, NumberError> {
    let trimmed = text.trim();
    let number_end = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_digit() || *c == '.')
        .map_or(0, |(i, c)| i + c.len_utf8());
    let (number, unit) = trimmed.split_at(number_end);
    let unit = unit.trim();
    let value = parse_number(number, mark).map_err(|e| match e {
        NumberError::NotANumber(_) => NumberError::NotANumber(trimmed.to_owned()),
        other => other,
    })?;
    let unit = match unit {
        "" => None,
        "%" => Some(ValueUnit::Percent),
        word => Some(ValueUnit::Size(SizeUnit::parse(word).ok_or_else(|| NumberError::UnknownUnit(trimmed.into()))?)),
    };
    Ok(Quantity { value, unit })
}

/// The decimal mark a set of cells shows: a `,` followed by other than three digits (`99,5`),
/// or `.` groups before a `,` (`1.234,5`), are evidence of a decimal comma; the mirror images
/// of a decimal point. None without evidence either way, or with evidence both ways as strong.
pub fn detect_decimal_mark<'a>(cells: impl IntoIterator<Item = &'a str>) -> Option<DecimalMark> {
    let (mut point, mut comma) = (0usize, 0usize);
    for cell in cells {
        let cell = cell.trim();
        if cell.is_empty() || cell.len() > 40 || !cell.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            continue;
        }
        let number = cell.trim_end_matches(|c: char| c.is_alphabetic() || c == '%' || c == ' ');
        if !number.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-')) {
            continue;
        }
        match evidence(number) {
            Some(DecimalMark::Point) => point += 1,
            Some(DecimalMark::Comma) => comma += 1,
            None => {}
        }
    }
    match (point, comma) {
        (0, 0) => None,
        (p, c) if c > p => Some(DecimalMark::Comma),
        (p, c) if p > c => Some(DecimalMark::Point),
        _ => None,
    }
}

/// What one number says of the decimal mark, when it says anything (an IP address or a date
/// with dots says nothing: its groups are not thousands).
fn evidence(number: &str) -> Option<DecimalMark> {
    let (dots, commas) = (number.matches('.').count(), number.matches(',').count());
    let mark = match (dots, commas) {
        (0, 0) => return None,
        (_, 0) if dots > 1 => DecimalMark::Comma,
        (0, _) if commas > 1 => DecimalMark::Point,
        (0, 1) if digits_after(number, ',') == 3 => return None,
        (0, 1) => DecimalMark::Comma,
        (1, 0) if digits_after(number, '.') == 3 => return None,
        (1, 0) => DecimalMark::Point,
        _ if number.rfind(',') > number.rfind('.') => DecimalMark::Comma,
        _ => DecimalMark::Point,
    };
    strict(number, mark).is_some().then_some(mark)
}

fn digits_after(number: &str, separator: char) -> usize {
    number.rsplit(separator).next().map_or(0, |tail| tail.bytes().take_while(u8::is_ascii_digit).count())
}

/// The mark a lone value suggests (see [`parse_number`]).
fn guess_mark(text: &str) -> DecimalMark {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    evidence(mantissa).unwrap_or(DecimalMark::Point)
}

/// Parses `text` under `mark`; None when it is not a well-formed number there.
fn strict(text: &str, mark: DecimalMark) -> Option<f64> {
    let (negative, body) = match text.strip_prefix(['-', '\u{2212}']) {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (integer, fraction) = match mantissa.split_once(mark.symbol()) {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let mut digits = String::with_capacity(text.len());
    if negative {
        digits.push('-');
    }
    push_grouped(&mut digits, integer, mark)?;
    if let Some(fraction) = fraction {
        if fraction.is_empty() && integer.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push('.');
        digits.push_str(fraction);
    } else if integer.is_empty() {
        return None;
    }
    if let Some(exponent) = exponent {
        let digits_only = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if digits_only.is_empty() || !digits_only.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.push('e');
        digits.push_str(exponent);
    }
    digits.parse::<f64>().ok()
}

/// Appends the integer part's digits: plain, or in groups of three after a first group of one to
/// three, separated by the mark's thousands separator, a space (also no-break) or `'`.
fn push_grouped(out: &mut String, integer: &str, mark: DecimalMark) -> Option<()> {
    let is_separator = |c: char| c == mark.thousands() || matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'');
    let groups: Vec<&str> = integer.split(is_separator).collect();
    if groups.iter().any(|g| !g.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
    }
    groups.iter().for_each(|g| out.push_str(g));
    Some(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn notations() {
        let cases: [(&str, Option<DecimalMark>, f64); 18] = [
            ("16", None, 16.0),
            ("1e3", None, 1000.0),
            ("1.5E+2", None, 150.0),
            ("-2.5e-1", None, -0.25),
            ("99,5", None, 99.5),
            ("99,5", Some(DecimalMark::Comma), 99.5),
            ("2,048", None, 2048.0),
            ("2,048", Some(DecimalMark::Comma), 2.048),
            ("2.048", Some(DecimalMark::Comma), 2048.0),
            ("1.234.567,89", None, 1_234_567.89),
            ("1,234,567.89", None, 1_234_567.89),
            ("1 234,5", Some(DecimalMark::Comma), 1234.5),
            ("1'234.5", Some(DecimalMark::Point), 1234.5),
            ("1\u{a0}024", None, 1024.0),
            ("1.5", Some(DecimalMark::Comma), 1.5),
            (".5", None, 0.5),
            ("+7", None, 7.0),
            ("\u{2212}3", None, -3.0),
        ];
        for (text, mark, expected) in cases {
            assert_eq!(parse_number(text, mark), Ok(expected), "{text:?} under {mark:?}");
        }
        for bad in ["", "abc", "1,2,3", "12,34,567", "1e", "--1", "1..2", "0x10", "e5"] {
            assert!(matches!(parse_number(bad, None), Err(NumberError::NotANumber(_))), "{bad:?}");
        }
        assert_eq!(parse_number("1e400", None), Err(NumberError::OutOfRange("1e400".into())));
    }

    #[test]
    fn quantities_carry_their_unit() {
        let gb = |text: &str, mark| parse_quantity(text, mark).ok().and_then(|q| q.gb());
        assert_eq!(gb("512 MB", None), Some(0.5));
        assert_eq!(gb("1.5 TB", None), Some(1536.0));
        assert_eq!(gb("16GiB", None), Some(16.0));
        assert_eq!(gb("2,048 MB", None), Some(2.0));
        assert_eq!(gb("1,5 TB", Some(DecimalMark::Comma)), Some(1536.0));
        assert_eq!(parse_quantity("35%", None), Ok(Quantity { value: 35.0, unit: Some(ValueUnit::Percent) }));
        assert_eq!(parse_quantity("16", None), Ok(Quantity { value: 16.0, unit: None }));
        assert!(matches!(parse_quantity("16 cores", None), Err(NumberError::UnknownUnit(_))));
        assert!(matches!(parse_quantity("n/a", None), Err(NumberError::NotANumber(_))));
        assert_eq!(SizeUnit::from_gb_factor(1.0 / 1024.0), Some(SizeUnit::Megabytes));
    }

    #[test]
    fn the_decimal_mark_is_read_from_the_cells() {
        let european = ["4", "16384", "99,5", "250,75", "35,5", "Ubuntu 22.04"];
        assert_eq!(detect_decimal_mark(european), Some(DecimalMark::Comma));
        assert_eq!(detect_decimal_mark(["1.5", "2,048", "3.25"]), Some(DecimalMark::Point));
        assert_eq!(detect_decimal_mark(["1.234.567", "2"]), Some(DecimalMark::Comma));
        assert_eq!(detect_decimal_mark(["2,048", "16", "10.0.0.1"]), None, "ambiguous or not numbers");
    }

    /// How a spreadsheet in the locale of `mark` writes `value`, with or without thousands.
    fn write(value: f64, decimals: usize, mark: DecimalMark, grouped: bool) -> String {
        let plain = format!("{value:.decimals$}");
        let (integer, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
        let (sign, integer) = integer.strip_prefix('-').map_or(("", integer), |i| ("-", i));
        let mut out = String::from(sign);
        for (i, digit) in integer.chars().enumerate() {
            if grouped && i > 0 && (integer.len() - i) % 3 == 0 {
                out.push(mark.thousands());
            }
            out.push(digit);
        }
        if !fraction.is_empty() {
            out.push(mark.symbol());
            out.push_str(fraction);
        }
        out
    }

    fn marks() -> impl Strategy<Value = DecimalMark> {
        prop_oneof![Just(DecimalMark::Point), Just(DecimalMark::Comma)]
    }

    fn units() -> impl Strategy<Value = (SizeUnit, &'static str)> {
        prop_oneof![
            Just((SizeUnit::Megabytes, "MB")),
            Just((SizeUnit::Megabytes, "MiB")),
            Just((SizeUnit::Gigabytes, "GB")),
            Just((SizeUnit::Gigabytes, "GiB")),
            Just((SizeUnit::Terabytes, "TB")),
            Just((SizeUnit::Kilobytes, "KB")),
            Just((SizeUnit::Bytes, "bytes")),
        ]
    }

    proptest! {
        #[test]
        fn numbers_round_trip_in_every_locale(
            value in -1.0e9f64..1.0e9, decimals in 0usize..4, mark in marks(), grouped: bool
        ) {
            let text = write(value, decimals, mark, grouped);
            let expected: f64 = format!("{value:.decimals$}").parse().expect("plain");
            prop_assert_eq!(parse_number(&text, Some(mark)), Ok(expected), "{}", text);
        }

        #[test]
        fn quantities_round_trip_over_units(
            value in 0.0f64..1.0e6, decimals in 0usize..3, mark in marks(), grouped: bool,
            (unit, word) in units(), space: bool
        ) {
            let number = write(value, decimals, mark, grouped);
            let text = format!("{number}{}{word}", if space { " " } else { "" });
            let expected: f64 = format!("{value:.decimals$}").parse().expect("plain");
            let q = parse_quantity(&text, Some(mark)).expect("parses");
            prop_assert_eq!(q.unit, Some(ValueUnit::Size(unit)), "{}", text);
            prop_assert_eq!(q.value, expected, "{}", text);
            prop_assert!((q.gb().unwrap_or(f64::NAN) - expected * unit.to_gb()).abs() <= 1e-9 * expected.max(1.0));
        }

        #[test]
        fn scientific_notation_is_the_number_it_writes(mantissa in -1000i64..1000, exponent in -5i32..6) {
            let text = format!("{mantissa}e{exponent}");
            prop_assert_eq!(parse_number(&text, None), Ok(text.parse::<f64>().expect("std")));
        }

        #[test]
        fn the_parser_never_panics(text in "\\PC{0,24}") {
            let _ = parse_quantity(&text, None);
            let _ = parse_quantity(&text, Some(DecimalMark::Comma));
        }
    }
}
