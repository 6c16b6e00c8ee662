//! Header normalisation: the many spellings of one column ("RAM.TotalSizeInMB", "Memory (In MB)*",
//! "ram_mb", "u_ram") become comparable tokens, with the unit, the required marker and the
//! "Disk N" family index taken out and kept aside.

use modernize::discovery::values::SizeUnit;
use serde::Serialize;

/// A unit stated in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Percent,
    Megahertz,
    Gigahertz,
}

impl Unit {
    fn from_token(token: &str) -> Option<Self> {
        Some(match token {
            "bytes" | "byte" => Self::Bytes,
            "kb" | "kib" | "kbytes" | "kilobytes" => Self::Kilobytes,
            "mb" | "mib" | "mbytes" | "megabytes" => Self::Megabytes,
            "gb" | "gib" | "gbytes" | "gigabytes" => Self::Gigabytes,
            "tb" | "tib" | "tbytes" | "terabytes" => Self::Terabytes,
            "%" | "pct" | "percent" | "percentage" => Self::Percent,
            "mhz" => Self::Megahertz,
            "ghz" => Self::Gigahertz,
            _ => return None,
        })
    }

    /// The size this unit is, in the one table of sizes the cleansing also converts by.
    pub fn size_unit(self) -> Option<SizeUnit> {
        match self {
            Self::Bytes => Some(SizeUnit::Bytes),
            Self::Kilobytes => Some(SizeUnit::Kilobytes),
            Self::Megabytes => Some(SizeUnit::Megabytes),
            Self::Gigabytes => Some(SizeUnit::Gigabytes),
            Self::Terabytes => Some(SizeUnit::Terabytes),
            Self::Percent | Self::Megahertz | Self::Gigahertz => None,
        }
    }

    /// Factor that turns a quantity in this unit into GB (binary, as inventories count).
    pub fn to_gb(self) -> Option<f64> {
        self.size_unit().map(SizeUnit::to_gb)
    }

    pub fn is_size(self) -> bool {
        self.to_gb().is_some()
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Kilobytes => "KB",
            Self::Megabytes => "MB",
            Self::Gigabytes => "GB",
            Self::Terabytes => "TB",
            Self::Percent => "%",
            Self::Megahertz => "MHz",
            Self::Gigahertz => "GHz",
        }
    }
}

/// "Disk 3 size (In GB)" belongs to the family `disk`, member 3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Family {
    pub stem: String,
    pub index: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormalisedHeader {
    pub original: String,
    /// Lower-case content words: no unit, no marker, no family number, no filler word.
    pub tokens: Vec<String>,
    /// The tokens glued together: "host name", "HostName" and "hostname" all give "hostname".
    pub compact: String,
    pub unit: Option<Unit>,
    /// Marked required with `*` (Azure Migrate, AWS templates).
    pub required: bool,
    /// A ServiceNow custom field (`u_…`).
    pub custom_prefix: bool,
    pub family: Option<Family>,
    /// A rate ("per second", throughput, IOPS): never a size.
    pub rate: bool,
}

impl NormalisedHeader {
    pub fn key(&self) -> String {
        self.tokens.join(" ")
    }

    pub fn has(&self, token: &str) -> bool {
        self.tokens.iter().any(|t| t == token)
    }
}

/// Words with a digit that are names, not "word + index".
const KEEP_WHOLE: [&str; 13] =
    ["ip4", "ip6", "ipv4", "ipv6", "x64", "x86", "md5", "sha1", "sha256", "s3", "ec2", "32bit", "64bit"];
const FILLER: [&str; 7] = ["the", "of", "to", "a", "an", "according", "is"];
/// Case-sensitive spellings that camelCase splitting would break apart.
const ATOMS: [(&str, &str); 16] = [
    ("VMware", " vmware "),
    ("VMotion", " vmotion "),
    ("vMotion", " vmotion "),
    ("vCenter", " vcenter "),
    ("vSphere", " vsphere "),
    ("vSAN", " vsan "),
    ("vApp", " vapp "),
    ("vCPUs", " vcpus "),
    ("vCPU", " vcpu "),
    ("IPv4", " ipv4 "),
    ("IPv6", " ipv6 "),
    ("GiB", " gib "),
    ("MiB", " mib "),
    ("KiB", " kib "),
    ("TiB", " tib "),
    ("MHz", " mhz "),
];

