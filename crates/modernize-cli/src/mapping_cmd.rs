//! `modernize map suggest|learned|forget`: the field-mapping engine on a file, and what a client
//! account's reviews taught it.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use modernize::db::Database;
use modernize::db::local::LocalCluster;
use modernize::repo::mappings::{LearnedMapping, forget_learned_mapping, learned_mappings};
use modernize::tenancy::{OperatorToken, TenantTx};
use modernize_mapping::{Engine, Mapping, suggest_file};

use crate::cli::CliError;
use crate::discovery_cmd::{EncodingArg, account_ctx};
use crate::text::Inline;

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Suggest how the columns of a CSV or XLSX file map to asset fields, with confidence and
    /// reasons (offline; with --client-account, its learned mappings count too).
    Suggest(SuggestArgs),
    /// What the client account's reviewers decided, which the engine prefers next time.
    Learned {
        /// Client account id or slug.
        #[arg(long)]
        client_account: String,
        #[arg(long)]
        json: bool,
    },
    /// Forget the decisions about a source column header: it is suggested afresh next time.
    Forget {
        /// The source column header, as in the file.
        header: String,
        /// Client account id or slug.
        #[arg(long)]
        client_account: String,
        /// Confirm: the forgotten decisions cannot be brought back. Without it the command asks
        /// on a terminal and refuses elsewhere.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// The inventory export: CSV or XLSX.
    file: PathBuf,
    /// The sheet of an XLSX workbook [default: the first].
    #[arg(long)]
    sheet: Option<String>,
    /// Text encoding of a CSV file.
    #[arg(long, value_enum, default_value_t = EncodingArg::Auto)]
    encoding: EncodingArg,
    /// Client account id or slug whose learned mappings apply.
    #[arg(long)]
    client_account: Option<String>,
    /// Print a JSON array of suggestions.
    #[arg(long)]
    json: bool,
}

pub async fn run_map(
    command: MapCommand,
    url: Option<&str>,
    cluster: &LocalCluster,
    operator: &OperatorToken,
) -> Result<(), CliError> {
    match command {
        MapCommand::Suggest(args) => {
            let learned = match &args.client_account {
                Some(account) => learned_of(&Database::resolve(url, cluster).await?, operator, account).await?,
                None => Vec::new(),
            };
            let mapping = suggest(&args.file, args.sheet.as_deref(), args.encoding, &learned)?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&mapping.suggestions)?);
            } else {
                print_mapping(&mapping);
            }
        }
        MapCommand::Learned { client_account, json } => {
            let learned = learned_of(&Database::resolve(url, cluster).await?, operator, &client_account).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&learned)?);
            } else {
                println!("{:<32} {:<26} {:<9} {:>9}  last decided", "source column", "field", "decision", "decisions");
                for l in &learned {
                    println!(
                        "{:<32} {:<26} {:<9} {:>9}  {}",
                        Inline(&l.source_field),
                        l.target_field.as_deref().unwrap_or("(unmapped)"),
                        if l.approved { "approved" } else { "rejected" },
                        l.decisions,
                        l.last_decided_at.format("%Y-%m-%d %H:%M UTC")
                    );
                }
            }
        }
        MapCommand::Forget { header, client_account, yes } => {
            let database = Database::resolve(url, cluster).await?;
            let mut conn = database.connect().await?;
            let ctx = account_ctx(&mut conn, operator, &client_account).await?;
            let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
            // The same rows forget_learned_mapping changes: reviewers' decisions about the header,
            // whatever its case.
            let decisions: i64 = learned_mappings(&mut tx)
                .await?
                .iter()
                .filter(|l| l.source_field.to_lowercase() == header.to_lowercase())
                .map(|l| l.decisions)
                .sum();
            // No transaction stays open while the operator reads the question.
            tx.commit().await?;
            if decisions > 0 {
                let action = format!(
                    "map forget drops {decisions} reviewer decision(s) about the column {header:?} of client \
                     account {client_account}; the engine suggests it afresh and the decisions cannot be brought back"
                );
                crate::text::confirm(&action, yes)?;
            }
            let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
            let forgotten = forget_learned_mapping(&mut tx, &header).await?;
            tx.commit().await?;
            println!("forgot {forgotten} decision(s) about {header:?}");
        }
    }
    Ok(())
}

fn suggest(
    file: &Path,
    sheet: Option<&str>,
    encoding: EncodingArg,
    learned: &[LearnedMapping],
) -> Result<Mapping, CliError> {
    let engine = Engine::new();
    suggest_file(&engine, file, sheet, encoding.into(), learned)
        .map_err(|e| CliError::Discovery(modernize::discovery::DiscoveryError::Ingest(e)))
}

async fn learned_of(
    database: &Database,
    operator: &OperatorToken,
    client_account: &str,
) -> Result<Vec<LearnedMapping>, CliError> {
    let mut conn = database.connect().await?;
    let ctx = account_ctx(&mut conn, operator, client_account).await?;
    let mut tx = TenantTx::begin(&mut conn, &ctx).await?;
    let learned = learned_mappings(&mut tx).await?;
    tx.commit().await?;
    Ok(learned)
}

fn print_mapping(mapping: &Mapping) {
    let profile = &mapping.profile;
    if profile.evidence.is_empty() {
        println!("format: {}", profile.label);
    } else {
        println!(
            "format: {} ({:.0}% of its signature columns: {})",
            profile.label,
            profile.score * 100.0,
            profile.evidence.join(", ")
        );
    }
    for s in &mapping.suggestions {
        println!(
            "{:<32} → {:<26} {:.2}  {:<9} {}",
            Inline(&s.source_field),
            s.target_field.as_deref().unwrap_or("(custom_attributes)"),
            s.confidence,
            s.match_type,
            s.explanation
        );
    }
}
