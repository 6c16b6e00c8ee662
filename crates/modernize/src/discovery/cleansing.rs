//! Turning a raw record into asset fields: the approved mappings say which column feeds which
//! field; values are normalised (units to GB, OS name and version, environment words, IP and MAC
//! addresses); columns that map to nothing are kept in `custom_attributes`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::models::asset_fields::{ASSET_FIELDS, FieldKind, asset_field};

use super::values::{DecimalMark, NumberError, SizeUnit, ValueUnit, parse_number as parse_in, parse_quantity};

/// How a mapped value is transformed on its way into the asset (`import_field_mappings.
/// transformation_rules`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformationRules {
    /// Multiply a numeric value, e.g. MiB → GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
    /// Several columns feed one field: their numbers are summed (Disk 1..N → storage_gb).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sum: bool,
    /// Multiply by the value of another column (ServiceNow cpu_core_count × cpu_count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiply_by_column: Option<String>,
    /// The unit the column's header (or the format's profile) states for its values; a value
    /// that carries a unit of its own is converted by that one instead, with a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<SizeUnit>,
    /// `scale` comes from a guess on the values' magnitudes, not from a stated unit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unit_guessed: bool,
}

/// One approved mapping, as the cleansing reads it.
#[derive(Debug, Clone)]
pub struct FieldMapping {
    pub source_field: String,
    pub target_field: String,
    pub rules: TransformationRules,
}

/// The result of cleansing one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Cleansed {
    /// Asset columns → JSON values ready for jsonb_populate_record.
    pub asset: Map<String, Value>,
    /// How the record identifies its asset within the engagement, if it can: its strongest key
    /// ([`super::identity::keys`]).
    pub dedup_key: Option<String>,
    /// Its keys a later import may match the asset on ([`super::identity::matching_keys`]).
    pub keys: Vec<String>,
    pub issues: Vec<Value>,
}

/// Parses "16", "16 GB", "1,024.5", "35%", "1e3" into a number (the unit is not applied; see
/// [`parse_quantity`] for that). None for what is not a number or overflows.
pub fn parse_number(text: &str) -> Option<f64> {
    match parse_quantity(text, None) {
        Ok(q) => Some(q.value),
        // "4 vCPU": the number before a word that is not a unit.
        Err(NumberError::UnknownUnit(_)) => {
            parse_in(text.trim().trim_end_matches(|c: char| c.is_alphabetic() || c == ' '), None).ok()
        }
        Err(_) => None,
    }
}

pub fn normalise_environment(text: &str) -> String {
    let word = text.trim().to_lowercase();
    let canonical = match word.as_str() {
        "prod" | "prd" | "production" | "live" | "p" => "production",
        "dev" | "development" | "d" | "sandbox" => "development",
        "test" | "tst" | "qa" | "uat" | "testing" | "t" => "test",
        "stage" | "stg" | "staging" | "preprod" | "pre-prod" | "pre-production" => "staging",
        "dr" | "disaster recovery" => "dr",
        _ => return word,
    };
    canonical.to_owned()
}

fn normalise_asset_type(text: &str) -> Option<&'static str> {
    let word = text.trim().to_lowercase();
    Some(match word.as_str() {
        w if w.contains("virtual") || w == "vm" || w == "guest" => "virtual_machine",
        w if w.contains("load") && w.contains("balanc") => "load_balancer",
        w if w.contains("server") || w == "host" || w == "physical" || w == "bare metal" => "server",
        w if w.contains("database") || w == "db" || w == "dbms" => "database",
        w if w.contains("app") || w.contains("service") => "application",
        w if w.contains("switch") || w.contains("router") || w.contains("firewall") || w.contains("network") => {
            "network"
        }
        w if w.contains("storage") || w.contains("san") || w.contains("nas") => "storage",
        w if w.contains("container") || w.contains("pod") => "container",
        w if w.contains("security group") => "security_group",
        _ => return None,
    })
}

fn normalise_criticality(text: &str) -> Option<&'static str> {
    let word = text.trim().to_lowercase();
    Some(match word.as_str() {
        "critical" | "mission critical" | "tier 0" | "tier 1" | "1" | "1 - critical" | "very high" => "critical",
        "high" | "tier 2" | "2" | "2 - high" | "important" => "high",
        "medium" | "moderate" | "tier 3" | "3" | "3 - moderate" | "normal" => "medium",
        "low" | "tier 4" | "4" | "4 - low" | "5" | "5 - planning" | "minor" => "low",
        _ => return None,
    })
}

