//! Example files the demo imports that are better written than committed: an RVTools workbook
//! (`modernize demo` writes it, then imports it after `examples/inventory.csv`).

use std::path::Path;

use rust_xlsxwriter::Workbook;

const VINFO: [&str; 19] = [
    "VM",
    "Powerstate",
    "Template",
    "SRM Placeholder",
    "CPUs",
    "Memory",
    "Provisioned MiB",
    "In Use MiB",
    "OS according to the configuration file",
    "OS according to the VMware Tools",
    "Primary IP Address",
    "DNS Name",
    "Resource pool",
    "Folder",
    "Host",
    "Cluster",
    "Datacenter",
    "VI SDK Server",
    "VM UUID",
];

/// Nine VMs of two vCenters: in Paris's, web and database servers in production, a test server,
/// two powered-off VMs (retire candidates) and a template; in Lyon's, an SRM placeholder (no
/// server to move) and the DR copy of `web-prd-01`, a VM of the same name in the other vCenter
/// (another machine: its VM UUID and vCenter make it another asset).
#[rustfmt::skip]
const VMS: [[&str; 19]; 9] = [
    [
        "web-prd-01", "poweredOn", "False", "False", "2", "8192", "61440", "30720",
        "Red Hat Enterprise Linux 8 (64-bit)", "Red Hat Enterprise Linux 9 (64-bit)", "10.10.1.11",
        "web-prd-01.acme.example", "Prod", "/DC-Paris/vm/Prod/Web", "esx-01.acme.example", "PROD-CL", "DC-Paris",
        "vcenter.acme.example", "4210aa01-0000-4e00-8000-000000000101",
    ],
    [
        "web-prd-02", "poweredOn", "False", "False", "2", "8192", "61440", "28672",
        "Red Hat Enterprise Linux 8 (64-bit)", "Red Hat Enterprise Linux 9 (64-bit)", "10.10.1.12",
        "web-prd-02.acme.example", "Prod", "/DC-Paris/vm/Prod/Web", "esx-02.acme.example", "PROD-CL", "DC-Paris",
        "vcenter.acme.example", "4210aa01-0000-4e00-8000-000000000102",
    ],
    [
        "sql-prd-01", "poweredOn", "False", "False", "8", "65536", "337920", "245760",
        "Microsoft Windows Server 2019 (64-bit)", "Microsoft Windows Server 2022 (64-bit)", "",
        "sql-prd-01.acme.example", "Prod", "/DC-Paris/vm/Prod/SQL", "esx-01.acme.example", "PROD-CL", "DC-Paris",
        "vcenter.acme.example", "4210aa01-0000-4e00-8000-000000000103",
    ],
    [
        "app-tst-01", "poweredOn", "False", "False", "4", "16384", "102400", "40960", "Ubuntu Linux (64-bit)",
        "Ubuntu 22.04.4 LTS", "10.20.1.21", "app-tst-01.acme.example", "Test", "/DC-Paris/vm/Test/App",
        "esx-03.acme.example", "TEST-CL", "DC-Paris", "vcenter.acme.example", "4210aa01-0000-4e00-8000-000000000104",
    ],
    [
        "ftp-legacy-01", "poweredOff", "False", "False", "1", "2048", "40960", "12288",
        "Microsoft Windows Server 2008 R2 (64-bit)", "", "", "ftp-legacy-01.acme.example", "Prod",
        "/DC-Paris/vm/Prod/Legacy", "esx-02.acme.example", "PROD-CL", "DC-Paris", "vcenter.acme.example",
        "4210aa01-0000-4e00-8000-000000000105",
    ],
    [
        "crm-old-02", "poweredOff", "False", "False", "2", "4096", "81920", "30720", "CentOS 7 (64-bit)", "", "",
        "crm-old-02.acme.example", "Test", "/DC-Paris/vm/Test/CRM", "esx-03.acme.example", "TEST-CL", "DC-Paris",
        "vcenter.acme.example", "4210aa01-0000-4e00-8000-000000000106",
    ],
    [
        "tpl-rhel9", "poweredOff", "True", "False", "2", "4096", "40960", "8192",
        "Red Hat Enterprise Linux 9 (64-bit)", "", "", "", "Prod", "/DC-Paris/vm/Templates", "esx-01.acme.example",
        "PROD-CL", "DC-Paris", "vcenter.acme.example", "4210aa01-0000-4e00-8000-000000000107",
    ],
    [
        "sql-prd-01-dr", "poweredOff", "False", "True", "8", "65536", "337920", "0",
        "Microsoft Windows Server 2022 (64-bit)", "", "", "", "DR", "/DC-Lyon/vm/DR/SQL", "esx-dr-01.acme.example",
        "DR-CL", "DC-Lyon", "vcenter-lyon.acme.example", "4210aa01-0000-4e00-8000-000000000108",
    ],
    [
        "web-prd-01", "poweredOn", "False", "False", "2", "8192", "61440", "20480",
        "Red Hat Enterprise Linux 8 (64-bit)", "Red Hat Enterprise Linux 9 (64-bit)", "10.30.1.11",
        "web-prd-01.dr.acme.example", "DR", "/DC-Lyon/vm/DR/Web", "esx-dr-01.acme.example", "DR-CL", "DC-Lyon",
        "vcenter-lyon.acme.example", "4210bb02-0000-4e00-8000-000000000201",
    ],
];

