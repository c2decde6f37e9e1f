//! `edge-run`: the command line of edge. Each subcommand lives in its own module; this file
//! only parses arguments, dispatches, and turns errors into one `error:` line and exit 1.
//!
//! Generation is the default action: `edge-run [MODEL] -p TEXT` needs no subcommand.

mod bench;
mod cache;
mod fmt;
mod generate;
mod info;
mod interactive;
mod model_file;
mod models;
mod output;
mod perplexity;
mod prompt;
mod quantize;
mod tokenize;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::Path;
use std::process::ExitCode;

/// Run and manage on-device generative models.
///
/// Without a subcommand, generates text: `edge-run model.gguf -p "Hello"`.
#[derive(Debug, Parser)]
#[command(name = "edge-run", version)]
// A first word that names a subcommand is the subcommand; anything else is a MODEL path
// and generation arguments.
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    generate: generate::GenerateArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe a GGUF model: architecture, sizes, tokenizer, tensors.
    Info(info::InfoArgs),
    /// Quantize a GGUF model to another type or llama.cpp mix.
    Quantize(quantize::QuantizeArgs),
    /// Print the token ids of a text as a JSON list.
    Tokenize(tokenize::TokenizeArgs),
    /// Perplexity of a model on a text file.
    Perplexity(perplexity::PerplexityArgs),
    /// Prompt-processing and generation speed (like llama-bench).
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    // Usage errors exit with clap's code 2 from here.
    let cli = Cli::parse_from(cache::expand_short_flags(std::env::args_os()));
    if let Some(model) = &cli.generate.model {
        if looks_like_a_mistyped_subcommand(model) {
            Cli::command()
                .error(
                    clap::error::ErrorKind::InvalidSubcommand,
                    format!(
                        "unrecognized subcommand '{}' (nor is it a model file)",
                        model.display()
                    ),
                )
                .exit();
        }
    }
    let result = match &cli.command {
        Some(Command::Info(args)) => info::run(args),
        Some(Command::Quantize(args)) => quantize::run(args),
        Some(Command::Tokenize(args)) => tokenize::run(args),
        Some(Command::Perplexity(args)) => perplexity::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        None => generate::run(&cli.generate),
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

/// A bare word that is no file (`edge-run tokenzie …`) was meant as a subcommand, not as
/// the MODEL of the default action: say so as a usage error rather than "file not found".
fn looks_like_a_mistyped_subcommand(model: &Path) -> bool {
    !model.exists() && model.extension().is_none() && model.components().count() == 1
}
