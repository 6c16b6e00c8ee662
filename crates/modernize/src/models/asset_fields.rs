//! The asset fields an import sets: one table that the mapping engine's targets, the cleansing,
//! the inventory's upsert and the API's list of fields a reviewer may pick all read. A field's
//! name is its column of `migration.assets`; `tests/schema_migrations.rs` checks the table
//! against the migrated schema, so that a migration cannot drift from it unnoticed.

/// What a field's values are, as the cleansing reads them and the column stores them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldKind {
    /// Text as the file has it, trimmed (`varchar`/`text`).
    Text,
    /// One of `migration.asset_type`'s values, read from words (`VM` → `virtual_machine`);
    /// anything else is `other`, with a warning.
    AssetType,
    /// An environment word normalised (`PRD` → `production`), stored as text.
    Environment,
    /// One of `migration.criticality_level`'s values, read from words and tiers (`Tier 1` →
    /// `critical`).
    Criticality,
    /// The first IP address of a list, in its canonical form, stored as text.
    IpAddress,
    /// A MAC address as six lower-case pairs separated by `:`, stored as text.
    MacAddress,
    /// Items of a `,`/`;`/`/`/`|` separated list (a `jsonb` array).
    TextList,
    /// A whole number in `min..=max` (an `integer` column), rounded.
    Integer { min: f64, max: f64 },
    /// A size in GB (`double precision`), up to `max` GB: a value that carries a unit (`512
    /// MB`) is converted by it, else by the column's stated unit.
    Gigabytes { max: f64 },
    /// A percentage in 0..=100 (`double precision`).
    Percent,
    /// A score in 0..=100 the cleansing computes itself (`double precision`).
    Score,
    /// The file's columns that feed no field, and facts read from them (`jsonb` object, merged
    /// key by key into what the asset had).
    Attributes,
}

impl FieldKind {
    /// Whether values are numbers (summed across columns when a mapping says so, range-checked).
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer { .. } | Self::Gigabytes { .. } | Self::Percent | Self::Score)
    }

    /// The range a numeric value must fall in to be stored: its column's type and CHECK
    /// constraint, and for sizes what any machine could have, so that a typo or a misread unit
    /// is flagged instead of stored. None for what is not a number.
    pub fn range(self) -> Option<(f64, f64)> {
        match self {
            Self::Integer { min, max } => Some((min, max)),
            Self::Gigabytes { max } => Some((0.0, max)),
            Self::Percent | Self::Score => Some((0.0, 100.0)),
            _ => None,
        }
    }
}

/// One asset field an import can set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssetField {
    /// The field's name, which is also its column of `migration.assets`.
    pub name: &'static str,
    pub kind: FieldKind,
    /// A file's column can be mapped to it (the others are set by the import itself).
    pub mappable: bool,
    /// Its presence counts toward the asset's `completeness_score` (what a move is planned on).
    pub completeness: bool,
}

const fn field(name: &'static str, kind: FieldKind) -> AssetField {
    AssetField { name, kind, mappable: true, completeness: false }
}

const fn key(name: &'static str, kind: FieldKind) -> AssetField {
    AssetField { name, kind, mappable: true, completeness: true }
}

const fn computed(name: &'static str, kind: FieldKind) -> AssetField {
    AssetField { name, kind, mappable: false, completeness: false }
}

/// The largest `integer` column value.
const INT_MAX: f64 = i32::MAX as f64;

/// Every field an import sets, in the order the mapping engine and the API list them.
pub static ASSET_FIELDS: [AssetField; 37] = [
    field("name", FieldKind::Text),
    field("asset_name", FieldKind::Text),
    key("hostname", FieldKind::Text),
    field("fqdn", FieldKind::Text),
    field("asset_type", FieldKind::AssetType),
    field("description", FieldKind::Text),
    key("ip_address", FieldKind::IpAddress),
    field("mac_address", FieldKind::MacAddress),
    key("environment", FieldKind::Environment),
    field("location", FieldKind::Text),
    field("datacenter", FieldKind::Text),
    field("rack_location", FieldKind::Text),
    key("operating_system", FieldKind::Text),
    field("os_version", FieldKind::Text),
    key("cpu_cores", FieldKind::Integer { min: 0.0, max: 1_000_000.0 }),
    // 1 PiB of memory, 1 EiB of storage.
    key("memory_gb", FieldKind::Gigabytes { max: 1024.0 * 1024.0 }),
    key("storage_gb", FieldKind::Gigabytes { max: 1024.0 * 1024.0 * 1024.0 }),
    field("serial_number", FieldKind::Text),
    field("manufacturer", FieldKind::Text),
    field("model", FieldKind::Text),
    field("virtualization_platform", FieldKind::Text),
    field("database_type", FieldKind::Text),
    key("business_owner", FieldKind::Text),
    field("technical_owner", FieldKind::Text),
    field("department", FieldKind::Text),
    field("business_unit", FieldKind::Text),
    key("application_name", FieldKind::Text),
    field("technology_stack", FieldKind::TextList),
    field("criticality", FieldKind::Criticality),
    key("business_criticality", FieldKind::Criticality),
    field("migration_wave", FieldKind::Integer { min: 0.0, max: INT_MAX }),
    field("cpu_utilization_percent", FieldKind::Percent),
    field("memory_utilization_percent", FieldKind::Percent),
    field("migration_priority", FieldKind::Integer { min: 1.0, max: 10.0 }),
    computed("completeness_score", FieldKind::Score),
    computed("quality_score", FieldKind::Score),
    computed("custom_attributes", FieldKind::Attributes),
];

/// The field of that name (= column), if an import sets it.
pub fn asset_field(name: &str) -> Option<&'static AssetField> {
    ASSET_FIELDS.iter().find(|f| f.name == name)
}

/// The names of the fields a column can be mapped to, in the table's order.
pub fn target_fields() -> impl Iterator<Item = &'static str> {
    ASSET_FIELDS.iter().filter(|f| f.mappable).map(|f| f.name)
}

/// Whether a column can be mapped to the field `name`.
pub fn is_target_field(name: &str) -> bool {
    asset_field(name).is_some_and(|f| f.mappable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_completeness_counts_only_mappable_fields() {
        let mut names: Vec<&str> = ASSET_FIELDS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ASSET_FIELDS.len());
        assert!(ASSET_FIELDS.iter().all(|f| f.mappable || !f.completeness));
        assert_eq!(target_fields().count(), 34);
        assert!(is_target_field("memory_gb") && !is_target_field("quality_score") && !is_target_field("id"));
    }
}
