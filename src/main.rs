//! The `realitycheck` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match realitycheck::cli::main() {
        Ok(outcome) => ExitCode::from(outcome as u8),
        Err(e) => {
            // Secrets of connection strings are scrubbed from anything printed.
            let msg = realitycheck::secret::scrub(&format!("{e:#}"));
            // Control characters are made visible line by line: a multi-line error (every
            // problem of a spec) stays readable, and nothing in it can drive the terminal.
            let lines: Vec<String> = msg
                .lines()
                .map(|l| realitycheck::report::escape::visible(l).into_owned())
                .collect();
            eprintln!("error: {}", lines.join("\n"));
            ExitCode::from(realitycheck::cli::Outcome::Error as u8)
        }
    }
}
