//! Maps a CSV or XLSX file and prints the suggestions as JSON:
//! `cargo run -p modernize-mapping --example map_file -- FILE [SHEET]`.

use std::path::PathBuf;
use std::process::ExitCode;

use modernize::discovery::ingest::Encoding;
use modernize_mapping::{Engine, suggest_file};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next().map(PathBuf::from) else {
        eprintln!("usage: map_file FILE [SHEET]");
        return ExitCode::from(2);
    };
    let sheet = args.next();
    match suggest_file(&Engine::new(), &path, sheet.as_deref(), Encoding::Auto, &[]) {
        Ok(mapping) => match serde_json::to_string_pretty(&mapping) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
