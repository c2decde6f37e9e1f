//! `edge-run info MODEL`: what a GGUF file holds, for people (text) or programs (`--json`).

mod json;
mod summary;
mod text;

use crate::{model_file, output};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `edge-run info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The GGUF model file.
    pub model: PathBuf,
    /// Print one JSON object (all metadata, every tensor) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also list every tensor: name, type, shape, size.
    #[arg(long)]
    pub tensors: bool,
}

/// Runs `edge-run info`.
pub fn run(args: &InfoArgs) -> Result<()> {
    let file = model_file::open(&args.model)?;
    let summary = summary::Summary::of(&file, &args.model);
    let report = if args.json {
        json::render(&summary, &file)
    } else {
        text::render(&summary, &file, args.tensors)
    };
    output::print(&report)
}
