//! How a record of an import identifies its asset within the engagement (`assets.dedup_key`,
//! unique per engagement since migration 0007).
//!
//! A record's keys, strongest first; its identity is the first it has:
//!
//! 1. `uuid:<vcenter>/<uuid>`: a virtual machine's UUID (RVTools `VM UUID`, else an instance or
//!    BIOS UUID column) with the vCenter that reported it (`VI SDK Server`, `vCenter`), or
//!    `uuid:<uuid>` when the file names no vCenter. A VM name is unique only within a folder of
//!    one vCenter: merged exports of two vCenters hold the same name twice, for two machines.
//! 2. `serial:<serial number>`: a machine's serial number (hardware, or the VMware serial a CMDB
//!    records for a VM).
//! 3. `fqdn:<fully qualified name>`
//! 4. `host:<hostname>` (taken from the FQDN's first label when the file has no hostname)
//! 5. `name:<name>`
//!
//! Values are trimmed and lower-cased. Two records with one identity are one asset (a merge: the
//! import records both rows against the asset and flags them); two records that share a weaker
//! key (a hostname) but differ in a stronger one (a serial number, a VM UUID) are two assets.
//! Application assets derived from the servers that name them are `application:<name>`.

use serde_json::{Map, Value};

/// Headers (lower-case, letters and digits only) of a column holding a virtual machine's UUID,
/// preferred first.
const UUID_HEADERS: [&str; 6] = ["vmuuid", "vminstanceuuid", "instanceuuid", "biosuuid", "smbiosuuid", "uuid"];
/// Headers of a column naming the vCenter that reported the VM.
pub(crate) const VCENTER_HEADERS: [&str; 5] = ["visdkserver", "vcenter", "vcenterserver", "vcentername", "vcenterhost"];

/// A header lower-cased, letters and digits only (`VI SDK Server` → `visdkserver`).
pub(crate) fn squashed(header: &str) -> String {
    header.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

/// The value of the first column of `raw` whose header is one of `headers` (in their order).
pub(crate) fn column<'a>(raw: &'a Map<String, Value>, headers: &[&str]) -> Option<&'a str> {
    headers.iter().find_map(|wanted| {
        raw.iter()
            .filter(|(header, _)| squashed(header) == *wanted)
            .find_map(|(_, value)| value.as_str().map(str::trim).filter(|v| !v.is_empty()))
    })
}

/// The keys of a record, strongest first: `asset` is its cleansed asset fields, `raw` the record
/// as the file has it (the UUID and vCenter columns are no asset fields).
pub fn keys(asset: &Map<String, Value>, raw: &Map<String, Value>) -> Vec<String> {
    let field = |name: &str| asset.get(name).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty());
    let mut keys = Vec::new();
    if let Some(uuid) = column(raw, &UUID_HEADERS) {
        let uuid = uuid.to_lowercase();
        keys.push(match column(raw, &VCENTER_HEADERS) {
            Some(vcenter) => format!("uuid:{}/{uuid}", vcenter.to_lowercase()),
            None => format!("uuid:{uuid}"),
        });
    }
    for (name, prefix) in [("serial_number", "serial"), ("fqdn", "fqdn"), ("hostname", "host"), ("name", "name")] {
        if let Some(value) = field(name) {
            keys.push(format!("{prefix}:{}", value.to_lowercase()));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        serde_json::from_value(value).expect("object")
    }

    #[test]
    fn the_strongest_key_comes_first() {
        let raw = object(json!({"VM": "monitoring", "VM UUID": " 4210AA01-0000 ", "VI SDK Server": "VC-East.example"}));
        let asset = object(json!({"hostname": "monitoring", "name": "monitoring", "fqdn": "monitoring.east.example"}));
        assert_eq!(
            keys(&asset, &raw),
            [
                "uuid:vc-east.example/4210aa01-0000",
                "fqdn:monitoring.east.example",
                "host:monitoring",
                "name:monitoring"
            ]
        );
        let without_vcenter = object(json!({"Instance UUID": "abc"}));
        assert_eq!(keys(&Map::new(), &without_vcenter), ["uuid:abc"]);
        let cmdb = object(json!({"hostname": "WEB-01", "serial_number": "SN-1", "name": "WEB-01"}));
        assert_eq!(keys(&cmdb, &Map::new()), ["serial:sn-1", "host:web-01", "name:web-01"]);
        assert!(keys(&Map::new(), &object(json!({"VM UUID": "  "}))).is_empty());
    }
}
