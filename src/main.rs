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
            cli::out::write_err(format_args!("{} (see --help)\n", first.join(" ")));
            std::process::exit(2);
        }
    };
    // No command: `run` with the options given (none: the default simulation).
    let command = args.command.unwrap_or(cli::Command::Run(args.run));
    if let Err(e) = cli::run(command) {
        cli::out::write_err(format_args!("error: {}\n", one_line(&e)));
        let usage = e.downcast_ref::<cli::UsageError>().is_some();
        std::process::exit(if usage { 2 } else { 1 });
    }
    // A closed stdout pipe is not an error (`fastbfp gemm ... | head -1`); any other failure
    // to write the output is.
    if let Some(e) = cli::out::stdout_error() {
        cli::out::write_err(format_args!("error: writing to stdout: {e}\n"));
        std::process::exit(1);
    }
}

/// The error and its causes on one line, `: `-separated; a cause whose text the line already
/// holds is left out (a message that quotes its cause would otherwise print it twice), and
/// line breaks inside a message become spaces.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Quoting(#[source] std::io::Error);

    #[test]
    fn a_cause_quoted_by_its_error_is_printed_once() {
        let e = anyhow::Error::new(Quoting(std::io::Error::other("inner\ntext")));
        assert_eq!(one_line(&e), "outer: inner text");
        let e = anyhow::Error::new(std::io::Error::other("disk full")).context("out.csv: cannot write");
        assert_eq!(one_line(&e), "out.csv: cannot write: disk full");
        let e = anyhow::anyhow!("same").context("x: same");
        assert_eq!(one_line(&e), "x: same");
    }
}
