//! Behaviour of the engine: learning, value evidence, units, aggregates, context rules, and the
//! suggestions feeding the real cleansing.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{TimeZone, Utc};
use modernize::discovery::cleansing::{FieldMapping, TransformationRules, cleanse};
use modernize::discovery::ingest::Encoding;
use modernize::discovery::{MappingSuggestion, Suggester};
use modernize::models::asset_fields::is_target_field;
use modernize::repo::mappings::LearnedMapping;
use modernize_mapping::{Engine, SourceProfile, suggest_file};
use serde_json::{Map, Value, json};

fn headers(names: &[&str]) -> Vec<String> {
    names.iter().map(|h| (*h).to_owned()).collect()
}

/// Records from columns of values: `[("IP", ["10.0.0.1", …]), …]`.
fn samples(columns: &[(&str, &[&str])]) -> Vec<Map<String, Value>> {
    let rows = columns.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    (0..rows)
        .map(|i| {
            columns
                .iter()
                .filter_map(|(h, v)| v.get(i).map(|x| ((*h).to_owned(), Value::String((*x).to_owned()))))
                .collect()
        })
        .collect()
}

fn learned(source: &str, target: Option<&str>, approved: bool) -> LearnedMapping {
    LearnedMapping {
        source_field: source.to_owned(),
        target_field: target.map(str::to_owned),
        approved,
        decisions: 2,
        last_decided_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().expect("date"),
    }
}

fn by_header(suggestions: &[MappingSuggestion]) -> BTreeMap<&str, &MappingSuggestion> {
    suggestions.iter().map(|s| (s.source_field.as_str(), s)).collect()
}

fn target<'a>(suggestions: &'a [MappingSuggestion], header: &str) -> Option<&'a str> {
    by_header(suggestions).get(header).and_then(|s| s.target_field.as_deref())
}

fn rules(s: &MappingSuggestion) -> TransformationRules {
    serde_json::from_value(s.transformation_rules.clone()).expect("rules")
}

/// The approved mappings the pipeline would hand to the cleansing.
fn approved(suggestions: &[MappingSuggestion]) -> Vec<FieldMapping> {
    suggestions
        .iter()
        .filter_map(|s| {
            Some(FieldMapping {
                source_field: s.source_field.clone(),
                target_field: s.target_field.clone()?,
                rules: rules(s),
            })
        })
        .collect()
}

#[test]
fn approved_learned_mapping_wins() {
    let engine = Engine::new();
    let h = headers(&["Box", "Memory (MB)"]);
    assert_eq!(target(&engine.suggest(&h, &[], &[]), "Box"), None);

    let suggestions = engine.suggest(&h, &[], &[learned("box", Some("hostname"), true)]);
    let s = by_header(&suggestions)["Box"];
    assert_eq!(s.target_field.as_deref(), Some("hostname"));
    assert_eq!((s.confidence, s.match_type.as_str()), (0.99, "learned"));
    assert!(s.explanation.contains("approved before") && s.explanation.contains("2026-11-20"), "{}", s.explanation);

    // A learned decision also beats a recognised format's own knowledge.
    let vinfo = headers(&["VM", "Powerstate", "CPUs", "Memory", "Provisioned MiB", "In Use MiB", "Host"]);
    let suggestions = engine.suggest(&vinfo, &[], &[learned("Host", Some("hostname"), true)]);
    assert_eq!(target(&suggestions, "Host"), Some("hostname"));
    assert_ne!(target(&suggestions, "VM"), Some("hostname"), "one column per field");
}

#[test]
fn learned_units_and_spellings_carry_over() {
    let engine = Engine::new();
    // Learned on "Mem (MB)"; the new file spells it "MEM (MB)*".
    let suggestions = engine.suggest(&headers(&["MEM (MB)*"]), &[], &[learned("Mem (MB)", Some("memory_gb"), true)]);
    let s = by_header(&suggestions)["MEM (MB)*"];
    assert_eq!(s.target_field.as_deref(), Some("memory_gb"));
    assert_eq!(rules(s).scale, Some(1.0 / 1024.0), "the unit still converts");
}