pub fn normalise(header: &str) -> NormalisedHeader {
    let original = header.to_owned();
    let mut text = header.trim().trim_start_matches('\u{feff}').to_owned();
    let required = text.starts_with('*') || text.ends_with('*');
    text = text.trim_matches(|c| matches!(c, '*' | '^' | ' ')).to_owned();
    for marker in ["(optional)", "(required)", "(mandatory)"] {
        // ASCII lower-casing keeps byte offsets, so `at` is valid in `text` too.
        if let Some(at) = text.to_ascii_lowercase().find(marker) {
            text.replace_range(at..at + marker.len(), " ");
        }
    }
    let custom_prefix = text.len() > 2 && text.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("u_"));
    if custom_prefix {
        text = text[2..].to_owned();
    }
    for (atom, replacement) in ATOMS {
        text = text.replace(atom, replacement);
    }
    // "iPv4Address" as well as "IPv4Address": no word contains these, whatever their case.
    for atom in ["ipv4", "ipv6"] {
        text = replace_ignoring_ascii_case(&text, atom, &format!(" {atom} "));
    }

    let words = split_words(&text);
    let mut tokens: Vec<String> = Vec::with_capacity(words.len());
    let mut unit = None;
    let mut family = None;
    for (i, word) in words.iter().enumerate() {
        if let Some(u) = Unit::from_token(word) {
            unit = unit.or(Some(u));
            // "Size In MB": the "in" belongs to the unit.
            if tokens.last().is_some_and(|t| t == "in") {
                tokens.pop();
            }
            continue;
        }
        if word.chars().all(|c| c.is_ascii_digit()) {
            if family.is_none()
                && i > 0
                && let (Some(stem), Ok(index)) = (tokens.last(), word.parse::<u32>())
            {
                family = Some(Family { stem: stem.clone(), index });
            }
            continue;
        }
        if FILLER.contains(&word.as_str()) {
            continue;
        }
        tokens.push(word.clone());
    }
    let rate = tokens.iter().enumerate().any(|(i, t)| {
        matches!(t.as_str(), "iops" | "ops" | "throughput" | "bandwidth" | "ps")
            || (t == "per" && tokens.get(i + 1).is_some_and(|n| matches!(n.as_str(), "second" | "sec" | "s")))
            || t.ends_with("persecond")
    });
    let compact = tokens.concat();
    NormalisedHeader { original, tokens, compact, unit, required, custom_prefix, family, rate }
}

fn replace_ignoring_ascii_case(text: &str, needle: &str, replacement: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len() + replacement.len());
    let mut rest = 0;
    // ASCII lower-casing keeps byte offsets, so offsets in `lower` are offsets in `text`.
    for (at, _) in lower.match_indices(needle) {
        out.push_str(&text[rest..at]);
        out.push_str(replacement);
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// Words that name the same thing in headers ("Processor count", "# CPU", "RAM used").
const ALIASES: [(&str, &str); 13] = [
    ("processor", "cpu"),
    ("num", "number"),
    ("nr", "number"),
    ("no", "number"),
    ("utilization", "usage"),
    ("utilisation", "usage"),
    ("util", "usage"),
    ("hdd", "disk"),
    ("harddisk", "disk"),
    ("harddrive", "disk"),
    ("ram", "memory"),
    ("mem", "memory"),
    ("addr", "address"),
];

/// A plural word's singular ("cores" → "core", "technologies" → "technology"); other words as
/// they are ("address", "status", "bios").
pub fn singular(token: &str) -> String {
    if token.len() <= 3 || !token.ends_with('s') {
        token.to_owned()
    } else if let Some(base) = token.strip_suffix("ies").filter(|b| b.len() >= 2) {
        format!("{base}y")
    } else if token.ends_with("sses") || token.ends_with("xes") {
        token[..token.len() - 2].to_owned()
    } else if ["ss", "us", "is", "os"].iter().any(|end| token.ends_with(end)) && !token.ends_with("pus") {
        // Singular already, but "cpus", "vcpus", "gpus" are plurals.
        token.to_owned()
    } else {
        token[..token.len() - 1].to_owned()
    }
}

/// The form a token of a header of several words is compared in: singular, and one spelling per
/// meaning ("processor" → "cpu", "nr" → "number", "hdd" → "disk").
pub fn stem(token: &str) -> String {
    let singular = singular(token);
    ALIASES.iter().find(|(from, _)| *from == singular).map_or(singular, |(_, to)| (*to).to_owned())
}

/// Splits on separators, camelCase and letter–digit boundaries; lower-cases the words.
fn split_words(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 8);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '%' => spaced.push_str(" % "),
            // "Network #1" is member 1; "# CPU" is a count.
            '#' if chars.get(i + 1).is_some_and(char::is_ascii_digit) => spaced.push(' '),
            '#' => spaced.push_str(" num "),
            c if c.is_alphanumeric() => spaced.push(c),
            _ => spaced.push(' '),
        }
    }
    let mut words = Vec::new();
    for chunk in spaced.split_whitespace() {
        for word in split_camel(chunk) {
            let lower = word.to_lowercase();
            if KEEP_WHOLE.contains(&lower.as_str()) {
                words.push(lower);
            } else {
                words.extend(split_digits(&lower));
            }
        }
    }
    words
}

