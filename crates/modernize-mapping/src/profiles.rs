//! Recognised source formats: how to tell them apart from their headers, and what their known
//! columns mean (units included, and the columns that look like a field but are not).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

use crate::normalise::Unit::{Gigabytes as GB, Megabytes as MB};
use crate::normalise::{NormalisedHeader, Unit, normalise};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceProfile {
    RvtoolsVinfo,
    RvtoolsVhost,
    RvtoolsVdisk,
    AwsMigrationHub,
    AzureMigrate,
    ServicenowCmdb,
    Device42,
    Lansweeper,
    Netbox,
    GoogleMigrationCenter,
    Generic,
}

impl SourceProfile {
    pub fn label(self) -> &'static str {
        match self {
            Self::RvtoolsVinfo => "RVTools vInfo",
            Self::RvtoolsVhost => "RVTools vHost",
            Self::RvtoolsVdisk => "RVTools vDisk",
            Self::AwsMigrationHub => "AWS Migration Hub import template",
            Self::AzureMigrate => "Azure Migrate CSV import",
            Self::ServicenowCmdb => "ServiceNow CMDB export",
            Self::Device42 => "Device42",
            Self::Lansweeper => "Lansweeper",
            Self::Netbox => "NetBox",
            Self::GoogleMigrationCenter => "Google Migration Center",
            Self::Generic => "generic spreadsheet",
        }
    }
}

/// Which format a file's headers say it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileDetection {
    pub profile: SourceProfile,
    pub label: &'static str,
    /// Share of the format's signature headers present.
    pub score: f64,
    /// The file's headers that matched the signature.
    pub evidence: Vec<String>,
}

/// What a profile knows about one of its columns.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Spellings, `|`-separated (a ServiceNow label and its field name).
    pub headers: &'static str,
    /// None: a known column that feeds no field (kept in custom_attributes).
    pub target: Option<&'static str>,
    pub confidence: f64,
    /// Unit of the values when the header does not state it.
    pub unit: Option<Unit>,
    /// A second target when the first is taken by a better column.
    pub fallback: Option<(&'static str, f64)>,
    /// The value is per unit of another column (cores per CPU): multiply by it.
    pub multiply_by: Option<&'static str>,
    /// Numbered members (Disk 1..N) are summed into the target.
    pub sum: bool,
    pub note: &'static str,
}

const fn map(headers: &'static str, target: &'static str, confidence: f64, note: &'static str) -> Entry {
    Entry { headers, target: Some(target), confidence, unit: None, fallback: None, multiply_by: None, sum: false, note }
}

const fn keep(headers: &'static str, note: &'static str) -> Entry {
    Entry { headers, target: None, confidence: 0.9, unit: None, fallback: None, multiply_by: None, sum: false, note }
}

impl Entry {
    const fn unit(self, unit: Unit) -> Self {
        Self { unit: Some(unit), ..self }
    }
    const fn or(self, target: &'static str, confidence: f64) -> Self {
        Self { fallback: Some((target, confidence)), ..self }
    }
    const fn times(self, header: &'static str) -> Self {
        Self { multiply_by: Some(header), ..self }
    }
    const fn summed(self) -> Self {
        Self { sum: true, ..self }
    }
}

struct ProfileDef {
    profile: SourceProfile,
    /// Headers that together identify the format.
    signature: &'static [&'static str],
    entries: &'static [Entry],
}

const HYPERVISOR_HOST: &str = "the ESXi host the VM runs on, not the VM's own host name";