/// "Microsoft Windows Server 2012 R2 Standard" → ("Microsoft Windows Server", "2012 R2 Standard"):
/// the version starts at the first word holding a digit.
pub fn split_os(text: &str) -> (String, Option<String>) {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.iter().position(|w| w.chars().any(|c| c.is_ascii_digit())) {
        Some(0) | None => (text.trim().to_owned(), None),
        Some(i) => (words[..i].join(" "), Some(words[i..].join(" "))),
    }
}

/// A MAC address as six lower-case pairs separated by `:`; None when it is none.
pub(crate) fn normalise_mac(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(char::is_ascii_hexdigit).collect::<String>().to_lowercase();
    let separators_only = text.chars().all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'));
    (hex.len() == 12 && separators_only).then(|| {
        hex.as_bytes().chunks(2).map(|pair| String::from_utf8_lossy(pair).into_owned()).collect::<Vec<_>>().join(":")
    })
}

fn issue(field: &str, message: String) -> Value {
    json!({"kind": "cleansing", "severity": "warning", "column": field, "message": message})
}

/// `number`, read for `field` from the file's `column` (the first of them when several are
/// summed), is not `what`.
fn out_of_range(column: &str, field: &str, number: f64, what: &str) -> Value {
    json!({"kind": "out_of_range", "severity": "warning", "column": column,
           "message": format!("{number} is not {what}; {field} left empty")})
}

/// One column's value as a number for `target`, in the target's unit: a size carried by the
/// value wins over the column's stated or guessed unit (a disagreement is a warning), a value
/// without a unit takes the column's scale. None, with an issue, when it is not one.
fn read_number(
    value: &str,
    target: &str,
    kind: FieldKind,
    m: &FieldMapping,
    mark: Option<DecimalMark>,
    issues: &mut Vec<Value>,
) -> Option<f64> {
    let source = m.source_field.as_str();
    let quantity = match parse_quantity(value, mark) {
        Ok(q) => q,
        Err(NumberError::OutOfRange(_)) => {
            issues.push(json!({"kind": "out_of_range", "severity": "warning", "column": source,
                               "message": format!("{value:?} is out of range for {target}; left empty")}));
            return None;
        }
        Err(NumberError::UnknownUnit(_)) if !matches!(kind, FieldKind::Gigabytes { .. }) => {
            // "4 vCPU", "2 sockets": the number before a word that is not a size.
            return match parse_number(value) {
                Some(n) => Some(n * m.rules.scale.unwrap_or(1.0)),
                None => {
                    issues.push(issue(source, format!("{value:?} is not a number for {target}")));
                    None
                }
            };
        }
        Err(e) => {
            issues.push(issue(source, format!("{e} for {target}")));
            return None;
        }
    };
    match quantity.unit {
        Some(ValueUnit::Size(unit)) if matches!(kind, FieldKind::Gigabytes { .. }) => {
            let stated = m.rules.unit.or_else(|| m.rules.scale.and_then(SizeUnit::from_gb_factor));
            if let Some(stated) = stated.filter(|s| *s != unit) {
                issues.push(json!({"kind": "unit_mismatch", "severity": "warning", "column": source,
                    "message": format!("{value:?} says {}, the column says {}: converted as {}", unit.label(), stated.label(), unit.label())}));
            }
            Some(quantity.value * unit.to_gb())
        }
        Some(ValueUnit::Size(unit)) => {
            issues.push(issue(source, format!("{value:?} is a size in {}, not a value for {target}", unit.label())));
            None
        }
        Some(ValueUnit::Percent) if kind != FieldKind::Percent => {
            issues.push(issue(source, format!("{value:?} is a percentage, not a value for {target}")));
            None
        }
        _ => Some(quantity.value * m.rules.scale.unwrap_or(1.0)),
    }
}

/// Headers (squashed: lower-case letters and digits) of the column naming a VM's ESXi host, in
/// order of preference.
pub(crate) const VM_HOST_HEADERS: [&str; 3] = ["host", "esxihost", "esxhost"];