fn split_camel(chunk: &str) -> Vec<String> {
    let chars: Vec<char> = chunk.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let after_next = chars.get(i + 2).copied();
        let boundary = match prev {
            Some(p) if c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()) => true,
            // "IPAddress" → IP | Address, but "CPUs" stays whole.
            Some(p) if c.is_uppercase() && p.is_uppercase() => {
                let plural = next == Some('s') && !after_next.is_some_and(char::is_lowercase);
                next.is_some_and(char::is_lowercase) && !plural
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn split_digits(word: &str) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in word.chars() {
        let digit = c.is_ascii_digit();
        match parts.last_mut() {
            Some(last) if last.chars().last().is_some_and(|l| l.is_ascii_digit() == digit) => last.push(c),
            _ => parts.push(c.to_string()),
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(header: &str) -> Vec<String> {
        normalise(header).tokens
    }

    #[test]
    fn real_headers_normalise() {
        let aws = normalise("RAM.TotalSizeInMB");
        assert_eq!(aws.tokens, ["ram", "total", "size"]);
        assert_eq!(aws.unit, Some(Unit::Megabytes));

        let azure = normalise("*Memory (In MB)");
        assert_eq!((azure.compact.as_str(), azure.unit, azure.required), ("memory", Some(Unit::Megabytes), true));

        let disk = normalise("Disk 3 size (In GB)");
        assert_eq!(disk.tokens, ["disk", "size"]);
        assert_eq!(disk.family, Some(Family { stem: "disk".into(), index: 3 }));
        assert_eq!(disk.unit, Some(Unit::Gigabytes));

        assert_eq!(tokens("PrimaryIPAddress(optional)"), ["primary", "ip", "address"]);
        assert_eq!(tokens("OS according to the configuration file"), ["os", "configuration", "file"]);
        assert_eq!(tokens("CPU.NumberOfLogicalCores"), ["cpu", "number", "logical", "cores"]);
        assert_eq!(tokens("vCPUs"), ["vcpus"]);
        assert_eq!(tokens("VMware.VMName"), ["vmware", "vm", "name"]);
        assert_eq!(tokens("# CPU"), ["num", "cpu"]);
        assert_eq!(tokens("primary_ip4"), ["primary", "ip4"]);
        assert_eq!(tokens("iPv4Address"), ["ipv4", "address"]);
        assert_eq!(normalise("MemoryGiB").unit, Some(Unit::Gigabytes));
        assert_eq!(normalise("CPU.UsagePct.Avg").unit, Some(Unit::Percent));
        assert_eq!(normalise("HostName").compact, normalise("host_name").compact);

        let custom = normalise("u_business_owner");
        assert!(custom.custom_prefix);
        assert_eq!(custom.tokens, ["business", "owner"]);

        assert!(normalise("Disk 1 read throughput (MB per second)").rate);
        assert!(normalise("DiskReadsPerSecondInKB.Avg").rate);
        assert!(!normalise("In Use MiB").rate);
    }

    #[test]
    fn tokens_stem_to_one_spelling() {
        let stems = |words: &[&str]| words.iter().map(|w| stem(w)).collect::<Vec<_>>();
        assert_eq!(
            stems(&["cores", "cpus", "processors", "technologies", "addresses", "boxes"]),
            ["core", "cpu", "cpu", "technology", "address", "box"]
        );
        assert_eq!(
            stems(&["address", "status", "bios", "dns", "ips", "vms"]),
            ["address", "status", "bios", "dns", "ips", "vms"]
        );
        assert_eq!(
            stems(&["nr", "num", "no", "util", "utilisation", "hdd", "harddrive", "ram", "mem"]),
            ["number", "number", "number", "usage", "usage", "disk", "disk", "memory", "memory"]
        );
    }
}