#[test]
fn learned_spellings_keep_one_column_per_field() {
    let engine = Engine::new();
    // Learned on "Disk 1 size": every numbered disk size follows, summed.
    let h = headers(&["Name", "Disk 1 size", "Disk 2 size"]);
    let suggestions = engine.suggest(&h, &[], &[learned("Disk 1 size", Some("storage_gb"), true)]);
    for disk in ["Disk 1 size", "Disk 2 size"] {
        let s = by_header(&suggestions)[disk];
        assert_eq!((s.target_field.as_deref(), rules(s).sum), (Some("storage_gb"), true), "{disk}");
    }
    // Learned on "IP 1": "IP 2" is another spelling, but a plain field still takes one column.
    let h = headers(&["Name", "IP 1", "IP 2"]);
    let suggestions = engine.suggest(&h, &[], &[learned("IP 1", Some("ip_address"), true)]);
    assert_eq!(target(&suggestions, "IP 1"), Some("ip_address"));
    assert_eq!(target(&suggestions, "IP 2"), None);
}

#[test]
fn rejected_learned_mapping_vetoes_the_pair() {
    let engine = Engine::new();
    let h = headers(&["Server", "IP"]);
    assert_eq!(target(&engine.suggest(&h, &[], &[]), "Server"), Some("hostname"));

    let suggestions = engine.suggest(&h, &[], &[learned("server", Some("hostname"), false)]);
    let s = by_header(&suggestions)["Server"];
    assert_ne!(s.target_field.as_deref(), Some("hostname"));
    assert!(s.explanation.contains("rejected before"), "{}", s.explanation);
    assert!(s.alternatives.as_array().is_some_and(|a| a.iter().all(|x| x["target_field"] != "hostname")));
}

#[test]
fn approved_unmapped_and_stale_targets() {
    let engine = Engine::new();
    let h = headers(&["Server", "Owner"]);
    let suggestions =
        engine.suggest(&h, &[], &[learned("Server", None, true), learned("Owner", Some("no_such_field"), true)]);
    let server = by_header(&suggestions)["Server"];
    assert_eq!((server.target_field.as_deref(), server.match_type.as_str()), (None, "learned"));
    // A decision naming a field the model no longer has is ignored, not obeyed.
    assert_eq!(target(&suggestions, "Owner"), Some("business_owner"));
}

#[test]
fn values_boost_and_veto() {
    let engine = Engine::new();
    let ips: &[&str] = &["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"];
    let names: &[&str] = &["web-01", "web-02", "db-01", "db-02"];
    let data = samples(&[("Field 7", ips), ("Server", ips), ("Node", names)]);
    let suggestions = engine.suggest(&headers(&["Field 7", "Server", "Node"]), &data, &[]);
    let field7 = by_header(&suggestions)["Field 7"];
    assert_eq!((field7.target_field.as_deref(), field7.match_type.as_str()), (Some("ip_address"), "value"));
    assert!(field7.confidence < 0.9);
    // "Server" full of IP addresses is not a host name.
    assert_ne!(target(&suggestions, "Server"), Some("hostname"));
    assert_eq!(target(&suggestions, "Node"), None, "'Node' alone says too little");

    let envs = samples(&[("Environment", &["1", "2", "3", "4"]), ("Env", &["PRD", "UAT", "dev", "prod"])]);
    let suggestions = engine.suggest(&headers(&["Environment", "Env"]), &envs, &[]);
    assert_eq!(target(&suggestions, "Environment"), None, "numbers are not environments");
    let env = by_header(&suggestions)["Env"];
    assert_eq!(env.target_field.as_deref(), Some("environment"));
    assert!(env.explanation.contains("environment names"), "{}", env.explanation);

    let pct = samples(&[("CPU Usage", &["150", "320", "99", "400"])]);
    assert_eq!(target(&engine.suggest(&headers(&["CPU Usage"]), &pct, &[]), "CPU Usage"), None);
}