const VDISK: [&str; 8] = ["VM", "Powerstate", "Disk", "Capacity MiB", "Thin", "Disk Path", "VM UUID", "VI SDK Server"];
#[rustfmt::skip]
const DISKS: [[&str; 8]; 8] = [
    ["web-prd-01", "poweredOn", "Hard disk 1", "51200", "True", "[ds-prod-01] web-prd-01/web-prd-01.vmdk", "4210aa01-0000-4e00-8000-000000000101", "vcenter.acme.example"],
    ["web-prd-02", "poweredOn", "Hard disk 1", "51200", "True", "[ds-prod-02] web-prd-02/web-prd-02.vmdk", "4210aa01-0000-4e00-8000-000000000102", "vcenter.acme.example"],
    ["sql-prd-01", "poweredOn", "Hard disk 1", "102400", "False", "[ds-prod-01] sql-prd-01/sql-prd-01.vmdk", "4210aa01-0000-4e00-8000-000000000103", "vcenter.acme.example"],
    ["sql-prd-01", "poweredOn", "Hard disk 2", "204800", "False", "[ds-prod-sql] sql-prd-01/sql-prd-01_1.vmdk", "4210aa01-0000-4e00-8000-000000000103", "vcenter.acme.example"],
    ["app-tst-01", "poweredOn", "Hard disk 1", "92160", "True", "[ds-test-01] app-tst-01/app-tst-01.vmdk", "4210aa01-0000-4e00-8000-000000000104", "vcenter.acme.example"],
    ["ftp-legacy-01", "poweredOff", "Hard disk 1", "40960", "False", "[ds-prod-02] ftp-legacy-01/ftp-legacy-01.vmdk", "4210aa01-0000-4e00-8000-000000000105", "vcenter.acme.example"],
    ["crm-old-02", "poweredOff", "Hard disk 1", "81920", "True", "[ds-test-01] crm-old-02/crm-old-02.vmdk", "4210aa01-0000-4e00-8000-000000000106", "vcenter.acme.example"],
    ["web-prd-01", "poweredOn", "Hard disk 1", "51200", "True", "[ds-dr-01] web-prd-01/web-prd-01.vmdk", "4210bb02-0000-4e00-8000-000000000201", "vcenter-lyon.acme.example"],
];

const VPARTITION: [&str; 7] = ["VM", "Disk", "Capacity MiB", "Consumed MiB", "Free MiB", "VM UUID", "VI SDK Server"];
#[rustfmt::skip]
const PARTITIONS: [[&str; 7]; 3] = [
    ["sql-prd-01", "C:\\", "102047", "61228", "40819", "4210aa01-0000-4e00-8000-000000000103", "vcenter.acme.example"],
    ["sql-prd-01", "E:\\", "204799", "174079", "30720", "4210aa01-0000-4e00-8000-000000000103", "vcenter.acme.example"],
    ["web-prd-01", "/", "51199", "20479", "30720", "4210aa01-0000-4e00-8000-000000000101", "vcenter.acme.example"],
];

