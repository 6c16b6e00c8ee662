//! The sheets of an RVTools workbook beyond vInfo (issue 14 item 4): vHost, vDisk, vPartition
//! and vNetwork, read row by row into what the dependency phase writes (see
//! `pipeline::rvtools`). vInfo stays the source of the VM assets; these sheets add the hosts as
//! assets and each VM's disks, partitions and network adapters as facts.
//!
//! Sizes follow the rule of [`super::values`]: RVTools counts MiB, stored as binary GB
//! (MiB / 1024), rounded to the MiB's thousandth as `vmware.provisioned_gb` is.

use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::cleansing::normalise_mac;
use super::identity::{VCENTER_HEADERS, column, keys};
use super::ingest::{IngestError, Record, sheet_names};
use super::values::{DecimalMark, parse_number};
use crate::models::asset_fields::asset_field;

/// The sheet an import must have read for the others to be read: RVTools' first sheet.
pub const ASSET_SHEET: &str = "vInfo";

/// An RVTools sheet read beyond vInfo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// One row per ESXi host: the host assets.
    Host,
    /// One row per virtual disk of a VM: `vmware.disks`.
    Disk,
    /// One row per guest partition of a VM: `vmware.partitions`.
    Partition,
    /// One row per network adapter of a VM: `vmware.nics`.
    Network,
}

impl Sheet {
    /// In the order they are read: hosts first, so that the placements the phase then links
    /// point at them.
    pub const ALL: [Self; 4] = [Self::Host, Self::Disk, Self::Partition, Self::Network];

    /// The sheet's name in an RVTools workbook (matched case-insensitively).
    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "vHost",
            Self::Disk => "vDisk",
            Self::Partition => "vPartition",
            Self::Network => "vNetwork",
        }
    }

    /// The key under `custom_attributes.vmware` a VM sheet's rows go to; None for vHost.
    pub fn facts_key(self) -> Option<&'static str> {
        match self {
            Self::Host => None,
            Self::Disk => Some("disks"),
            Self::Partition => Some("partitions"),
            Self::Network => Some("nics"),
        }
    }

    /// The column (squashed header) a row needs to be read: the VM, or the host.
    fn required_column(self) -> &'static str {
        if self == Self::Host { "host" } else { "vm" }
    }
}

/// The extra sheets of the workbook at `path` with their names as the workbook spells them, in
/// [`Sheet::ALL`]'s order, when the import read its [`ASSET_SHEET`] (`imported`: the sheet asked
/// for, else the first); empty for a CSV, another workbook, or one without these sheets.
/// Errors: the workbook cannot be opened or is past the limits ([`IngestError`]).
pub fn extra_sheets(path: &Path, imported: Option<&str>) -> Result<Vec<(Sheet, String)>, IngestError> {
    let Some(names) = sheet_names(path)? else { return Ok(Vec::new()) };
    let imported = imported.or(names.first().map(String::as_str));
    if !imported.is_some_and(|s| s.eq_ignore_ascii_case(ASSET_SHEET)) {
        return Ok(Vec::new());
    }
    Ok(Sheet::ALL
        .into_iter()
        .filter_map(|sheet| names.iter().find(|n| n.eq_ignore_ascii_case(sheet.name())).map(|n| (sheet, n.clone())))
        .collect())
}

/// Why a sheet is not read at all, when its header lacks the column its rows are matched by.
pub fn missing_column(sheet: Sheet, headers: &[String]) -> Option<String> {
    let needed = sheet.required_column();
    let squashed = |h: &String| super::identity::squashed(h) == needed;
    (!headers.iter().any(squashed)).then(|| {
        let label = if sheet == Sheet::Host { "Host" } else { "VM" };
        format!("{} has no {label} column: not read", sheet.name())
    })
}

