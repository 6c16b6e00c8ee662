//! How a record of an import identifies its asset within the engagement.
//!
//! A record's keys, strongest first:
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
//! Values are trimmed and lower-cased. Within one file, a record's identity (`assets.dedup_key`,
//! unique per engagement since migration 0007) is the first key it has: two records of one
//! identity are one asset (a merge: the import records both rows against the asset and flags
//! them); two that share a weaker key (a hostname) but differ in a stronger one (a serial
//! number, a VM UUID) are two assets.
//!
//! Across imports (issue 14 item 3), an asset is known by every key of kinds 1–4 it was seen
//! under (`assets.identity_keys`, migration 0015) and by the keys of its own serial, FQDN and
//! hostname columns, whoever wrote them (`migration.asset_identity_keys`). A record whose identity no asset has matches
//! the asset it shares its strongest key with, unless a stronger key contradicts (both have a
//! key of that kind and none in common): a CMDB row (serial, FQDN, hostname) and the RVTools row
//! (VM UUID, hostname) of one server are one asset, recorded as a match on both rows; the same
//! hostname under two VM UUIDs stays two. A match that is not unique (two assets share the key,
//! or two records of the import claim one asset) is made by none, and said ([`resolve`]). A
//! display name (kind 5) is no evidence across sources. Application assets derived from the
//! servers that name them are `application:<name>`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use uuid::Uuid;

/// Headers (lower-case, letters and digits only) of a column holding a virtual machine's UUID,
/// preferred first.
const UUID_HEADERS: [&str; 6] = ["vmuuid", "vminstanceuuid", "instanceuuid", "biosuuid", "smbiosuuid", "uuid"];
/// Headers of a column naming the vCenter that reported the VM.
pub(crate) const VCENTER_HEADERS: [&str; 5] = ["visdkserver", "vcenter", "vcenterserver", "vcentername", "vcenterhost"];

/// A header lower-cased, letters and digits only (`VI SDK Server` → `visdkserver`).
pub(crate) fn squashed(header: &str) -> String {
    header.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

/// Whether `header` [`squashed`] is `wanted` (itself squashed), without building the squashed
/// header: the cleansing asks this of every column of every record for each of some 30 wanted
/// headers, and allocating each squashed header was two thirds of an import's instructions.
fn squashes_to(header: &str, wanted: &str) -> bool {
    // Bytes suffice: a non-ASCII character's bytes are none of them ASCII alphanumerics.
    header.bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase()).eq(wanted.bytes())
}

/// The value of the first column of `raw` whose header is one of `headers` (in their order).
pub(crate) fn column<'a>(raw: &'a Map<String, Value>, headers: &[&str]) -> Option<&'a str> {
    headers.iter().find_map(|wanted| {
        raw.iter()
            .filter(|(header, _)| squashes_to(header, wanted))
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

/// The kinds of key an asset keeps for later imports to match it on, strongest first (the
/// order the inventory's SQL ranks them by).
pub const MATCHING_KINDS: [&str; 4] = ["uuid", "serial", "fqdn", "host"];

/// The keys of `keys` an asset keeps (those of [`MATCHING_KINDS`]), in their order.
pub fn matching_keys(keys: &[String]) -> Vec<String> {
    keys.iter().filter(|k| k.split_once(':').is_some_and(|(kind, _)| MATCHING_KINDS.contains(&kind))).cloned().collect()
}

/// An existing asset of the engagement that the records of one identity of an import share a
/// key with, no stronger key contradicting.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Candidate {
    /// The records' identity (`dedup_key`), which no asset of the engagement has.
    pub dedup_key: String,
    pub asset_id: Uuid,
    pub asset_name: String,
    /// The strongest key they share, and its rank in [`MATCHING_KINDS`] (0 = strongest).
    pub key: String,
    pub strength: i32,
}

/// What [`resolve`] decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resolution {
    /// Identity → the existing asset its records become, with the candidate that decided it.
    pub matches: BTreeMap<String, Candidate>,
    /// Identity → why it matched none although it shares a key (its records make an asset of
    /// their own).
    pub ambiguous: BTreeMap<String, String>,
}