/// What an RVTools vInfo row (or any export with its columns) says beyond asset fields, kept as
/// `custom_attributes.vmware` for the 6R rules and placement (issue 14 item 4): `power_state`
/// (`poweredOn`, `poweredOff`, `suspended`), `template` and `srm_placeholder` (true: not a
/// server; excluded from 6R), `tools_os` (the OS according to VMware Tools), `provisioned_gb` and
/// `in_use_gb` (both kept: provisioned is what to size, in use what to copy), `host`, `cluster`,
/// `resource_pool` and `folder` (where it runs), `vm_name` and `vcenter` (what the other sheets of
/// an RVTools workbook match the VM by when they name no UUID, [`super::rvtools`]). None when
/// the record has none of these columns.
pub fn vmware_facts(raw: &Map<String, Value>, mark: Option<DecimalMark>) -> Option<Map<String, Value>> {
    use super::identity::column;
    let mut facts = Map::new();
    let flag = |text: &str| matches!(text.to_ascii_lowercase().as_str(), "true" | "yes" | "1");
    for (key, headers) in [
        ("power_state", &["powerstate", "powerstatus"][..]),
        ("tools_os", &["osaccordingtothevmwaretools"][..]),
        ("host", &VM_HOST_HEADERS[..]),
        ("cluster", &["cluster"][..]),
        ("resource_pool", &["resourcepool"][..]),
        ("folder", &["folder"][..]),
        ("vm_name", &["vm"][..]),
        ("vcenter", &super::identity::VCENTER_HEADERS[..]),
    ] {
        if let Some(value) = column(raw, headers) {
            facts.insert(key.into(), Value::String(value.to_owned()));
        }
    }
    for (key, headers) in [("template", &["template"][..]), ("srm_placeholder", &["srmplaceholder"][..])] {
        if let Some(value) = column(raw, headers) {
            facts.insert(key.into(), Value::Bool(flag(value)));
        }
    }
    for (key, headers) in
        [("provisioned_gb", &["provisionedmib", "provisionedmb"][..]), ("in_use_gb", &["inusemib", "inusemb"][..])]
    {
        if let Some(mib) = column(raw, headers).and_then(|v| parse_in(v, mark).ok()) {
            facts.insert(key.into(), json!((mib / 1024.0 * 1000.0).round() / 1000.0));
        }
    }
    // A `Host` or `Folder` column alone is no VMware export (a CMDB's Host is often the hostname).
    let specific = ["power_state", "tools_os", "template", "srm_placeholder", "provisioned_gb", "in_use_gb"];
    specific.iter().any(|k| facts.contains_key(*k)).then_some(facts)
}

/// The environment a whole word of a vCenter name stands for (the words of
/// [`normalise_environment`] that are unambiguous inside a name: no single letters, no `live`).
fn environment_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "prod" | "prd" | "production" => "production",
        "dev" | "devel" | "development" => "development",
        "test" | "tst" | "testing" | "qa" | "uat" => "test",
        "stage" | "stg" | "staging" | "preprod" => "staging",
        "dr" => "dr",
        _ => return None,
    })
}

/// The words of a vCenter name, lower-cased: split at every character that is not a letter or
/// digit and between letters and digits (`/DC1/vm/PRD_SQL/web01` → `dc`, `1`, `vm`, `prd`,
/// `sql`, `web`, `01`). Never inside a run of letters: `Product` is not `prod`, `DevOps` not `dev`.
pub fn name_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    for c in name.chars() {
        let boundary =
            !c.is_alphanumeric() || word.chars().last().is_some_and(|last| last.is_ascii_digit() != c.is_ascii_digit());
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The environments the words of one name stand for, each with the word that says it:
/// `non-prod` says nothing (not which one), `pre-prod` is staging.
fn environment_words(name: &str) -> Vec<(&'static str, String)> {
    let words = name_words(name);
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let next = words.get(i + 1).map(String::as_str);
        match (words[i].as_str(), next.and_then(environment_word)) {
            ("non" | "not", Some(_)) => i += 1,
            ("pre", Some("production")) => {
                found.push(("staging", format!("{}-{}", words[i], words[i + 1])));
                i += 1;
            }
            (word, _) => {
                if let Some(environment) = environment_word(word) {
                    found.push((environment, word.to_owned()));
                }
            }
        }
        i += 1;
    }
    found
}

