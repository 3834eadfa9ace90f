//! The `fastbfp` binary: parses the command line (clap), runs one command, turns errors into a
//! one-line message and an exit code (0 success, 1 failure, 2 usage).

mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let Some(command) = args.command else {
        // No arguments: the help, and success (the default simulation arrives with `run`).
        cli::print_help();
        return;
    };
    if let Err(e) = cli::run(command) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