/// An issue of the import that no record holds (`data_imports.sheet_issues`): a row of another
/// sheet not read or matched, a sheet not read, an ESXi host whose identity matched no asset or
/// not uniquely. Listed with the records' issues (`repo::imports::import_issues`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetIssue {
    /// The sheet; None for the sheet (or CSV file) the import read.
    pub sheet: Option<String>,
    /// The row in the sheet as a person sees it; None for an issue of the whole sheet.
    pub row: Option<i64>,
    /// The column (header) concerned, and its value in the row.
    pub column: Option<String>,
    pub value: Option<String>,
    /// `error` (the row was not read) or `warning`.
    pub severity: &'static str,
    /// `sheet_not_read`, `no_vm`, `no_host`, `unmatched_vm`, `host_is_vm`, `matched`,
    /// `identity_ambiguous`, `identity_conflict`, or a reader's kind (`long_row`, …).
    pub kind: String,
    /// Why, for a person (a row's issue names neither its sheet nor its row: the figures
    /// prefix them).
    pub message: String,
}

impl SheetIssue {
    /// A sheet not read at all (`message` says why, naming the sheet).
    pub fn sheet_not_read(sheet: &str, message: String) -> Self {
        Self {
            sheet: Some(sheet.to_owned()),
            row: None,
            column: None,
            value: None,
            severity: "error",
            kind: "sheet_not_read".into(),
            message,
        }
    }
}

/// A row of vDisk, vPartition or vNetwork: the VM it belongs to and its facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VmRow {
    pub file_row: i64,
    /// `uuid:<vcenter>/<uuid>` (or `uuid:<uuid>`), the identity vInfo gave the VM
    /// ([`super::identity`]), when the row names its VM's UUID.
    pub uuid_key: Option<String>,
    pub vm: String,
    /// The header of the VM's column, as the sheet spells it.
    pub vm_column: String,
    /// The vCenter (`VI SDK Server`), lower-case; empty when the sheet names none.
    pub vcenter: String,
    /// The row's facts (see [`read_vm_row`]), with `row`, its row in the sheet.
    pub fact: Value,
}

/// A vHost row: the host's name and the asset fields it gives (see [`read_host_row`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRow {
    pub file_row: i64,
    pub host: String,
    /// The server's serial number (`Serial number`, else `Service tag`): a key of its identity.
    pub serial_number: Option<String>,
    pub os_version: Option<String>,
    pub cpu_cores: Option<i64>,
    pub memory_gb: Option<f64>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub datacenter: Option<String>,
    /// `custom_attributes.vmware` of the host.
    pub vmware: Value,
}

/// A sheet row read, or why it was not.
pub enum SheetRow {
    Vm(VmRow),
    Host(HostRow),
    /// Why it was not read, each issue naming the sheet and the row.
    Skipped(Vec<SheetIssue>),
}

/// Reads one record of `sheet` (`mark`: the decimal mark its numbers are read with).
pub fn read_row(sheet: Sheet, record: &Record, mark: Option<DecimalMark>) -> SheetRow {
    let issue = |column: Option<String>, severity: &'static str, kind: &str, message: String| SheetIssue {
        sheet: Some(sheet.name().to_owned()),
        row: Some(record.file_row as i64),
        value: column.as_ref().and_then(|c| record.data.get(c)).and_then(Value::as_str).map(str::to_owned),
        column,
        severity,
        kind: kind.to_owned(),
        message,
    };
    if !record.is_valid {
        let why = record.issues.iter().filter_map(|i| i["message"].as_str()).collect::<Vec<_>>().join("; ");
        let message = format!("not read ({why})");
        // One line per problem the reader found, each with its kind and column.
        let issues = record
            .issues
            .iter()
            .map(|i| {
                let kind = i["kind"].as_str().unwrap_or("other");
                let severity = if i["severity"] == "warning" { "warning" } else { "error" };
                issue(i["column"].as_str().map(str::to_owned), severity, kind, message.clone())
            })
            .collect::<Vec<_>>();
        let fallback = || vec![issue(None, "error", "other", message.clone())];
        return SheetRow::Skipped(if issues.is_empty() { fallback() } else { issues });
    }
    let raw = &record.data;
    let key_column = || raw.keys().find(|h| super::identity::squashed(h) == sheet.required_column()).cloned();
    match sheet {
        Sheet::Host => match read_host_row(raw, mark) {
            Some(mut row) => {
                row.file_row = record.file_row as i64;
                SheetRow::Host(row)
            }
            None => SheetRow::Skipped(vec![issue(key_column(), "error", "no_host", "no host named; not read".into())]),
        },
        _ => match read_vm_row(sheet, raw, mark) {
            Some(mut row) => {
                row.file_row = record.file_row as i64;
                row.fact["row"] = json!(record.file_row);
                SheetRow::Vm(row)
            }
            None => SheetRow::Skipped(vec![issue(key_column(), "error", "no_vm", "no VM named; not read".into())]),
        },
    }
}

