//! OpenAPI schemas of the schema's enum types that the API sends or accepts: a string with the
//! enum's values, named after the Rust type. Written by hand beside the generated `tables.rs`
//! (which knows nothing of the API) from each enum's `ALL` list, so they cannot drift.

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, SchemaFormat};

use super::{AssetStatus, AssetType, CriticalityLevel, DependencyType, SixrStrategy};

fn string_enum(values: impl Iterator<Item = &'static str>, description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .description(Some(description))
        .format(None::<SchemaFormat>)
        .into()
}

macro_rules! enum_schema {
    ($($name:ident: $description:literal),* $(,)?) => {$(
        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string_enum($name::ALL.into_iter().map($name::as_str), $description)
            }
        }

        impl utoipa::ToSchema for $name {}
    )*};
}

enum_schema! {
    AssetType: "The kind of asset.",
    AssetStatus: "Where the asset stands in its migration.",
    CriticalityLevel: "Criticality, from low to critical (sorted in that order).",
    DependencyType: "How one asset depends on another.",
    SixrStrategy: "A 6R migration strategy.",
}