/// The environment a VM's place in vCenter names, for an asset whose import maps no environment
/// (issue 14 item 4): the words of its `folder` and `resource_pool` (facts of [`vmware_facts`]),
/// or, only when both are silent, of its `cluster` (weaker: a cluster often hosts several
/// environments). Returns the environment, if the evidence agrees on one, and the evidence
/// (`{"field", "value", "word", "environment"}` each); evidence for two environments yields
/// none and a warning naming them.
pub fn infer_environment(facts: &Map<String, Value>) -> (Option<&'static str>, Vec<Value>, Option<Value>) {
    let evidence_of = |fields: &[&str]| -> Vec<(&'static str, Value)> {
        fields
            .iter()
            .filter_map(|field| facts.get(*field).and_then(Value::as_str).map(|value| (*field, value)))
            .flat_map(|(field, value)| {
                environment_words(value).into_iter().map(move |(environment, word)| {
                    (environment, json!({"field": field, "value": value, "word": word, "environment": environment}))
                })
            })
            .collect()
    };
    let mut evidence = evidence_of(&["folder", "resource_pool"]);
    if evidence.is_empty() {
        evidence = evidence_of(&["cluster"]);
    }
    let mut environments: Vec<&'static str> = evidence.iter().map(|(e, _)| *e).collect();
    environments.sort_unstable();
    environments.dedup();
    let evidence: Vec<Value> = evidence.into_iter().map(|(_, e)| e).collect();
    match environments.as_slice() {
        [] => (None, evidence, None),
        [one] => (Some(*one), evidence, None),
        several => {
            let said = evidence
                .iter()
                .map(|e| {
                    let text = |key: &str| e[key].as_str().unwrap_or_default().to_owned();
                    format!("{} {:?} says {} ({:?})", text("field"), text("value"), text("environment"), text("word"))
                })
                .collect::<Vec<_>>()
                .join("; ");
            let warning = issue(
                "environment",
                format!("the VM's names point to {}: {said}; environment left empty", several.join(" and ")),
            );
            (None, evidence, Some(warning))
        }
    }
}

