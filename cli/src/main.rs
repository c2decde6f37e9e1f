//! `edge-run`: the command line of edge. Each subcommand lives in its own module; this file
//! only parses arguments, dispatches, and turns errors into one `error:` line and exit 1.

mod fmt;
mod info;
mod model_file;
mod output;
mod quantize;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Run and manage on-device generative models.
#[derive(Debug, Parser)]
#[command(name = "edge-run", version, arg_required_else_help = true)]
// Generation (`edge-run MODEL -p PROMPT`) will be the default action: its arguments will
// sit here, beside the subcommand, with `args_conflicts_with_subcommands`.
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe a GGUF model: architecture, sizes, tokenizer, tensors.
    Info(info::InfoArgs),
    /// Quantize a GGUF model to another type or llama.cpp mix.
    Quantize(quantize::QuantizeArgs),
}

fn main() -> ExitCode {
    // Usage errors exit with clap's code 2 from here.
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Info(args)) => info::run(args),
        Some(Command::Quantize(args)) => quantize::run(args),
        None => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
