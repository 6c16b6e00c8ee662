use std::process::ExitCode;

use clap::Parser;

mod cli;
mod consolidate_cmd;
mod discovery_cmd;
mod mapping_cmd;
mod tenancy_cmd;

#[tokio::main]
async fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::init_tracing(&args);
    match cli::run(args).await {
        Ok(code) => code,
        Err(error) => {
            // Each layer's message already names its cause.
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