#[test]
fn units_become_scales() {
    let engine = Engine::new();
    // No unit in the headers: the values decide.
    let data = samples(&[("RAM", &["8192", "16384", "4096"]), ("Disk", &["100", "250", "80"])]);
    let suggestions = engine.suggest(&headers(&["RAM", "Disk"]), &data, &[]);
    let ram = by_header(&suggestions)["RAM"];
    assert_eq!(ram.target_field.as_deref(), Some("memory_gb"));
    assert_eq!(rules(ram).scale, Some(1.0 / 1024.0));
    assert!(ram.explanation.contains("MB guessed from the values' magnitudes"), "{}", ram.explanation);
    assert!(rules(ram).unit_guessed && ram.confidence <= 0.85, "a guess is never approved at 0.9");
    let disk = by_header(&suggestions)["Disk"];
    assert_eq!((disk.target_field.as_deref(), rules(disk).scale), (Some("storage_gb"), None));

    // Stated units win over guesses, and convert.
    let h = headers(&["RAM", "RAM.TotalSizeInMB", "Disk", "Storage (TB)"]);
    let suggestions = engine.suggest(&h, &data, &[]);
    assert_eq!(target(&suggestions, "RAM.TotalSizeInMB"), Some("memory_gb"));
    assert_eq!(target(&suggestions, "Storage (TB)"), Some("storage_gb"));
    assert_eq!(rules(by_header(&suggestions)["Storage (TB)"]).scale, Some(1024.0));
    let ram = by_header(&suggestions)["RAM"];
    assert_eq!(ram.target_field, None);
    assert!(ram.explanation.contains("went to 'RAM.TotalSizeInMB'"), "{}", ram.explanation);
}

#[test]
fn disk_families_are_summed_into_storage() {
    let engine = Engine::new();
    let h = headers(&["Hostname", "Disk 1 (GB)", "Disk 2 (GB)", "Disk 3 (GB)", "Disk 1 IOPS"]);
    let suggestions = engine.suggest(&h, &[], &[]);
    let disks: Vec<&MappingSuggestion> = suggestions.iter().filter(|s| s.source_field.ends_with("(GB)")).collect();
    assert!(disks.iter().all(|s| s.target_field.as_deref() == Some("storage_gb") && rules(s).sum));
    assert!(disks.windows(2).all(|w| w[0].confidence == w[1].confidence), "one aggregate, one confidence");
    assert!(disks[0].explanation.contains("summed with"), "{}", disks[0].explanation);
    assert_eq!(target(&suggestions, "Disk 1 IOPS"), None);

    let raw: Map<String, Value> = serde_json::from_value(json!({
        "Hostname": "app-01", "Disk 1 (GB)": "100", "Disk 2 (GB)": "50", "Disk 3 (GB)": "", "Disk 1 IOPS": "300"
    }))
    .expect("raw");
    let asset = cleanse(&raw, &approved(&suggestions), None).asset;
    assert_eq!(asset["storage_gb"], 150.0);
    assert_eq!(asset["custom_attributes"]["Disk 1 IOPS"], "300");
}

#[test]
fn azure_migrate_file_cleanses_end_to_end() {
    let engine = Engine::new();
    let h = headers(&[
        "*Server name",
        "IP addresses",
        "*Cores",
        "*Memory (In MB)",
        "*OS name",
        "OS version",
        "Number of disks",
        "Disk 1 size (In GB)",
        "Disk 2 size (In GB)",
        "CPU utilization percentage",
        "Storage in use (In GB)",
    ]);
    let mapping = engine.map(&h, &[], &[]);
    assert_eq!(mapping.profile.profile, SourceProfile::AzureMigrate);
    let raw: Map<String, Value> = serde_json::from_value(json!({
        "*Server name": "fin-db01", "IP addresses": "10.9.0.10;10.9.0.11", "*Cores": "8", "*Memory (In MB)": "65536",
        "*OS name": "Microsoft Windows Server 2019 Datacenter", "OS version": "10.0.17763", "Number of disks": "2",
        "Disk 1 size (In GB)": "500", "Disk 2 size (In GB)": "250", "CPU utilization percentage": "35",
        "Storage in use (In GB)": "700"
    }))
    .expect("raw");
    let asset = cleanse(&raw, &approved(&mapping.suggestions), None).asset;
    assert_eq!(asset["hostname"], "fin-db01");
    assert_eq!(asset["ip_address"], "10.9.0.10");
    assert_eq!(asset["cpu_cores"], 8);
    assert_eq!(asset["memory_gb"], 64.0);
    assert_eq!(asset["storage_gb"], 750.0);
    assert_eq!(asset["cpu_utilization_percent"], 35.0);
    assert_eq!(asset["os_version"], "10.0.17763");
    assert_eq!(asset["custom_attributes"], json!({"Number of disks": "2", "Storage in use (In GB)": "700"}));
}