/// Cleanses one record under `mappings` (only approved ones, target set), reading numbers with
/// the file's decimal mark (`None`: each value's own, see [`super::values::parse_number`]).
pub fn cleanse(raw: &Map<String, Value>, mappings: &[FieldMapping], mark: Option<DecimalMark>) -> Cleansed {
    let mut asset = Map::new();
    let mut vmware = None;
    let mut issues = Vec::new();
    let mapped: BTreeMap<&str, Vec<&FieldMapping>> = mappings.iter().fold(BTreeMap::new(), |mut acc, m| {
        acc.entry(m.target_field.as_str()).or_default().push(m);
        acc
    });
    let text = |column: &str| raw.get(column).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());

    for (target, sources) in &mapped {
        // A target no longer in the table is read as text (the inventory ignores it).
        let kind = asset_field(target).map_or(FieldKind::Text, |f| f.kind);
        if let Some((low, high)) = kind.range() {
            let mut total: Option<f64> = None;
            let mut read_from = None;
            for m in sources {
                let Some(value) = text(&m.source_field) else { continue };
                let Some(number) = read_number(value, target, kind, m, mark, &mut issues) else { continue };
                let mut number = number;
                if let Some(other) = &m.rules.multiply_by_column {
                    number *= text(other).and_then(|o| parse_in(o, mark).ok()).unwrap_or(1.0);
                }
                total = Some(total.unwrap_or(0.0) + number);
                read_from.get_or_insert(m.source_field.as_str());
                if !m.rules.sum {
                    break;
                }
            }
            let Some(mut number) = total else { continue };
            if !(low..=high).contains(&number) {
                let what =
                    if kind == FieldKind::Percent { "a percentage".to_owned() } else { format!("in {low}..={high}") };
                issues.push(out_of_range(read_from.unwrap_or(target), target, number, &what));
                continue;
            }
            if matches!(kind, FieldKind::Integer { .. }) {
                number = number.round();
                asset.insert((*target).to_owned(), json!(number as i64));
            } else {
                asset.insert((*target).to_owned(), json!((number * 1000.0).round() / 1000.0));
            }
            continue;
        }
        // Text fields: the first mapped column holding a value wins.
        let Some((source, value)) = sources.iter().find_map(|m| text(&m.source_field).map(|v| (&m.source_field, v)))
        else {
            continue;
        };
        let value = match kind {
            FieldKind::Environment => normalise_environment(value),
            FieldKind::AssetType => match normalise_asset_type(value) {
                Some(t) => t.to_owned(),
                None => {
                    issues.push(issue(source, format!("{value:?} is not a known asset type; using other")));
                    "other".to_owned()
                }
            },
            FieldKind::Criticality => match normalise_criticality(value) {
                Some(c) => c.to_owned(),
                None => {
                    issues.push(issue(source, format!("{value:?} is not a criticality level")));
                    continue;
                }
            },
            FieldKind::IpAddress => {
                let first = value.split([',', ';', ' ']).find(|s| !s.is_empty()).unwrap_or(value);
                match first.parse::<IpAddr>() {
                    Ok(ip) => ip.to_string(),
                    Err(_) => {
                        issues.push(issue(source, format!("{value:?} is not an IP address")));
                        continue;
                    }
                }
            }
            FieldKind::MacAddress => match normalise_mac(value) {
                Some(mac) => mac,
                None => {
                    issues.push(issue(source, format!("{value:?} is not a MAC address")));
                    continue;
                }
            },
            FieldKind::TextList => {
                let items: Vec<Value> = value
                    .split([',', ';', '/', '|'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Value::from)
                    .collect();
                asset.insert((*target).to_owned(), Value::Array(items));
                continue;
            }
            _ => value.to_owned(),
        };
        asset.insert((*target).to_owned(), Value::String(value));
    }

    if let Some(facts) = vmware_facts(raw, mark) {
        // VMware Tools reports what runs in the guest; the configuration file what was chosen
        // when the VM was created: the former is the more accurate when present.
        if let Some(os) = facts.get("tools_os").and_then(Value::as_str) {
            asset.insert("operating_system".into(), Value::String(os.to_owned()));
            asset.remove("os_version");
        }
        let mut facts = facts;
        // A mapped environment column always wins; the VM's names only fill a gap.
        if !asset.contains_key("environment") {
            let (environment, evidence, warning) = infer_environment(&facts);
            if let Some(environment) = environment {
                asset.insert("environment".into(), Value::String(environment.to_owned()));
            }
            if !evidence.is_empty() {
                facts.insert("environment_evidence".into(), Value::Array(evidence));
            }
            issues.extend(warning);
        }
        vmware = Some(facts);
    }
    if let Some(os) = asset.get("operating_system").and_then(Value::as_str).map(str::to_owned)
        && !asset.contains_key("os_version")
        && let (name, Some(version)) = split_os(&os)
    {
        asset.insert("operating_system".into(), Value::String(name));
        asset.insert("os_version".into(), Value::String(version));
    }
    if let Some(fqdn) = asset.get("fqdn").and_then(Value::as_str).map(str::to_owned)
        && !asset.contains_key("hostname")
    {
        let host = fqdn.split('.').next().unwrap_or(&fqdn).to_owned();
        asset.insert("hostname".into(), Value::String(host));
    }
    let name = ["hostname", "asset_name", "name", "application_name", "serial_number"]
        .iter()
        .find_map(|f| asset.get(*f).and_then(Value::as_str).map(str::to_owned));
    if let Some(name) = &name {
        asset.entry("name").or_insert_with(|| Value::String(name.clone()));
    }
    let all_keys = super::identity::keys(&asset, raw);
    let dedup_key = all_keys.first().cloned();
    let keys = super::identity::matching_keys(&all_keys);

    // Columns that feed no field are kept, never lost.
    let mapped_sources: Vec<&str> = mappings.iter().map(|m| m.source_field.as_str()).collect();
    let mut custom: Map<String, Value> = raw
        .iter()
        .filter(|(k, v)| !mapped_sources.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(facts) = vmware {
        custom.insert("vmware".into(), Value::Object(facts));
    }
    asset.insert("custom_attributes".into(), Value::Object(custom));

    let key_fields = ASSET_FIELDS.iter().filter(|f| f.completeness);
    let present = key_fields.clone().filter(|f| asset.contains_key(f.name)).count();
    let completeness = (present as f64 * 100.0 / key_fields.count() as f64 * 10.0).round() / 10.0;
    asset.insert("completeness_score".into(), json!(completeness));
    let quality = (100.0 - 15.0 * issues.len() as f64).max(0.0);
    asset.insert("quality_score".into(), json!(quality));
    Cleansed { asset, dedup_key, keys, issues }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(source: &str, target: &str, rules: TransformationRules) -> FieldMapping {
        FieldMapping { source_field: source.into(), target_field: target.into(), rules }
    }

    /// A value outside its field's range is named by the file's column, where a person finds it
    /// (and where the issues page reads the value back), not by the target field.
    #[test]
    fn a_value_out_of_its_fields_range_names_the_files_column() {
        let raw: Map<String, Value> =
            serde_json::from_value(json!({"Host": "web-01", "CPU Utilization %": "140"})).expect("raw");
        let mappings = [
            mapping("Host", "hostname", Default::default()),
            mapping("CPU Utilization %", "cpu_utilization_percent", Default::default()),
        ];
        let c = cleanse(&raw, &mappings, None);
        assert!(c.asset.get("cpu_utilization_percent").is_none());
        let issue = c.issues.iter().find(|i| i["kind"] == "out_of_range").expect("an out_of_range issue");
        assert_eq!(issue["column"], "CPU Utilization %", "{issue}");
        assert_eq!(issue["message"], "140 is not a percentage; cpu_utilization_percent left empty");
    }

    #[test]
    fn values_are_normalised_and_unmapped_columns_kept() {
        let raw: Map<String, Value> = serde_json::from_value(json!({
            "VM": "WEB-01", "OS": "Microsoft Windows Server 2012 R2 Standard", "Memory": "16384",
            "Disk 1": "100", "Disk 2": "50.5", "Env": "PRD", "IP": "10.0.0.5, fe80::1", "MAC": "00-50-56-AB-CD-EF",
            "Owner cost center": "CC-1", "Tier": "Tier 1", "CPU": "2", "Cores per CPU": "4"
        }))
        .expect("raw");
        let mib_to_gb = TransformationRules { scale: Some(1.0 / 1024.0), ..Default::default() };
        let sum = TransformationRules { sum: true, ..Default::default() };
        let mappings = [
            mapping("VM", "hostname", Default::default()),
            mapping("OS", "operating_system", Default::default()),
            mapping("Memory", "memory_gb", mib_to_gb),
            mapping("Disk 1", "storage_gb", sum.clone()),
            mapping("Disk 2", "storage_gb", sum),
            mapping("Env", "environment", Default::default()),
            mapping("IP", "ip_address", Default::default()),
            mapping("MAC", "mac_address", Default::default()),
            mapping("Tier", "business_criticality", Default::default()),
            mapping(
                "Cores per CPU",
                "cpu_cores",
                TransformationRules { multiply_by_column: Some("CPU".into()), ..Default::default() },
            ),
        ];
        let c = cleanse(&raw, &mappings, None);
        assert_eq!(c.asset["hostname"], "WEB-01");
        assert_eq!(c.asset["name"], "WEB-01");
        assert_eq!(c.dedup_key.as_deref(), Some("host:web-01"));
        assert_eq!(c.asset["operating_system"], "Microsoft Windows Server");
        assert_eq!(c.asset["os_version"], "2012 R2 Standard");
        assert_eq!(c.asset["memory_gb"], 16.0);
        assert_eq!(c.asset["storage_gb"], 150.5);
        assert_eq!(c.asset["environment"], "production");
        assert_eq!(c.asset["ip_address"], "10.0.0.5");
        assert_eq!(c.asset["mac_address"], "00:50:56:ab:cd:ef");
        assert_eq!(c.asset["business_criticality"], "critical");
        assert_eq!(c.asset["cpu_cores"], 8);
        assert_eq!(c.asset["custom_attributes"], json!({"Owner cost center": "CC-1", "CPU": "2"}));
        assert!(c.issues.is_empty(), "{:?}", c.issues);
    }

    #[test]
    fn bad_values_are_issues_not_failures() {
        let raw: Map<String, Value> =
            serde_json::from_value(json!({"Name": "db-01", "IP": "10.0.0.999", "CPU %": "250", "RAM": "lots"}))
                .expect("raw");
        let mappings = [
            mapping("Name", "hostname", Default::default()),
            mapping("IP", "ip_address", Default::default()),
            mapping("CPU %", "cpu_utilization_percent", Default::default()),
            mapping("RAM", "memory_gb", Default::default()),
        ];
        let c = cleanse(&raw, &mappings, None);
        assert_eq!(c.issues.len(), 3);
        assert!(!c.asset.contains_key("ip_address") && !c.asset.contains_key("memory_gb"));
        assert_eq!(c.asset["quality_score"], 55.0);
    }

    fn facts(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned()))).collect()
    }

    #[test]
    fn environment_words_are_whole_words_of_vcenter_names() {
        let guess = |folder: &str| infer_environment(&facts(&[("folder", folder)])).0;
        assert_eq!(name_words("/DC1/vm/PRD_SQL/web01"), ["dc", "1", "vm", "prd", "sql", "web", "01"]);
        assert_eq!(guess("/DC1/vm/Prod/Web"), Some("production"));
        assert_eq!(guess("/DC1/vm/PRD_SQL"), Some("production"));
        assert_eq!(guess("/DC1/vm/production"), Some("production"));
        assert_eq!(guess("/DC1/vm/prod01"), Some("production"));
        assert_eq!(guess("/DC1/vm/Dev"), Some("development"));
        assert_eq!(guess("/DC1/vm/QA-Web"), Some("test"));
        assert_eq!(guess("/DC1/vm/UAT"), Some("test"));
        assert_eq!(guess("/DC1/vm/tst"), Some("test"));
        assert_eq!(guess("/DC1/vm/Pre-Prod"), Some("staging"));
        assert_eq!(guess("/DC1/vm/DR"), Some("dr"));
        // Inside another word, never: product is not prod, devops not dev, latest not test.
        for folder in
            ["/DC1/vm/Product Catalog", "/DC1/vm/DevOps", "/DC1/vm/Latest", "/DC1/vm/Drivers", "/DC1/vm/ProdWeb"]
        {
            assert_eq!(guess(folder), None, "{folder}");
        }
        assert_eq!(guess("/DC1/vm/Non-Prod"), None, "non-prod says which it is not, not which it is");
    }

    #[test]
    fn folder_and_pool_agree_or_nothing_is_guessed() {
        let (environment, evidence, warning) = infer_environment(&facts(&[
            ("folder", "/DC/vm/Prod"),
            ("resource_pool", "PRD-Pool"),
            ("cluster", "Dev-CL"),
        ]));
        assert_eq!(environment, Some("production"), "the cluster is weaker evidence than folder and pool");
        assert_eq!(
            evidence,
            [
                json!({"field": "folder", "value": "/DC/vm/Prod", "word": "prod", "environment": "production"}),
                json!({"field": "resource_pool", "value": "PRD-Pool", "word": "prd", "environment": "production"}),
            ]
        );
        assert_eq!(warning, None);

        let (environment, evidence, warning) =
            infer_environment(&facts(&[("folder", "/DC/vm/Prod"), ("resource_pool", "Dev")]));
        assert_eq!((environment, evidence.len()), (None, 2));
        let warning = warning.expect("a conflict is a warning");
        assert_eq!(warning["severity"], "warning");
        let message = warning["message"].as_str().expect("message");
        assert!(
            message.contains("development and production") && message.contains("resource_pool \"Dev\""),
            "{message}"
        );

        let only_cluster = infer_environment(&facts(&[("folder", "/DC/vm/Web"), ("cluster", "CL-Test-01")]));
        assert_eq!(only_cluster.0, Some("test"));
        assert_eq!(only_cluster.1[0]["field"], "cluster");
        assert_eq!(infer_environment(&facts(&[("folder", "/DC/vm/Web")])), (None, vec![], None));
    }

    #[test]
    fn a_mapped_environment_wins_over_vcenter_names() {
        let raw: Map<String, Value> = serde_json::from_value(json!({
            "VM": "web-01", "Powerstate": "poweredOn", "Env": "dev", "Folder": "/DC/vm/Prod"
        }))
        .expect("raw");
        let mut mappings = vec![mapping("VM", "hostname", Default::default())];
        let inferred = cleanse(&raw, &mappings, None);
        assert_eq!(inferred.asset["environment"], "production");
        assert_eq!(inferred.asset["custom_attributes"]["vmware"]["environment_evidence"][0]["word"], "prod");
        mappings.push(mapping("Env", "environment", Default::default()));
        let mapped = cleanse(&raw, &mappings, None);
        assert_eq!(mapped.asset["environment"], "development");
        assert_eq!(mapped.asset["custom_attributes"]["vmware"].get("environment_evidence"), None);
    }

    #[test]
    fn os_strings_split_into_name_and_version() {
        assert_eq!(split_os("Ubuntu 22.04"), ("Ubuntu".into(), Some("22.04".into())));
        assert_eq!(split_os("Red Hat Enterprise Linux 8"), ("Red Hat Enterprise Linux".into(), Some("8".into())));
        assert_eq!(split_os("FreeBSD"), ("FreeBSD".into(), None));
    }
}
