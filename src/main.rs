//! The `runner` binary: parse the command line, hand it to [`runner::run`], map the outcome to an
//! exit code (0 ok, 1 failed, 2 usage). Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match runner::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version arrive here too, with exit code 0.
            let code = err.exit_code();
            let _ = err.print();
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    match runner::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("runner: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