/// Decides which identities of an import become which existing assets: each the asset of its
/// strongest shared key when that asset is the only one at that strength and no other identity
/// of the import claims it; otherwise none (guessing between two machines would overwrite one
/// with the other).
pub fn resolve(candidates: Vec<Candidate>) -> Resolution {
    let mut by_identity: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    for c in candidates {
        by_identity.entry(c.dedup_key.clone()).or_default().push(c);
    }
    let mut resolution = Resolution::default();
    let mut claims: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for (identity, mut found) in by_identity {
        let best = found.iter().map(|c| c.strength).min().unwrap_or_default();
        found.retain(|c| c.strength == best);
        found.sort_by(|a, b| a.asset_name.cmp(&b.asset_name).then(a.asset_id.cmp(&b.asset_id)));
        found.dedup_by_key(|c| c.asset_id);
        match found.as_slice() {
            [one] => {
                claims.entry(one.asset_id).or_default().push(identity.clone());
                resolution.matches.insert(identity, one.clone());
            }
            several => {
                let names: Vec<String> = several.iter().map(|c| format!("{:?}", c.asset_name)).collect();
                let message = format!(
                    "{} is a key of {} assets ({}): matched none, kept as an asset of its own",
                    several[0].key,
                    several.len(),
                    names.join(", ")
                );
                resolution.ambiguous.insert(identity, message);
            }
        }
    }
    for identities in claims.into_values().filter(|ids| ids.len() > 1) {
        for identity in &identities {
            if let Some(c) = resolution.matches.remove(identity) {
                let others: Vec<&str> = identities.iter().filter(|i| *i != identity).map(String::as_str).collect();
                let message = format!(
                    "{} matches the asset {:?}, and so do other rows of this import ({}): matched none, kept as an asset of its own",
                    c.key,
                    c.asset_name,
                    others.join(", ")
                );
                resolution.ambiguous.insert(identity.clone(), message);
            }
        }
    }
    resolution
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

    #[test]
    fn a_header_is_compared_as_squashed() {
        for header in ["VI SDK Server", "vi_sdk-server", "VISDKSERVER", "Vİ SDK Server", "VI SDK Server ñ", "", "VM"]
        {
            for wanted in ["visdkserver", "vm", ""] {
                assert_eq!(squashes_to(header, wanted), squashed(header) == wanted, "{header:?} as {wanted:?}");
            }
        }
        assert!(squashes_to("Ümlaut VM", "mlautvm"));
        assert!(!squashes_to("VI SDK Server", "visdk"));
    }

    fn candidate(identity: &str, asset: u128, name: &str, key: &str, strength: i32) -> Candidate {
        Candidate {
            dedup_key: identity.into(),
            asset_id: Uuid::from_u128(asset),
            asset_name: name.into(),
            key: key.into(),
            strength,
        }
    }

    #[test]
    fn the_strongest_shared_key_decides_and_an_unclear_match_is_none() {
        let resolution = resolve(vec![
            // The RVTools row of the CMDB's web-01: its hostname, and its FQDN, stronger.
            candidate("uuid:vc/1", 1, "web-01", "host:web-01", 3),
            candidate("uuid:vc/1", 2, "web-01.old", "fqdn:web-01.example", 2),
            // Two assets at the strongest shared key.
            candidate("uuid:vc/2", 3, "db-01", "host:db-01", 3),
            candidate("uuid:vc/2", 4, "db-01", "host:db-01", 3),
            // Two VMs of the import claiming one asset.
            candidate("uuid:vc-a/3", 5, "app-01", "host:app-01", 3),
            candidate("uuid:vc-b/4", 5, "app-01", "host:app-01", 3),
        ]);
        assert_eq!(resolution.matches.keys().collect::<Vec<_>>(), ["uuid:vc/1"]);
        assert_eq!(resolution.matches["uuid:vc/1"].asset_id, Uuid::from_u128(2));
        assert_eq!(resolution.ambiguous.keys().collect::<Vec<_>>(), ["uuid:vc-a/3", "uuid:vc-b/4", "uuid:vc/2"]);
        assert!(resolution.ambiguous["uuid:vc/2"].contains("host:db-01 is a key of 2 assets"));
        assert!(resolution.ambiguous["uuid:vc-a/3"].contains("other rows of this import (uuid:vc-b/4)"));
        assert_eq!(
            matching_keys(&["uuid:a".into(), "serial:s".into(), "host:h".into(), "name:n".into()]),
            ["uuid:a", "serial:s", "host:h"]
        );
    }
}