#[test]
fn servicenow_cores_are_per_cpu() {
    let engine = Engine::new();
    let h = headers(&["name", "host_name", "cpu_count", "cpu_core_count", "ram", "disk_space", "os", "u_app_tier"]);
    let mapping = engine.map(&h, &[], &[]);
    assert_eq!(mapping.profile.profile, SourceProfile::ServicenowCmdb);
    let s = &mapping.suggestions;
    assert_eq!(target(s, "host_name"), Some("hostname"));
    assert_eq!(target(s, "name"), Some("name"), "name falls back when host_name takes hostname");
    let cores = by_header(s)["cpu_core_count"];
    assert_eq!(rules(cores).multiply_by_column.as_deref(), Some("cpu_count"));
    assert_eq!(target(s, "cpu_count"), None);
    let raw: Map<String, Value> = serde_json::from_value(json!({
        "name": "SRV1", "host_name": "srv1", "cpu_count": "2", "cpu_core_count": "6", "ram": "32768",
        "disk_space": "300", "os": "Linux Red Hat", "u_app_tier": "gold"
    }))
    .expect("raw");
    let asset = cleanse(&raw, &approved(s), None).asset;
    assert_eq!(asset["cpu_cores"], 12);
    assert_eq!(asset["memory_gb"], 32.0);
    assert_eq!(asset["storage_gb"], 300.0);
    assert_eq!(asset["custom_attributes"]["u_app_tier"], "gold");

    // Without a CPU count the core count still maps, with less confidence and a reason.
    let alone = engine.suggest(&headers(&["name", "cpu_core_count", "ram", "disk_space", "os_version"]), &[], &[]);
    let cores = by_header(&alone)["cpu_core_count"];
    assert!(cores.confidence < 0.9 && cores.explanation.contains("no 'cpu_count' column"), "{}", cores.explanation);
}

#[test]
fn rvtools_host_is_the_hypervisor() {
    let engine = Engine::new();
    let h = headers(&[
        "VM",
        "Powerstate",
        "Template",
        "CPUs",
        "Memory",
        "Provisioned MiB",
        "In Use MiB",
        "Host",
        "DNS Name",
    ]);
    let mapping = engine.map(&h, &[], &[]);
    assert_eq!(mapping.profile.profile, SourceProfile::RvtoolsVinfo);
    let s = &mapping.suggestions;
    assert_eq!(target(s, "VM"), Some("hostname"));
    let host = by_header(s)["Host"];
    assert_eq!(host.target_field, None);
    assert!(host.explanation.contains("ESXi host"), "{}", host.explanation);
    let memory = by_header(s)["Memory"];
    assert_eq!(rules(memory).scale, Some(1.0 / 1024.0), "vInfo memory is MiB without saying so");
    assert_eq!(target(s, "Provisioned MiB"), Some("storage_gb"));
    assert_eq!(target(s, "In Use MiB"), None);
    // In the vHost tab the same header is the row's own host.
    let vhost = headers(&["Host", "Datacenter", "# CPU", "Cores per CPU", "# Cores", "# Memory", "CPU usage %"]);
    assert_eq!(target(&engine.suggest(&vhost, &[], &[]), "Host"), Some("hostname"));
}

