//! The `fastbfp` binary: parses the command line (clap), runs one command, turns errors into a
//! one-line message and an exit code (0 success, 1 failure, 2 usage).

mod cli;

use clap::Parser;

fn main() {
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // clap's message on one line: the error and any listed items, without the usage
            // block (which `--help` shows).
            let text = e.render().to_string();
            let first: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
            eprintln!("{} (see --help)", first.join(" "));
            std::process::exit(2);
        }
    };
    // No command: the default simulation (`run` with every default).
    let command = args.command.unwrap_or_else(cli::default_command);
    if let Err(e) = cli::run(command) {
        eprintln!("error: {e:#}");
        let usage = e.downcast_ref::<cli::UsageError>().is_some();
        std::process::exit(if usage { 2 } else { 1 });
    }
}