/// A size in MiB as binary GB, rounded to the thousandth (the MiB's precision).
fn mib_to_gb(raw: &Map<String, Value>, headers: &[&str], mark: Option<DecimalMark>) -> Option<f64> {
    let mib = column(raw, headers).and_then(|v| parse_number(v, mark).ok())?;
    Some((mib / 1024.0 * 1000.0).round() / 1000.0)
}

fn flag(raw: &Map<String, Value>, headers: &[&str]) -> Option<bool> {
    column(raw, headers).map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1"))
}

fn text(raw: &Map<String, Value>, headers: &[&str]) -> Value {
    column(raw, headers).map_or(Value::Null, |v| Value::String(v.to_owned()))
}

/// A number kept only inside the range its asset column accepts (a misread value is dropped,
/// never stored, and never fails the phase on the column's constraint).
fn within_field(field: &str, value: Option<f64>) -> Option<f64> {
    let (low, high) = asset_field(field).and_then(|f| f.kind.range())?;
    value.filter(|v| (low..=high).contains(v))
}

/// The facts of a vDisk, vPartition or vNetwork row; None without a VM name.
/// - vDisk: `disk` (its label), `capacity_gb`, `thin`, `datastore` (the `Datastore` column, else
///   the `[datastore]` that starts the disk's path, `Disk Path` before `Path`);
/// - vPartition: `disk` (the guest's partition, `C:\`, `/`), `capacity_gb`, `consumed_gb`, `free_gb`;
/// - vNetwork: `nic` (its label), `network` (the port group), `mac`, `ips` (IPv4 then IPv6,
///   each a valid address), `connected`.
pub fn read_vm_row(sheet: Sheet, raw: &Map<String, Value>, mark: Option<DecimalMark>) -> Option<VmRow> {
    let vm = column(raw, &["vm"])?.to_owned();
    let vm_column = raw.keys().find(|h| super::identity::squashed(h) == "vm").cloned().unwrap_or_default();
    let uuid_key = keys(&Map::new(), raw).into_iter().next().filter(|k| k.starts_with("uuid:"));
    let vcenter = column(raw, &VCENTER_HEADERS).unwrap_or_default().to_lowercase();
    let capacity = &["capacitymib", "capacitymb"][..];
    let fact = match sheet {
        Sheet::Disk => {
            let datastore = column(raw, &["datastore"]).map(str::to_owned).or_else(|| {
                let path = column(raw, &["diskpath", "path", "filename"])?;
                let inner = path.strip_prefix('[')?;
                inner.split_once(']').map(|(ds, _)| ds.trim().to_owned())
            });
            json!({"disk": text(raw, &["disk", "label"]), "capacity_gb": mib_to_gb(raw, capacity, mark),
                   "thin": flag(raw, &["thin"]), "datastore": datastore})
        }
        Sheet::Partition => json!({
            "disk": text(raw, &["disk", "partition"]),
            "capacity_gb": mib_to_gb(raw, capacity, mark),
            "consumed_gb": mib_to_gb(raw, &["consumedmib", "consumedmb"], mark),
            "free_gb": mib_to_gb(raw, &["freemib", "freemb"], mark),
        }),
        Sheet::Network => {
            let ips: Vec<String> = [&["ipv4address", "ipaddress"][..], &["ipv6address"][..]]
                .into_iter()
                .filter_map(|headers| column(raw, headers))
                .flat_map(|list| list.split([',', ';', ' ']).filter_map(|ip| ip.trim().parse::<IpAddr>().ok()))
                .map(|ip| ip.to_string())
                .collect();
            json!({"nic": text(raw, &["niclabel", "nic", "label"]), "network": text(raw, &["network", "portgroup"]),
                   "mac": column(raw, &["macaddress", "mac"]).and_then(normalise_mac), "ips": ips,
                   "connected": flag(raw, &["connected"])})
        }
        Sheet::Host => return None,
    };
    Some(VmRow { file_row: 0, uuid_key, vm, vm_column, vcenter, fact })
}

