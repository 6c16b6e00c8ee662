//! Value sniffing: what a column's sample values look like (IP addresses, MACs, host names, OS
//! names, environment words, numbers and their range), as evidence for or against a target.

use std::net::IpAddr;

use modernize::discovery::cleansing::parse_number;
use modernize::discovery::values::{NumberError, parse_quantity};
use serde_json::{Map, Value};

/// Fractions are of the non-empty sample values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueProfile {
    pub non_empty: usize,
    pub ip: f64,
    pub mac: f64,
    pub fqdn: f64,
    /// One DNS label or an FQDN, with a letter, no spaces, not an IP.
    pub host_like: f64,
    pub os: f64,
    pub environment: f64,
    pub criticality: f64,
    pub numeric: f64,
    pub integer: f64,
    pub uuid: f64,
    /// Numbers written with a size unit (`512 MB`); their magnitudes below are in GB.
    pub sized: f64,
    /// Values with more than one word.
    pub multi_word: f64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub median: Option<f64>,
    /// The 90th percentile: range checks use it so that one outlier (a monitoring spike, a typo)
    /// cannot veto a column.
    pub p90: Option<f64>,
}

impl ValueProfile {
    /// Enough values to argue from.
    pub fn has_evidence(&self) -> bool {
        self.non_empty >= 3
    }
}

/// Whether lower-case text names an operating system, word by word (one pass, no searching).
fn names_os(lower: &str) -> bool {
    let mut previous = "";
    for word in lower.split(|c: char| !(c.is_alphanumeric() || c == '-')).filter(|w| !w.is_empty()) {
        let known = matches!(
            word,
            "windows"
                | "linux"
                | "ubuntu"
                | "rhel"
                | "centos"
                | "debian"
                | "suse"
                | "sles"
                | "solaris"
                | "aix"
                | "hp-ux"
                | "freebsd"
                | "esxi"
                | "rocky"
                | "almalinux"
                | "fedora"
                | "macos"
                | "photon"
                | "opensuse"
        ) || (previous == "red" && word == "hat")
            || (previous == "os" && word == "x");
        if known {
            return true;
        }
        previous = word;
    }
    false
}

const ENVIRONMENT_WORDS: [&str; 20] = [
    "prod",
    "prd",
    "production",
    "live",
    "dev",
    "development",
    "sandbox",
    "test",
    "tst",
    "qa",
    "uat",
    "testing",
    "stage",
    "stg",
    "staging",
    "preprod",
    "pre-prod",
    "pre-production",
    "dr",
    "disaster recovery",
];
const CRITICALITY_WORDS: [&str; 12] = [
    "critical",
    "high",
    "medium",
    "low",
    "tier",
    "mission critical",
    "moderate",
    "minor",
    "very high",
    "1 - critical",
    "2 - high",
    "3 - moderate",
];

/// Profiles the values of `column` in `samples`.
pub fn sniff(column: &str, samples: &[Map<String, Value>]) -> ValueProfile {
    let mut counts = Counts::default();
    let mut numbers: Vec<f64> = Vec::new();
    let mut lower = String::new();
    for row in samples {
        let owned;
        let text = match row.get(column) {
            Some(Value::String(s)) => s.trim(),
            Some(Value::Number(n)) => {
                owned = n.to_string();
                owned.as_str()
            }
            Some(Value::Bool(b)) => {
                if *b {
                    "true"
                } else {
                    "false"
                }
            }
            _ => continue,
        };
        if text.is_empty() {
            continue;
        }
        counts.non_empty += 1;
        if let Some((x, sized)) = number(text) {
            counts.sized += usize::from(sized);
            numbers.push(x);
            counts.integer += usize::from(x.fract() == 0.0);
            // A number is none of the other kinds.
            continue;
        }
        lower.clear();
        if text.is_ascii() {
            // Unicode case tables cost far more than the rest of the sniffing together.
            lower.push_str(text);
            lower.make_ascii_lowercase();
        } else {
            lower.extend(text.chars().flat_map(char::to_lowercase));
        }
        let ip = is_ip_list(text);
        let host_like = !ip && is_host_like(text);
        counts.ip += usize::from(ip);
        counts.mac += usize::from(is_mac(text));
        counts.host_like += usize::from(host_like);
        counts.fqdn += usize::from(host_like && is_fqdn(text));
        counts.uuid += usize::from(is_uuid(text));
        counts.multi_word += usize::from(text.contains(char::is_whitespace));
        counts.os += usize::from(names_os(&lower));
        counts.environment += usize::from(ENVIRONMENT_WORDS.contains(&lower.as_str()));
        counts.criticality += usize::from(
            CRITICALITY_WORDS.iter().any(|w| lower.strip_prefix(w).is_some_and(|r| r.is_empty() || r.starts_with(' '))),
        );
    }
    let n = counts.non_empty;
    if n == 0 {
        return ValueProfile::default();
    }
    let share = |count: usize| count as f64 / n as f64;
    numbers.sort_by(f64::total_cmp);
    ValueProfile {
        non_empty: n,
        ip: share(counts.ip),
        mac: share(counts.mac),
        fqdn: share(counts.fqdn),
        host_like: share(counts.host_like),
        os: share(counts.os),
        environment: share(counts.environment),
        criticality: share(counts.criticality),
        numeric: share(numbers.len()),
        integer: share(counts.integer),
        uuid: share(counts.uuid),
        sized: share(counts.sized),
        multi_word: share(counts.multi_word),
        min: numbers.first().copied(),
        max: numbers.last().copied(),
        median: numbers.get(numbers.len() / 2).copied(),
        p90: numbers.get(numbers.len() * 9 / 10).copied(),
    }
}