#[test]
fn suggestions_are_well_formed_and_deterministic() {
    let engine = Engine::new();
    let h = headers(&[
        "Server Name",
        "FQDN",
        "IP Address",
        "MAC",
        "OS",
        "OS Version",
        "vCPU",
        "RAM (GB)",
        "Total Storage (GB)",
        "Env",
        "Data Center",
        "Rack",
        "App Owner",
        "Tech Owner",
        "Dept",
        "Application",
        "Tech Stack",
        "Criticality",
        "Serial",
        "Vendor",
        "Model",
        "Hypervisor",
        "DB Type",
        "Wave",
        "CPU Util %",
        "Mem Util %",
        "Notes",
        "Purchase Date",
    ]);
    let first = engine.suggest(&h, &[], &[]);
    assert_eq!(first, engine.suggest(&h, &[], &[]));
    let mut seen = BTreeMap::new();
    for s in &first {
        assert!((0.0..=1.0).contains(&s.confidence));
        assert!(!s.explanation.is_empty() && !s.match_type.is_empty());
        for alt in s.alternatives.as_array().expect("array") {
            assert!(alt["target_field"].is_string() && alt["confidence"].is_number() && alt["reason"].is_string());
        }
        if let Some(t) = &s.target_field {
            assert!(is_target_field(t));
            assert!(seen.insert(t.clone(), &s.source_field).is_none(), "{t} twice");
        }
    }
    assert_eq!(seen.len(), h.len() - 1, "{first:#?}");
    assert_eq!(target(&first, "Purchase Date"), None);

    // A strict threshold keeps everything unmapped; nothing is lost either way.
    let strict = Engine::new().with_threshold(1.0).suggest(&h, &[], &[]);
    assert!(strict.iter().all(|s| s.target_field.is_none()));
}

#[test]
fn works_as_the_pipelines_suggester() {
    let engine = Engine::new();
    let suggester: &dyn Suggester = &engine;
    assert_eq!(suggester.suggest(&[], &[], &[]), Vec::new());
}

#[test]
fn suggest_file_reads_headers_and_samples() {
    let mut file = tempfile::Builder::new().suffix(".csv").tempfile().expect("temp file");
    writeln!(file, "Name,Addr,Cores,Memory\nweb-01,10.0.0.1,4,8192\nweb-02,10.0.0.2,8,16384\ndb-01,10.0.0.3,16,65536")
        .expect("write");
    let mapping = suggest_file(&Engine::new(), file.path(), None, Encoding::Auto, &[]).expect("mapped");
    let s = &mapping.suggestions;
    assert_eq!(target(s, "Name"), Some("hostname"));
    assert_eq!(target(s, "Addr"), Some("ip_address"), "the values say so");
    assert_eq!(rules(by_header(s)["Memory"]).scale, Some(1.0 / 1024.0));
}

#[test]
fn one_outlier_does_not_veto_a_percentage_but_a_column_of_large_values_does() {
    let engine = Engine::new();
    let mut spiky: Vec<String> = (0..19).map(|i| format!("{}.5", 10 + i * 3)).collect();
    spiky.push("140".into());
    let spiky: Vec<&str> = spiky.iter().map(String::as_str).collect();
    let large: Vec<&str> = vec!["1200", "3400", "5600", "800", "2500", "9100"];
    let suggestions = engine.suggest(
        &headers(&["CPU Utilization %", "CPU usage"]),
        &samples(&[("CPU Utilization %", &spiky), ("CPU usage", &large)]),
        &[],
    );
    assert_eq!(suggestions[0].target_field.as_deref(), Some("cpu_utilization_percent"), "{:?}", suggestions[0]);
    assert!(suggestions[0].explanation.contains("a few values exceed 100"), "{}", suggestions[0].explanation);
    assert_ne!(suggestions[1].target_field.as_deref(), Some("cpu_utilization_percent"), "{:?}", suggestions[1]);
}

#[test]
fn fuzzy_matching_compares_word_by_word() {
    let engine = Engine::new();
    let suggestions = engine.suggest(&headers(&["ServicePack", "Hostnme", "Opertaing System"]), &[], &[]);
    assert_ne!(suggestions[0].target_field.as_deref(), Some("serial_number"), "{:?}", suggestions[0]);
    assert_eq!(suggestions[1].target_field.as_deref(), Some("hostname"), "a typo still matches: {:?}", suggestions[1]);
    assert_eq!(suggestions[2].target_field.as_deref(), Some("operating_system"), "{:?}", suggestions[2]);
}

