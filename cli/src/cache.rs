//! `--cache-type-k` / `--cache-type-v` (`-ctk` / `-ctv`, as llama.cpp's tools spell them):
//! the element type of the KV cache, shared by generation, perplexity and bench.

use anyhow::Result;
use clap::Args;
use edge_runtime::llm::{CacheType, Model, Session, SessionParams};
use std::ffi::OsString;

/// KV cache settings.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct CacheArgs {
    /// KV cache type for keys: f16 or q8_0 (q8_0 takes about half the memory) [-ctk]
    #[arg(long = "cache-type-k", value_name = "TYPE", default_value = "f16")]
    pub type_k: CacheType,
    /// KV cache type for values: f16 or q8_0 [-ctv]
    #[arg(long = "cache-type-v", value_name = "TYPE", default_value = "f16")]
    pub type_v: CacheType,
}

impl CacheArgs {
    /// A session of `n_ctx` tokens with these cache types.
    pub fn session<'m>(&self, model: &'m Model, n_ctx: usize) -> Result<Session<'m>> {
        Ok(model.session_with(&SessionParams {
            n_ctx,
            type_k: self.type_k,
            type_v: self.type_v,
        })?)
    }
}

/// Rewrites llama.cpp's multi-letter short flags `-ctk` and `-ctv` (which the argument
/// parser would read as `-c tk`) into their long forms; every other argument is kept.
pub fn expand_short_flags(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    args.into_iter()
        .map(|a| match a.to_str() {
            Some("-ctk") => "--cache-type-k".into(),
            Some("-ctv") => "--cache-type-v".into(),
            _ => a,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_flags_become_long_ones() {
        let args = [
            "edge-run", "m.gguf", "-ctk", "q8_0", "-ctv", "f16", "-c", "64",
        ];
        let got = expand_short_flags(args.map(OsString::from));
        let want = [
            "edge-run",
            "m.gguf",
            "--cache-type-k",
            "q8_0",
            "--cache-type-v",
            "f16",
            "-c",
            "64",
        ];
        assert_eq!(got, want.map(OsString::from));
    }
}
