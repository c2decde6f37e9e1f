//! `edge-run tokenize MODEL (-p TEXT | -f FILE) [--no-bos]`: the token ids of a text, as
//! one JSON list on one line.

use crate::prompt::PromptArgs;
use crate::{model_file, output};
use anyhow::{anyhow, bail, Result};
use clap::Args;
use edge_runtime::tokenizer::Tokenizer;
use std::path::PathBuf;

/// Arguments of `edge-run tokenize`.
#[derive(Debug, Args)]
pub struct TokenizeArgs {
    /// The GGUF model file whose tokenizer to use.
    pub model: PathBuf,
    #[command(flatten)]
    pub prompt: PromptArgs,
    /// Do not add BOS (nor EOS), even where the model asks for it.
    #[arg(long)]
    pub no_bos: bool,
}

/// Runs `edge-run tokenize`. Special-token text (`<|im_start|>`) becomes the special token.
pub fn run(args: &TokenizeArgs) -> Result<()> {
    let Some(text) = args.prompt.read()? else {
        bail!("no text to tokenize: give it with -p TEXT or -f FILE");
    };
    // Only the tokenizer is needed: no weights are touched.
    let file = model_file::open(&args.model)?;
    let tok = Tokenizer::from_gguf(&file).map_err(|e| anyhow!("{}: {e}", args.model.display()))?;
    let ids = tok.encode(&text, !args.no_bos, true);
    output::print(&format!("{}\n", serde_json::json!(ids)))
}