const VNETWORK: [&str; 9] = [
    "VM",
    "NIC label",
    "Network",
    "Connected",
    "Mac Address",
    "IPv4 Address",
    "IPv6 Address",
    "VM UUID",
    "VI SDK Server",
];
#[rustfmt::skip]
const NICS: [[&str; 9]; 5] = [
    ["web-prd-01", "Network adapter 1", "VLAN-110-Web", "True", "00:50:56:a1:01:01", "10.10.1.11", "", "4210aa01-0000-4e00-8000-000000000101", "vcenter.acme.example"],
    ["web-prd-02", "Network adapter 1", "VLAN-110-Web", "True", "00:50:56:a1:01:02", "10.10.1.12", "", "4210aa01-0000-4e00-8000-000000000102", "vcenter.acme.example"],
    ["sql-prd-01", "Network adapter 1", "VLAN-120-DB", "True", "00:50:56:a1:01:03", "10.10.2.31", "", "4210aa01-0000-4e00-8000-000000000103", "vcenter.acme.example"],
    ["app-tst-01", "Network adapter 1", "VLAN-210-Test", "True", "00:50:56:a1:01:04", "10.20.1.21", "", "4210aa01-0000-4e00-8000-000000000104", "vcenter.acme.example"],
    ["web-prd-01", "Network adapter 1", "VLAN-310-DR", "True", "00:50:56:b2:02:01", "10.30.1.11", "", "4210bb02-0000-4e00-8000-000000000201", "vcenter-lyon.acme.example"],
];

const VHOST: [&str; 12] = [
    "Host",
    "Datacenter",
    "Cluster",
    "CPU Model",
    "# CPU",
    "Cores per CPU",
    "# Cores",
    "# Memory",
    "ESX Version",
    "Vendor",
    "Model",
    "VI SDK Server",
];
#[rustfmt::skip]
const HOSTS: [[&str; 12]; 4] = [
    ["esx-01.acme.example", "DC-Paris", "PROD-CL", "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "2", "24", "48", "786432", "VMware ESXi 7.0.3 build-21930508", "Dell Inc.", "PowerEdge R740", "vcenter.acme.example"],
    ["esx-02.acme.example", "DC-Paris", "PROD-CL", "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "2", "24", "48", "786432", "VMware ESXi 7.0.3 build-21930508", "Dell Inc.", "PowerEdge R740", "vcenter.acme.example"],
    ["esx-03.acme.example", "DC-Paris", "TEST-CL", "AMD EPYC 7543 32-Core Processor", "1", "32", "32", "262144", "VMware ESXi 8.0.2 build-22380479", "HPE", "ProLiant DL385 Gen10 Plus", "vcenter.acme.example"],
    ["esx-dr-01.acme.example", "DC-Lyon", "DR-CL", "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "2", "24", "48", "524288", "VMware ESXi 7.0.3 build-21930508", "Dell Inc.", "PowerEdge R740", "vcenter-lyon.acme.example"],
];

/// Writes the demo's RVTools export at `path`, two vCenters merged: vInfo (nine VMs, see
/// [`VMS`]), vDisk, vPartition, vNetwork and vHost (four ESXi hosts in three clusters), each
/// sheet with its `VI SDK Server` column (the vCenter), with RVTools' headers
/// and its figures as number cells. Errors: the file cannot be written.
pub fn write_rvtools_workbook(path: &Path) -> std::io::Result<()> {
    let mut book = Workbook::new();
    write_sheet(&mut book, "vInfo", &VINFO, &VMS)?;
    write_sheet(&mut book, "vDisk", &VDISK, &DISKS)?;
    write_sheet(&mut book, "vPartition", &VPARTITION, &PARTITIONS)?;
    write_sheet(&mut book, "vNetwork", &VNETWORK, &NICS)?;
    write_sheet(&mut book, "vHost", &VHOST, &HOSTS)?;
    book.save(path).map_err(std::io::Error::other)
}

/// One sheet: its header, then its rows, a cell that reads as a number written as one.
fn write_sheet<const N: usize>(
    book: &mut Workbook,
    name: &str,
    headers: &[&str; N],
    rows: &[[&str; N]],
) -> std::io::Result<()> {
    let sheet = book.add_worksheet().set_name(name).map_err(std::io::Error::other)?;
    for (c, header) in headers.iter().enumerate() {
        sheet.write_string(0, c as u16, *header).map_err(std::io::Error::other)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            let written = match cell.parse::<f64>() {
                Ok(number) => sheet.write_number(r, c, number).map(|_| ()),
                Err(_) => sheet.write_string(r, c, *cell).map(|_| ()),
            };
            written.map_err(std::io::Error::other)?;
        }
    }
    Ok(())
}
