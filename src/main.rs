//! The `realitycheck` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match realitycheck::cli::main() {
        Ok(outcome) => ExitCode::from(outcome as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(realitycheck::cli::Outcome::Error as u8)
        }
    }
}
