use std::process::ExitCode;

use clap::Parser;
use modernize::tenancy::OperatorToken;

// Every human-readable line goes through these, which shadow the standard macros in the whole
// crate: control characters (terminal escape sequences from client files) are shown escaped, so
// no print can forget it. JSON output is unchanged by them (serde_json escapes those already).
macro_rules! print {
    ($($arg:tt)*) => { ::std::print!("{}", $crate::text::Escaped(format_args!($($arg)*))) };
}
macro_rules! println {
    () => { ::std::println!() };
    ($($arg:tt)*) => { ::std::println!("{}", $crate::text::Escaped(format_args!($($arg)*))) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { ::std::eprint!("{}", $crate::text::Escaped(format_args!($($arg)*))) };
}
macro_rules! eprintln {
    () => { ::std::eprintln!() };
    ($($arg:tt)*) => { ::std::eprintln!("{}", $crate::text::Escaped(format_args!($($arg)*))) };
}

mod cli;
mod consolidate_cmd;
mod deploy_cmd;
mod discovery_cmd;
mod mapping_cmd;
mod ops_cmd;
mod serve_cmd;
mod tenancy_cmd;
mod text;

/// `modernize … | head` closes stdout early: end quietly, as a process killed by SIGPIPE would
/// (status 141), instead of reporting a panic from `println!`. (Resetting SIGPIPE itself needs
/// `unsafe`, which the workspace forbids.)
fn end_quietly_on_broken_pipe() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload().downcast_ref::<String>().map_or("", String::as_str);
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
}

#[tokio::main]
async fn main() -> ExitCode {
    // The operator capability is taken before anything else runs: whatever this process serves
    // later cannot make another one (see `OperatorToken`).
    let Some(operator) = OperatorToken::bootstrap() else {
        eprintln!("error: the operator capability was taken before the command line was read");
        return ExitCode::from(70);
    };
    end_quietly_on_broken_pipe();
    let args = cli::Cli::parse();
    cli::init_tracing(&args);
    match cli::run(args, &operator).await {
        Ok(code) => code,
        Err(error) => {
            // Each layer's message already names its cause.
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