#[test]
fn a_reviewers_target_takes_the_unit_its_header_names() {
    use modernize_mapping::rules_for;
    assert_eq!(rules_for("RAM (MB)", "memory_gb").scale, Some(1.0 / 1024.0));
    assert_eq!(rules_for("Provisioned MiB", "storage_gb").scale, Some(1.0 / 1024.0));
    assert_eq!(rules_for("Capacity TB", "storage_gb").scale, Some(1024.0));
    assert_eq!(rules_for("Memory (GB)", "memory_gb").scale, None);
    assert_eq!(rules_for("RAM (MB)", "hostname").scale, None);
    assert_eq!(rules_for("Number", "memory_gb").scale, None, "a word merely containing mb is no unit");
}

/// Headers are compared by their words: glued words split, plurals and synonymous words
/// stemmed, a namespace shared by the whole file left out; a lone word keeps its number.
#[test]
fn headers_are_compared_word_by_word() {
    let engine = Engine::new().without_profiles();
    let map = |names: &[&str]| engine.map(&headers(names), &[], &[]).suggestions;

    let glued = map(&["CPUNUMBER", "PHYSICALMEMORYSIZE", "macaddress", "iPv4Address"]);
    assert_eq!(target(&glued, "CPUNUMBER"), Some("cpu_cores"));
    assert_eq!(target(&glued, "PHYSICALMEMORYSIZE"), Some("memory_gb"));
    assert_eq!(target(&glued, "macaddress"), Some("mac_address"));
    assert_eq!(target(&glued, "iPv4Address"), Some("ip_address"));

    let stemmed = map(&["processorCount", "totalHDDSpaceMb", "% Used Real Memory", "% Used Shared Memory"]);
    assert_eq!(target(&stemmed, "processorCount"), Some("cpu_cores"));
    assert_eq!(target(&stemmed, "totalHDDSpaceMb"), Some("storage_gb"));
    assert_eq!(target(&stemmed, "% Used Real Memory"), Some("memory_utilization_percent"));
    assert_eq!(target(&stemmed, "% Used Shared Memory"), None);

    // "server." names the record: "server.tags" is no "service tag".
    let namespaced = map(&["server.hostName", "server.applications", "server.tags", "server.hypervisor"]);
    assert_eq!(target(&namespaced, "server.hostName"), Some("hostname"));
    assert_eq!(target(&namespaced, "server.applications"), Some("application_name"));
    assert_eq!(target(&namespaced, "server.tags"), None);
    assert_eq!(target(&namespaced, "server.hypervisor"), Some("virtualization_platform"));

    // The record's own noun adds nothing ("Asset Notes"); a typo in one of several words is
    // forgiven ("MAC Adress"); an out-of-band address, a list of sizes are no server's fields.
    let qualified =
        map(&["Asset Notes", "ACMP Client MAC Adress", "Total harddrive capacity", "oob_ip", "Disk size list"]);
    assert_eq!(target(&qualified, "Asset Notes"), Some("description"));
    assert_eq!(target(&qualified, "ACMP Client MAC Adress"), Some("mac_address"));
    assert_eq!(target(&qualified, "Total harddrive capacity"), Some("storage_gb"));
    assert_eq!(target(&qualified, "oob_ip"), None);
    assert_eq!(target(&qualified, "Disk size list"), None);

    // Cores before a count of CPUs; a processor's model is no count.
    let counts = map(&["cpu_count", "total_cpu_cores", "Processor", "processor64Bit"]);
    assert_eq!(target(&counts, "total_cpu_cores"), Some("cpu_cores"));
    assert_eq!(target(&counts, "cpu_count"), None);
    assert_eq!(target(&counts, "Processor"), None);
    assert_eq!(target(&counts, "processor64Bit"), None);
}
