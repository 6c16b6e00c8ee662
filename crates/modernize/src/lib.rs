//! Modernize: the backend of an AI-assisted cloud-migration platform.
//!
//! The modules follow the domains of the platform; `db` holds the schema tooling (connection,
//! the private local cluster, migrations, validation) every other domain stands on.

pub mod backup;
pub mod db;
pub mod deploy;
pub mod discovery;
pub mod error;
pub mod examples;
pub mod fixtures;
pub mod jobs;
pub mod models;
pub mod ops;
pub mod perf;
pub mod repo;
pub mod schema;
pub mod service;
pub mod tenancy;
