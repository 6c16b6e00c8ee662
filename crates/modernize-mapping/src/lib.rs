//! Field-mapping engine: suggests, explains and learns how the columns of an inventory export
//! (RVTools, AWS Migration Hub, Azure Migrate, ServiceNow, Device42, Lansweeper, NetBox, Google
//! Migration Center or a home-grown sheet) map to the asset model.
//!
//! ```
//! use modernize_mapping::{Engine, SourceProfile};
//! let engine = Engine::new(); // once: compiles names and profiles
//! let headers: Vec<String> = ["VM", "Powerstate", "CPUs", "Memory", "Provisioned MiB", "Host"].map(String::from).into();
//! let mapping = engine.map(&headers, &[], &[]);
//! assert_eq!(mapping.profile.profile, SourceProfile::RvtoolsVinfo);
//! assert_eq!(mapping.suggestions[0].target_field.as_deref(), Some("hostname"));
//! assert_eq!(mapping.suggestions[5].target_field, None); // the ESXi host, not the VM's name
//! ```
//!
//! `Engine` implements [`modernize::discovery::Suggester`], so the discovery pipeline uses it
//! as is; [`suggest_file`] reads a CSV or XLSX file for the CLI.

pub mod engine;
pub mod normalise;
pub mod profiles;
pub mod sniff;
pub mod targets;

use std::path::Path;

use modernize::discovery::ingest::{Encoding, IngestError, InventoryFile};
use modernize::repo::mappings::LearnedMapping;
use serde_json::{Map, Value};

pub use engine::{DEFAULT_THRESHOLD, Engine, Mapping, rules_for};
pub use normalise::{NormalisedHeader, normalise};
pub use profiles::{ProfileDetection, SourceProfile, detect_profile};

/// How many records of a file are read as value evidence.
pub const SAMPLE_ROWS: usize = 200;

/// Reads the header and up to [`SAMPLE_ROWS`] valid records of a CSV or XLSX file and maps its
/// columns. `sheet` picks a workbook's sheet (the first one otherwise).
pub fn suggest_file(
    engine: &Engine,
    path: &Path,
    sheet: Option<&str>,
    encoding: Encoding,
    learned: &[LearnedMapping],
) -> Result<Mapping, IngestError> {
    // Refused as an import would refuse it, even past the rows sampled.
    InventoryFile::check_limits(path, sheet)?;
    let mut file = InventoryFile::open(path, sheet, encoding)?;
    let mut samples: Vec<Map<String, Value>> = Vec::with_capacity(SAMPLE_ROWS);
    while samples.len() < SAMPLE_ROWS {
        match file.next_record() {
            Some(Ok(record)) if record.is_valid => samples.push(record.data),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
            None => break,
        }
    }
    Ok(engine.map(&file.shape.headers, &samples, learned))
}