/// The asset fields of a vHost row; None without a host name. `serial_number` is the
/// `Serial number` (else `Service tag`); `cpu_cores` is `# Cores`, else
/// `# CPU` × `Cores per CPU`; `memory_gb` is `# Memory` (MiB); `os_version` the `ESX Version`
/// without its `VMware ESXi` prefix; `manufacturer` and `model` the server's `Vendor` and
/// `Model`. `vmware` keeps `esxi_host` (true: a hypervisor, out of 6R), `cluster`, `cpu_model`,
/// `cpu_sockets`, `cores_per_cpu`, `esx_version` and `vcenter`.
pub fn read_host_row(raw: &Map<String, Value>, mark: Option<DecimalMark>) -> Option<HostRow> {
    let host = column(raw, &["host"])?.to_owned();
    let number = |headers: &[&str]| column(raw, headers).and_then(|v| parse_number(v, mark).ok());
    let (sockets, per_socket) = (number(&["cpu", "cpus", "cpusockets"]), number(&["corespercpu"]));
    let cores = number(&["cores", "cpucores"]).or_else(|| Some(sockets? * per_socket?));
    let esx_version = column(raw, &["esxversion", "esxiversion"]);
    let os_version = esx_version.map(|v| {
        let lower = v.to_ascii_lowercase();
        let rest = ["vmware esxi ", "vmware esx "].iter().find_map(|p| lower.starts_with(p).then(|| &v[p.len()..]));
        rest.unwrap_or(v).trim().to_owned()
    });
    let facts = [
        ("esxi_host", json!(true)),
        ("cluster", text(raw, &["cluster"])),
        ("cpu_model", text(raw, &["cpumodel"])),
        ("cpu_sockets", json!(sockets.map(|s| s.round() as i64))),
        ("cores_per_cpu", json!(per_socket.map(|c| c.round() as i64))),
        ("esx_version", json!(esx_version)),
        ("vcenter", text(raw, &VCENTER_HEADERS)),
    ];
    // Only what the row says: merged into an existing host's facts, a null would erase one.
    let vmware: Map<String, Value> =
        facts.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_owned(), v)).collect();
    Some(HostRow {
        file_row: 0,
        host,
        serial_number: column(raw, &["serialnumber", "servicetag"]).map(str::to_owned),
        os_version,
        cpu_cores: within_field("cpu_cores", cores.map(f64::round)).map(|c| c as i64),
        memory_gb: within_field("memory_gb", mib_to_gb(raw, &["memory", "memorymib", "memorymb"], mark)),
        manufacturer: column(raw, &["vendor"]).map(str::to_owned),
        model: column(raw, &["model"]).map(str::to_owned),
        datacenter: column(raw, &["datacenter"]).map(str::to_owned),
        vmware: Value::Object(vmware),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).expect("object")
    }

    #[test]
    fn disks_partitions_and_nics_keep_their_key_facts_in_gb() {
        let disk = raw(json!({"VM": "app-01", "Disk": "Hard disk 1", "Capacity MiB": "40960", "Thin": "True",
            "Path": "[ds-gold-01] app-01/app-01.vmdk", "VM UUID": "4210AA01", "VI SDK Server": "VC.corp"}));
        let row = read_vm_row(Sheet::Disk, &disk, None).expect("row");
        assert_eq!(
            (row.uuid_key.as_deref(), row.vm.as_str(), row.vcenter.as_str()),
            (Some("uuid:vc.corp/4210aa01"), "app-01", "vc.corp")
        );
        assert_eq!(
            row.fact,
            json!({"disk": "Hard disk 1", "capacity_gb": 40.0, "thin": true, "datastore": "ds-gold-01"})
        );
        let comma = raw(json!({"VM": "x", "Capacity MiB": "1.537,5", "Datastore": "ds2", "Thin": "false"}));
        let row = read_vm_row(Sheet::Disk, &comma, Some(DecimalMark::Comma)).expect("row");
        assert_eq!(
            (row.uuid_key, row.fact["capacity_gb"].as_f64(), row.fact["datastore"].as_str()),
            (None, Some(1.501), Some("ds2"))
        );

        let partition = raw(json!({"VM": "app-01", "Disk": "C:\\", "Capacity MiB": "40447", "Consumed MiB": "20223.5",
            "Free MiB": "20223.5"}));
        let row = read_vm_row(Sheet::Partition, &partition, None).expect("row");
        assert_eq!(row.fact, json!({"disk": "C:\\", "capacity_gb": 39.499, "consumed_gb": 19.75, "free_gb": 19.75}));

        let nic = raw(json!({"VM": "app-01", "NIC label": "Network adapter 1", "Network": "VLAN-120",
            "Mac Address": "00:50:56:AB:CD:EF", "IPv4 Address": "10.1.20.11, 10.1.20.12", "IPv6 Address": "fe80::1, junk",
            "Connected": "True"}));
        let row = read_vm_row(Sheet::Network, &nic, None).expect("row");
        assert_eq!(
            row.fact,
            json!({"nic": "Network adapter 1", "network": "VLAN-120", "mac": "00:50:56:ab:cd:ef",
            "ips": ["10.1.20.11", "10.1.20.12", "fe80::1"], "connected": true})
        );
        assert!(read_vm_row(Sheet::Network, &raw(json!({"NIC label": "x"})), None).is_none(), "no VM, no row");
    }

    #[test]
    fn a_host_row_gives_cores_memory_version_and_placement() {
        let host = raw(json!({"Host": "esx-01.corp.example", "Datacenter": "DC-Paris", "Cluster": "PROD-CL",
            "CPU Model": "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "# CPU": "2", "Cores per CPU": "24",
            "# Memory": "786432", "ESX Version": "VMware ESXi 7.0.3 build-21930508", "Vendor": "Dell Inc.",
            "Model": "PowerEdge R740", "VI SDK Server": "vc.corp.example", "Serial number": "CZ2021ABCD"}));
        let row = read_host_row(&host, None).expect("row");
        assert_eq!(row.serial_number.as_deref(), Some("CZ2021ABCD"));
        assert_eq!(
            (row.cpu_cores, row.memory_gb, row.os_version.as_deref()),
            (Some(48), Some(768.0), Some("7.0.3 build-21930508"))
        );
        assert_eq!(
            (row.manufacturer.as_deref(), row.model.as_deref(), row.datacenter.as_deref()),
            (Some("Dell Inc."), Some("PowerEdge R740"), Some("DC-Paris"))
        );
        assert_eq!(
            row.vmware,
            json!({"esxi_host": true, "cluster": "PROD-CL", "cpu_model": "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz",
            "cpu_sockets": 2, "cores_per_cpu": 24, "esx_version": "VMware ESXi 7.0.3 build-21930508", "vcenter": "vc.corp.example"})
        );
        let counted =
            raw(json!({"Host": "esx-02", "# Cores": "32", "# CPU": "2", "Cores per CPU": "8", "# Memory": "-5"}));
        let row = read_host_row(&counted, None).expect("row");
        assert_eq!((row.cpu_cores, row.memory_gb), (Some(32), None), "# Cores wins; a negative size is dropped");
        let tagged = raw(json!({"Host": "esx-03", "Service tag": "7XK2L93"}));
        assert_eq!(read_host_row(&tagged, None).and_then(|r| r.serial_number).as_deref(), Some("7XK2L93"));
    }

    #[test]
    fn a_sheet_without_its_key_column_is_not_read() {
        let headers = |h: &[&str]| h.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(missing_column(Sheet::Disk, &headers(&["VM", "Disk"])), None);
        assert_eq!(
            missing_column(Sheet::Disk, &headers(&["Name", "Disk"])).as_deref(),
            Some("vDisk has no VM column: not read")
        );
        assert_eq!(missing_column(Sheet::Host, &headers(&["Host", "# CPU"])), None);
    }
}