#[derive(Default)]
struct Counts {
    non_empty: usize,
    ip: usize,
    mac: usize,
    fqdn: usize,
    host_like: usize,
    os: usize,
    environment: usize,
    criticality: usize,
    integer: usize,
    uuid: usize,
    sized: usize,
    multi_word: usize,
}

/// A number (thousands separators, either decimal mark, scientific notation), possibly with a
/// trailing unit or word ("16 GB", "35%", "4 vCPU"), read by the parser the cleansing uses;
/// a size is given in GB, and says so.
fn number(text: &str) -> Option<(f64, bool)> {
    if !text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
        return None;
    }
    match parse_quantity(text, None) {
        Ok(q) => Some(q.gb().map_or((q.value, false), |gb| (gb, true))),
        Err(NumberError::UnknownUnit(_)) => parse_number(text).map(|x| (x, false)),
        Err(_) => None,
    }
}

fn is_ip_list(text: &str) -> bool {
    // Cheap rejection before parsing: addresses start with a hex digit or ':'.
    if !text.starts_with(|c: char| c.is_ascii_hexdigit() || c == ':') {
        return false;
    }
    let mut parts = text.split([',', ';', ' ']).filter(|s| !s.is_empty()).peekable();
    parts.peek().is_some() && parts.all(|p| p.parse::<IpAddr>().is_ok())
}

fn is_mac(text: &str) -> bool {
    let first = text.split([',', ';', ' ']).find(|s| !s.is_empty()).unwrap_or(text);
    let hex = first.bytes().filter(u8::is_ascii_hexdigit).count();
    let separators = first.bytes().filter(|c| matches!(c, b':' | b'-' | b'.')).count();
    hex == 12 && separators + hex == first.len() && separators > 0
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        && !label.starts_with('-')
}

/// Not an IP address (checked by the caller): one DNS label or several, with a letter.
fn is_host_like(text: &str) -> bool {
    text.len() <= 253
        && text.bytes().any(|c| c.is_ascii_alphabetic())
        && text.split('.').all(is_label)
        && !is_uuid(text)
}

/// Host-like (checked by the caller), with at least three labels and an alphabetic top level.
fn is_fqdn(text: &str) -> bool {
    text.split('.').count() >= 3
        && text.rsplit('.').next().is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|c| c.is_ascii_alphabetic()))
}

fn is_uuid(text: &str) -> bool {
    let t = text.trim_matches(|c| c == '{' || c == '}').as_bytes();
    t.len() == 36
        && t.iter()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_hexdigit() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(column: &str, values: &[&str]) -> Vec<Map<String, Value>> {
        values.iter().map(|v| json!({ column: v }).as_object().cloned().unwrap_or_default()).collect()
    }

    #[test]
    fn values_are_recognised() {
        let p = sniff("c", &rows("c", &["10.0.0.1", "10.0.0.2, 10.0.0.3", "fe80::1", ""]));
        assert_eq!((p.non_empty, p.ip), (3, 1.0));
        assert_eq!(sniff("c", &rows("c", &["00:50:56:aa:bb:cc", "00-50-56-AA-BB-CD"])).mac, 1.0);
        let hosts = sniff("c", &rows("c", &["web01.corp.example.com", "db-02", "10.1.1.1"]));
        assert!((hosts.host_like - 2.0 / 3.0).abs() < 1e-9 && (hosts.fqdn - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(sniff("c", &rows("c", &["Microsoft Windows Server 2019", "Ubuntu 22.04"])).os, 1.0);
        assert_eq!(sniff("c", &rows("c", &["PRD", "uat", "Dev"])).environment, 1.0);
        let numbers = sniff("c", &rows("c", &["16384", "8,192", "4096", "n/a", "1e3"]));
        assert_eq!(
            (numbers.numeric, numbers.min, numbers.max, numbers.median),
            (0.8, Some(1000.0), Some(16384.0), Some(8192.0))
        );
        let sized = sniff("c", &rows("c", &["512 MB", "16 GB", "1.5 TB", "99,5 GB"]));
        assert_eq!((sized.sized, sized.min, sized.max), (1.0, Some(0.5), Some(1536.0)), "in GB");
        assert_eq!(sniff("c", &rows("c", &["4206b5a6-3a5f-4c1e-9d1b-0123456789ab"])).uuid, 1.0);
        assert_eq!(sniff("missing", &rows("c", &["x"])), ValueProfile::default());
    }
}