static DEFS: [ProfileDef; 10] = [
    ProfileDef {
        profile: SourceProfile::RvtoolsVinfo,
        signature: &[
            "VM",
            "Powerstate",
            "Template",
            "CPUs",
            "Memory",
            "NICs",
            "Disks",
            "Provisioned MiB",
            "In Use MiB",
            "OS according to the configuration file",
            "OS according to the VMware Tools",
            "DNS Name",
            "Primary IP Address",
            "VI SDK Server",
            "VM UUID",
            "Guest state",
            "Config status",
        ],
        entries: &[
            map("VM", "hostname", 0.95, "RVTools names each VM in its VM column"),
            map("DNS Name", "fqdn", 0.95, "the guest's DNS name as VMware Tools reports it"),
            map("Primary IP Address", "ip_address", 0.97, "the guest's primary IP address"),
            map("CPUs", "cpu_cores", 0.96, "vCPUs allocated to the VM"),
            map("Memory", "memory_gb", 0.96, "memory configured for the VM, in MiB").unit(MB),
            map("Total disk capacity MiB", "storage_gb", 0.96, "capacity of the VM's virtual disks"),
            map("Provisioned MiB", "storage_gb", 0.93, "storage provisioned to the VM (disks, swap, snapshots)"),
            keep("In Use MiB", "storage in use, not the capacity to migrate"),
            keep("Unshared MiB", "storage used by this VM alone"),
            keep("Active Memory", "memory in use, not configured memory"),
            map("OS according to the configuration file", "operating_system", 0.96, "guest OS as configured on the VM"),
            map("OS according to the VMware Tools", "operating_system", 0.9, "guest OS as VMware Tools reports it"),
            map("Datacenter", "datacenter", 0.96, "vCenter datacenter"),
            keep("Host", HYPERVISOR_HOST),
            keep("Cluster", "vSphere cluster of the host"),
            keep("VI SDK Server", "the vCenter the export came from"),
            map("Annotation", "description", 0.9, "the VM's notes in vCenter"),
            keep("NICs", "number of network adapters"),
            keep("Disks", "number of virtual disks, not their size"),
            keep("VM ID", "vCenter managed object id"),
            keep("VM UUID", "VM identifier"),
            keep("HW version", "virtual hardware version, not the guest OS version"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::RvtoolsVhost,
        signature: &[
            "Host",
            "# CPU",
            "Cores per CPU",
            "# Cores",
            "CPU Model",
            "Speed",
            "ESX Version",
            "CPU usage %",
            "# Memory",
            "Memory usage %",
            "# VMs",
            "Vendor",
            "Service tag",
            "HT Available",
            "HT Active",
        ],
        entries: &[
            map("Host", "hostname", 0.95, "in the vHost tab each row is an ESXi host named in this column"),
            map("# Cores", "cpu_cores", 0.96, "total physical cores of the host"),
            keep("# CPU", "CPU sockets; # Cores holds the cores"),
            keep("Cores per CPU", "cores per socket; # Cores holds the total"),
            map("# Memory", "memory_gb", 0.95, "physical memory of the host, in MiB").unit(MB),
            map("CPU usage %", "cpu_utilization_percent", 0.95, "host CPU usage"),
            map("Memory usage %", "memory_utilization_percent", 0.95, "host memory usage"),
            map("ESX Version", "operating_system", 0.9, "the ESXi release running on the host"),
            map("Vendor", "manufacturer", 0.95, "server hardware vendor"),
            map("Model", "model", 0.95, "server hardware model"),
            map("Service tag", "serial_number", 0.93, "the vendor's service tag"),
            map("Serial number", "serial_number", 0.95, "server serial number"),
            map("Datacenter", "datacenter", 0.96, "vCenter datacenter"),
            keep("Cluster", "vSphere cluster"),
            keep("CPU Model", "processor model"),
            keep("Speed", "CPU clock speed"),
            keep("# VMs", "number of VMs on the host"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::RvtoolsVdisk,
        signature: &[
            "Disk",
            "Capacity MiB",
            "Disk Mode",
            "Thin",
            "Controller",
            "Disk Path",
            "Eagerly Scrub",
            "Raw",
            "Disk Key",
            "Split",
            "Write Through",
            "Sharing mode",
        ],
        entries: &[
            map("VM", "hostname", 0.95, "the VM the disk belongs to"),
            map("Capacity MiB", "storage_gb", 0.93, "capacity of this virtual disk"),
            keep("Disk", "the disk's label"),
            keep("Host", HYPERVISOR_HOST),
            keep("Disk Path", "VMDK path"),
            map("OS according to the configuration file", "operating_system", 0.95, "guest OS as configured on the VM"),
            map("Datacenter", "datacenter", 0.96, "vCenter datacenter"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::AwsMigrationHub,
        signature: &[
            "ExternalId",
            "SMBiosId",
            "IPAddress",
            "MACAddress",
            "HostName",
            "VMware.MoRefId",
            "VMware.VCenterId",
            "CPU.NumberOfProcessors",
            "CPU.NumberOfCores",
            "CPU.NumberOfLogicalCores",
            "OS.Name",
            "OS.Version",
            "VMware.VMName",
            "RAM.TotalSizeInMB",
            "RAM.UsedSizeInMB.Avg",
            "CPU.UsagePct.Avg",
            "ApplicationWave",
            "ServerId",
        ],
        entries: &[
            map("HostName", "hostname", 0.97, "the template's host name (AWS recommends the FQDN)"),
            map("IPAddress", "ip_address", 0.97, "comma-delimited IP addresses; the first is kept"),
            map("MACAddress", "mac_address", 0.97, "comma-delimited MAC addresses; the first is kept"),
            map("OS.Name", "operating_system", 0.97, "operating system name"),
            map("OS.Version", "os_version", 0.97, "operating system version"),
            map("CPU.NumberOfCores", "cpu_cores", 0.95, "total physical cores"),
            map("CPU.NumberOfLogicalCores", "cpu_cores", 0.85, "threads across all CPUs (used when no core count)"),
            keep("CPU.NumberOfProcessors", "CPU sockets, not cores"),
            map("RAM.TotalSizeInMB", "memory_gb", 0.97, "total RAM in MB"),
            keep("RAM.UsedSizeInMB.Avg", "used RAM in MB, not a percentage"),
            keep("RAM.UsedSizeInMB.Max", "used RAM in MB, not a percentage"),
            map("CPU.UsagePct.Avg", "cpu_utilization_percent", 0.95, "average CPU utilisation"),
            map("CPU.UsagePct.Max", "cpu_utilization_percent", 0.8, "peak CPU utilisation (used when no average)"),
            map("VMware.VMName", "name", 0.85, "the VM's name in vCenter"),
            map("Applications", "application_name", 0.93, "applications that include this server"),
            map("ApplicationWave", "migration_wave", 0.95, "the server's migration wave"),
            keep("ExternalId", "your own inventory identifier"),
            keep("SMBiosId", "SMBIOS identifier"),
            keep("VMware.MoRefId", "vCenter managed object reference"),
            keep("VMware.VCenterId", "vCenter identifier"),
            keep("ServerId", "Migration Hub server identifier"),
            keep("Tags", "name:value tags"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::AzureMigrate,
        signature: &[
            "Server name",
            "IP addresses",
            "Cores",
            "Memory (In MB)",
            "OS name",
            "OS version",
            "OS architecture",
            "Number of disks",
            "Disk 1 size (In GB)",
            "CPU utilization percentage",
            "Memory utilization percentage",
            "Server type",
            "Hypervisor",
            "Storage in use (In GB)",
            "Firmware type",
            "Boot type",
        ],
        entries: &[
            map("Server name", "hostname", 0.97, "Azure Migrate's server name (recommended to be the FQDN)"),
            map("IP addresses|IP address", "ip_address", 0.97, "the server's addresses; the first is kept"),
            map("MAC addresses|MAC address", "mac_address", 0.97, "the server's MAC addresses; the first is kept"),
            map("Cores", "cpu_cores", 0.97, "processor cores allocated to the server"),
            map("Memory", "memory_gb", 0.97, "total RAM, in MB").unit(MB),
            map("OS name", "operating_system", 0.97, "operating system name"),
            map("OS version", "os_version", 0.97, "operating system version"),
            map("Server type", "asset_type", 0.9, "Virtual or Physical"),
            map("Hypervisor", "virtualization_platform", 0.95, "VMware or Hyper-V for virtual servers"),
            map("Disk size", "storage_gb", 0.95, "size of each numbered disk, summed").unit(GB).summed(),
            map("CPU utilization percentage", "cpu_utilization_percent", 0.97, "percentage of CPU used"),
            map("Memory utilization percentage", "memory_utilization_percent", 0.97, "percentage of RAM used"),
            keep("Number of disks", "a count, not a size"),
            keep("Storage in use", "storage in use, not the disks' capacity"),
            keep("OS architecture", "x64/x86"),
            keep("Firmware type|Boot type", "BIOS or UEFI"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::ServicenowCmdb,
        signature: &[
            "sys_id",
            "sys_class_name",
            "cpu_core_count",
            "cpu_count",
            "ram",
            "disk_space",
            "os_version",
            "host_name",
            "fqdn",
            "install_status",
            "operational_status",
            "serial_number",
            "CPU core count",
            "RAM (MB)",
            "Disk space (GB)",
            "OS Version",
            "Fully qualified domain name",
            "Install Status",
            "Operational status",
            "Operating System",
            "os",
        ],
        entries: &[
            map("name|Name", "hostname", 0.9, "the CI's name").or("name", 0.88),
            map("host_name|Host name", "hostname", 0.97, "the CI's host name"),
            map("fqdn|Fully qualified domain name", "fqdn", 0.97, "fully qualified domain name"),
            map("ip_address|IP Address", "ip_address", 0.97, "the CI's IP address"),
            map("mac_address|MAC Address", "mac_address", 0.97, "the CI's MAC address"),
            map("os|Operating System", "operating_system", 0.97, "operating system"),
            map("os_version|OS Version", "os_version", 0.97, "operating system version"),
            map("cpu_core_count|CPU core count", "cpu_cores", 0.95, "cores per CPU (ServiceNow), times the CPU count")
                .times("cpu_count|CPU count"),
            keep("cpu_count|CPU count", "number of CPUs; multiplies the core count"),
            keep("cpu_core_thread|CPU core thread", "threads per core"),
            keep("cpu_speed|CPU speed", "clock speed"),
            keep("cpu_type|CPU type|cpu_name|CPU name|cpu_manufacturer|CPU manufacturer", "processor details"),
            map("ram|RAM", "memory_gb", 0.97, "RAM in MB").unit(MB),
            map("disk_space|Disk space", "storage_gb", 0.97, "disk space in GB").unit(GB),
            map("serial_number|Serial number", "serial_number", 0.97, "serial number"),
            map("manufacturer|Manufacturer", "manufacturer", 0.97, "manufacturer"),
            map("model_id|Model ID", "model", 0.95, "the CI's model"),
            map("model_number|Model number", "model", 0.8, "model number (used when no model)"),
            map("location|Location", "location", 0.95, "the CI's location"),
            map("department|Department", "department", 0.97, "owning department"),
            map("owned_by|Owned by", "business_owner", 0.9, "the CI's owner"),
            map("managed_by|Managed by", "technical_owner", 0.9, "the person managing the CI"),
            map("support_group|Support group", "technical_owner", 0.8, "the supporting group (used when no manager)"),
            map("environment|Environment", "environment", 0.97, "the CI's environment"),
            map("used_for|Used for", "environment", 0.88, "what the CI is used for (Production, Test, …)"),
            map("short_description|Description", "description", 0.95, "the CI's description"),
            map("sys_class_name|Class", "asset_type", 0.88, "the CI class"),
            keep("assigned_to|Assigned to", "the user of the CI, not its owner"),
            keep("sys_id", "ServiceNow record id"),
            keep("asset_tag|Asset tag", "asset tag"),
            keep("os_service_pack|OS Service Pack", "service pack"),
            keep("os_address_width|OS Address Width", "32/64 bit"),
            keep("dns_domain|DNS Domain", "the DNS domain, not the host's name"),
            keep("install_status|Install Status|operational_status|Operational status", "lifecycle status"),
            keep("virtual|Virtual|Is Virtual", "true/false"),
            keep("company|Company", "owning company"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::Device42,
        signature: &[
            "serial_no",
            "asset_no",
            "hw_model",
            "osver",
            "cpucount",
            "cpucore",
            "cpupower",
            "hddcount",
            "hddsize",
            "service_level",
            "in_service",
            "customer",
            "virtual_host",
            "macaddress",
            "virtual_subtype",
        ],
        entries: &[
            map("name", "hostname", 0.93, "the device's name"),
            map("serial_no", "serial_number", 0.97, "serial number"),
            map("type", "asset_type", 0.9, "physical, virtual, blade, cluster or other"),
            map("virtual_subtype", "virtualization_platform", 0.9, "hypervisor of a virtual device"),
            map("hw_model", "model", 0.97, "hardware model"),
            map("manufacturer", "manufacturer", 0.97, "manufacturer"),
            map("os", "operating_system", 0.97, "operating system"),
            map("osver", "os_version", 0.97, "operating system version"),
            map("memory", "memory_gb", 0.95, "memory in MB").unit(MB),
            map("cpucore", "cpu_cores", 0.93, "cores per CPU (Device42), times the CPU count").times("cpucount"),
            keep("cpucount", "number of CPUs; multiplies the core count"),
            keep("cpupower", "CPU speed"),
            map(
                "hddsize",
                "storage_gb",
                0.85,
                "size of each hard disk (GB unless hddsize_type says TB), times the disk count",
            )
            .unit(GB)
            .times("hddcount"),
            keep("hddcount", "number of hard disks; multiplies the disk size"),
            map("ipaddress|ip", "ip_address", 0.95, "IP address"),
            map("macaddress|mac", "mac_address", 0.95, "MAC address"),
            map("customer", "department", 0.85, "Device42's customer/department"),
            map("service_level", "environment", 0.88, "Device42 service level (Production, QA, …)"),
            map("notes", "description", 0.9, "notes"),
            map("building", "location", 0.85, "building"),
            map("rack", "rack_location", 0.9, "rack"),
            keep("virtual_host", "the hypervisor host of a virtual device"),
            keep("asset_no", "asset number"),
            keep("in_service", "true/false"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::Lansweeper,
        signature: &[
            "AssetName",
            "AssetTypename",
            "Assettype",
            "NrProcessors",
            "Processor",
            "Mac",
            "Serialnumber",
            "Firstseen",
            "Lastseen",
            "Lasttried",
            "Branchoffice",
            "OSname",
            "Domain",
            "Warrantydate",
            "BarCode",
        ],
        entries: &[
            map("AssetName", "hostname", 0.95, "Lansweeper's asset name is the scanned host name"),
            map("IPAddress", "ip_address", 0.97, "IP address"),
            map("Mac|MACAddress", "mac_address", 0.97, "MAC address"),
            map("FQDN", "fqdn", 0.97, "fully qualified domain name"),
            map("Memory", "memory_gb", 0.93, "memory in MB").unit(MB),
            map("NrProcessors", "cpu_cores", 0.8, "processor count (cores are not in tblAssets)"),
            keep("Processor", "processor model"),
            map("OSname|OS", "operating_system", 0.95, "operating system"),
            map("Version", "os_version", 0.85, "operating system version"),
            map("AssetTypename|Assettype|Type", "asset_type", 0.9, "asset type"),
            map("Manufacturer", "manufacturer", 0.97, "manufacturer"),
            map("Model", "model", 0.97, "model"),
            map("Serialnumber|Serial", "serial_number", 0.97, "serial number"),
            map("Description", "description", 0.93, "description"),
            map("Location", "location", 0.93, "location"),
            map("Building|Branchoffice", "location", 0.8, "building or branch office (used when no location)"),
            map("Department", "department", 0.95, "department"),
            map("Contact", "business_owner", 0.75, "the asset's contact person"),
            keep("Domain", "the Windows domain, not the host's name"),
            keep("Username|Userdomain", "last logged-on user"),
            keep("Firstseen|Lastseen|Lasttried", "scan dates"),
            keep("State", "Lansweeper asset state"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::Netbox,
        signature: &[
            "primary_ip4",
            "primary_ip6",
            "primary_ip",
            "vcpus",
            "platform",
            "tenant",
            "site",
            "cluster",
            "role",
            "device_type",
            "asset_tag",
            "rack",
            "position",
            "face",
            "status",
            "airflow",
        ],
        entries: &[
            map("name", "hostname", 0.93, "the device or VM name"),
            map("site", "datacenter", 0.88, "NetBox site"),
            map("location", "location", 0.9, "NetBox location within the site"),
            map("rack", "rack_location", 0.93, "rack"),
            map("role", "asset_type", 0.8, "device or VM role"),
            map("tenant", "business_unit", 0.75, "NetBox tenant"),
            map("platform", "operating_system", 0.88, "NetBox platform (the OS)"),
            map("device_type", "model", 0.93, "NetBox device type (the hardware model)"),
            map("manufacturer", "manufacturer", 0.97, "manufacturer"),
            map("serial", "serial_number", 0.97, "serial number"),
            map("primary_ip4", "ip_address", 0.95, "primary IPv4 address"),
            map("primary_ip", "ip_address", 0.93, "primary IP address"),
            map("primary_ip6", "ip_address", 0.85, "primary IPv6 address (used when no IPv4)"),
            map("vcpus", "cpu_cores", 0.97, "virtual CPUs"),
            map("memory", "memory_gb", 0.95, "memory in MB").unit(MB),
            map("disk", "storage_gb", 0.9, "disk (GB before NetBox 4.1, MB since: the values decide)"),
            map("description", "description", 0.95, "description"),
            keep("comments", "free-form comments"),
            keep("cluster", "virtualisation cluster"),
            keep("device", "the host device a VM runs on, not the VM itself"),
            keep("status|position|face|airflow|asset_tag|tags", "NetBox bookkeeping"),
        ],
    },
    ProfileDef {
        profile: SourceProfile::GoogleMigrationCenter,
        signature: &[
            "MachineId",
            "MachineName",
            "PrimaryIPAddress",
            "PrimaryMACAddress",
            "PublicIPAddress",
            "IpAddressListSemiColonDelimited",
            "TotalDiskAllocatedGiB",
            "TotalDiskUsedGiB",
            "MachineTypeLabel",
            "AllocatedProcessorCoreCount",
            "MemoryGiB",
            "HostingLocation",
            "OsType",
            "OsPublisher",
            "OsName",
            "OsVersion",
            "MachineStatus",
            "ProvisioningState",
            "IsPhysical",
        ],
        entries: &[
            map("MachineName", "hostname", 0.95, "machine name"),
            map("PrimaryIPAddress", "ip_address", 0.97, "primary IP address"),
            map("PrimaryMACAddress", "mac_address", 0.97, "primary MAC address"),
            map("PublicIPAddress", "ip_address", 0.75, "public IP address (used when no primary)"),
            keep("IpAddressListSemiColonDelimited", "all addresses; the primary one is mapped"),
            map("TotalDiskAllocatedGiB", "storage_gb", 0.97, "allocated disk in GiB"),
            keep("TotalDiskUsedGiB", "used disk, not capacity"),
            map("AllocatedProcessorCoreCount", "cpu_cores", 0.97, "allocated cores"),
            map("Memory", "memory_gb", 0.97, "memory"),
            map("HostingLocation", "location", 0.93, "hosting location"),
            map("OsName", "operating_system", 0.97, "operating system name"),
            map("OsVersion", "os_version", 0.97, "operating system version"),
            map("OsType", "operating_system", 0.8, "OS family (used when no OS name)"),
            keep("OsPublisher", "OS publisher"),
            keep("MachineId", "Migration Center machine id"),
            keep("MachineTypeLabel", "machine type label"),
            keep("MachineStatus|ProvisioningState|CreateDate", "lifecycle details"),
            keep("IsPhysical", "true/false"),
            map("SizeInGib", "storage_gb", 0.9, "disk size (diskInfo table)"),
            keep("UsedInGib", "used disk, not capacity"),
            map("CpuUtilizationPercentage", "cpu_utilization_percent", 0.95, "CPU utilisation (perfInfo table)"),
            map(
                "MemoryUtilizationPercentage",
                "memory_utilization_percent",
                0.95,
                "memory utilisation (perfInfo table)",
            ),
        ],
    },
];

pub struct CompiledProfile {
    pub profile: SourceProfile,
    signature: Vec<String>,
    /// Compact header → entry.
    pub entries: HashMap<String, Entry>,
}

pub static PROFILES: LazyLock<Vec<CompiledProfile>> = LazyLock::new(|| {
    DEFS.iter()
        .map(|def| CompiledProfile {
            profile: def.profile,
            signature: def.signature.iter().map(|h| normalise(h).compact).collect(),
            entries: def
                .entries
                .iter()
                .flat_map(|e| e.headers.split('|').map(move |h| (normalise(h).compact, *e)))
                .collect(),
        })
        .collect()
});

/// Signature headers a file needs before a profile is believed.
const MIN_HITS: usize = 3;
const MIN_SCORE: f64 = 0.25;

/// Detects the source format from headers already normalised.
pub fn detect(headers: &[NormalisedHeader]) -> ProfileDetection {
    let mut best: Option<(f64, usize, &CompiledProfile, Vec<String>)> = None;
    for compiled in PROFILES.iter() {
        let mut evidence = Vec::new();
        for key in &compiled.signature {
            if let Some(h) = headers.iter().find(|h| &h.compact == key) {
                evidence.push(h.original.clone());
            }
        }
        let hits = evidence.len();
        let score = hits as f64 / compiled.signature.len() as f64;
        if hits >= MIN_HITS && score >= MIN_SCORE && best.as_ref().is_none_or(|(s, h, ..)| (score, hits) > (*s, *h)) {
            best = Some((score, hits, compiled, evidence));
        }
    }
    match best {
        Some((score, _, compiled, evidence)) => ProfileDetection {
            profile: compiled.profile,
            label: compiled.profile.label(),
            score: (score * 100.0).round() / 100.0,
            evidence,
        },
        None => ProfileDetection {
            profile: SourceProfile::Generic,
            label: SourceProfile::Generic.label(),
            score: 0.0,
            evidence: Vec::new(),
        },
    }
}

/// Which recognised format `headers` come from (Generic when none fits).
pub fn detect_profile(headers: &[String]) -> ProfileDetection {
    let normalised: Vec<NormalisedHeader> = headers.iter().map(|h| normalise(h)).collect();
    detect(&normalised)
}

pub fn compiled(profile: SourceProfile) -> Option<&'static CompiledProfile> {
    PROFILES.iter().find(|p| p.profile == profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_of(headers: &[&str]) -> SourceProfile {
        detect_profile(&headers.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()).profile
    }

    #[test]
    fn formats_are_told_apart() {
        let vinfo = ["VM", "Powerstate", "Template", "CPUs", "Memory", "Provisioned MiB", "In Use MiB", "Host"];
        assert_eq!(detect_of(&vinfo), SourceProfile::RvtoolsVinfo);
        let vdisk = ["VM", "Powerstate", "Disk", "Capacity MiB", "Disk Mode", "Thin", "Controller", "Host"];
        assert_eq!(detect_of(&vdisk), SourceProfile::RvtoolsVdisk);
        let vhost = ["Host", "Datacenter", "Cluster", "# CPU", "Cores per CPU", "# Cores", "# Memory", "CPU usage %"];
        assert_eq!(detect_of(&vhost), SourceProfile::RvtoolsVhost);
        let aws = ["ExternalId", "HostName", "IPAddress", "CPU.NumberOfCores", "RAM.TotalSizeInMB", "OS.Name"];
        assert_eq!(detect_of(&aws), SourceProfile::AwsMigrationHub);
        let azure = ["*Server name", "IP addresses", "*Cores", "*Memory (In MB)", "*OS name", "Disk 1 size (In GB)"];
        assert_eq!(detect_of(&azure), SourceProfile::AzureMigrate);
        let snow = ["name", "host_name", "cpu_core_count", "cpu_count", "ram", "disk_space", "u_app"];
        assert_eq!(detect_of(&snow), SourceProfile::ServicenowCmdb);
        let snow_labels = ["Name", "CPU core count", "CPU count", "RAM (MB)", "Disk space (GB)", "OS Version"];
        assert_eq!(detect_of(&snow_labels), SourceProfile::ServicenowCmdb);
        let d42 = ["name", "serial_no", "hw_model", "os", "osver", "cpucount", "cpucore", "memory", "hddsize"];
        assert_eq!(detect_of(&d42), SourceProfile::Device42);
        let ls = ["AssetName", "Domain", "IPAddress", "Mac", "NrProcessors", "Memory", "Serialnumber", "Lastseen"];
        assert_eq!(detect_of(&ls), SourceProfile::Lansweeper);
        let netbox = ["name", "status", "site", "cluster", "role", "tenant", "platform", "vcpus", "memory", "disk"];
        assert_eq!(detect_of(&netbox), SourceProfile::Netbox);
        let gmc = [
            "MachineId",
            "MachineName",
            "PrimaryIPAddress(optional)",
            "AllocatedProcessorCoreCount",
            "MemoryGiB",
            "OsName",
        ];
        assert_eq!(detect_of(&gmc), SourceProfile::GoogleMigrationCenter);
        assert_eq!(detect_of(&["Server", "Owner", "App"]), SourceProfile::Generic);
    }

    #[test]
    fn every_profile_target_is_an_asset_field() {
        for def in &DEFS {
            for entry in def.entries {
                for target in entry.target.iter().chain(entry.fallback.as_ref().map(|(t, _)| t)) {
                    assert!(modernize::models::asset_fields::is_target_field(target), "{target} in {:?}", def.profile);
                }
            }
        }
    }
}
