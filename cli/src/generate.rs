//! `edge-run [MODEL] -p TEXT`: generate text, the default action of `edge-run`.
//!
//! The generated text streams to stdout as it is produced; a timing summary goes to
//! stderr. With `--json`, one JSON object instead. Without a prompt, on a terminal, an
//! interactive chat ([`crate::interactive`]).

use crate::cache::CacheArgs;
use crate::prompt::PromptArgs;
use crate::{interactive, models};
use anyhow::{bail, Context, Result};
use clap::Args;
use edge_runtime::chat::{ChatTemplate, Message};
use edge_runtime::generate::{generate, GenerateOutput, GenerateParams, Timings};
use edge_runtime::llm::Model;
use edge_runtime::sampling::{Sampler, SamplingParams};
use std::io::{ErrorKind, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;

/// Arguments of generation (no subcommand).
#[derive(Debug, Args, Clone, Default)]
pub struct GenerateArgs {
    /// The GGUF model file [default: $EDGE_MODELS/SmolLM2-135M-Instruct.Q4_1.gguf, where
    /// $EDGE_MODELS defaults to ~/.cache/edge/models].
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub prompt: PromptArgs,
    /// Most tokens to generate; -1 = until an end-of-generation token or a full context.
    #[arg(
        short = 'n',
        long = "n-predict",
        value_name = "N",
        default_value_t = 256,
        allow_negative_numbers = true
    )]
    pub n_predict: i64,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Threads for the computation [default: all cores].
    #[arg(
        short = 't',
        long,
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true
    )]
    pub threads: usize,
    /// Context size in tokens [default: min(4096, the model's training context)].
    #[arg(short = 'c', long = "ctx-size", value_name = "N")]
    pub ctx_size: Option<usize>,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub load: crate::models::LoadArgs,
    /// Stop when the model writes STR (not printed); repeatable.
    #[arg(long, value_name = "STR")]
    pub stop: Vec<String>,
    /// Wrap the prompt as a user message in the model's chat template (ChatML when the
    /// model has none) and generate the assistant's answer.
    #[arg(long)]
    pub chat: bool,
    /// System message for --chat (implies --chat).
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// Print one JSON object (prompt tokens, tokens, text, timings) instead of streaming.
    #[arg(long)]
    pub json: bool,
}

/// Sampling settings; the defaults are llama.cpp's.
#[derive(Debug, Args, Clone, Default)]
pub struct SamplingArgs {
    /// Temperature; 0 = greedy (always the most likely token).
    #[arg(long, value_name = "T", default_value_t = 0.8)]
    pub temp: f32,
    /// Sample among the K most likely tokens only; 0 = all.
    #[arg(long, value_name = "K", default_value_t = 40)]
    pub top_k: usize,
    /// Sample among the most likely tokens whose probabilities add up to P; 1 = all.
    #[arg(long, value_name = "P", default_value_t = 0.95)]
    pub top_p: f32,
    /// Drop tokens less likely than P × the most likely one; 0 = none.
    #[arg(long, value_name = "P", default_value_t = 0.05)]
    pub min_p: f32,
    /// Penalize repeating any of the last --repeat-last-n tokens; 1 = off.
    #[arg(long, value_name = "R", default_value_t = 1.0)]
    pub repeat_penalty: f32,
    /// How many of the last tokens the penalties look at.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub repeat_last_n: usize,
    /// Subtract F × (occurrences in the window) from a token's logit; 0 = off.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub frequency_penalty: f32,
    /// Subtract F from the logit of a token present in the window; 0 = off.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub presence_penalty: f32,
    /// Random seed [default: a new one each run, printed in the summary].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
}

impl SamplingArgs {
    /// The sampler these settings describe.
    pub fn sampler(&self) -> Result<Sampler> {
        let params = SamplingParams {
            temp: self.temp,
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
            repeat_penalty: self.repeat_penalty,
            repeat_last_n: self.repeat_last_n,
            frequency_penalty: self.frequency_penalty,
            presence_penalty: self.presence_penalty,
            seed: self.seed.unwrap_or_else(random_seed),
        };
        Ok(Sampler::new(params)?)
    }
}

/// A seed that differs between runs: the clock mixed with the process id.
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    edge_runtime::sampling::Rng::new(nanos ^ (u64::from(std::process::id()) << 32)).next_u64()
}

impl GenerateArgs {
    /// `n_predict` as the library takes it.
    pub fn n_predict(&self) -> Option<usize> {
        usize::try_from(self.n_predict).ok()
    }

    /// The context size for `model`.
    pub fn n_ctx(&self, model: &Model) -> Result<usize> {
        let n = self
            .ctx_size
            .unwrap_or_else(|| model.n_ctx_train().clamp(1, 4096));
        if n == 0 {
            bail!("the context size (-c) must be at least 1");
        }
        Ok(n)
    }
}

/// Runs generation.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let text = args.prompt.read()?;
    let model_path = models::resolve(args.model.as_deref())?;
    let Some(text) = text else {
        if std::io::stdin().is_terminal() && !args.json {
            return interactive::run(args, &model_path);
        }
        bail!("no prompt: give one with -p TEXT or -f FILE (or run on a terminal to chat)");
    };
    // Check settings before the (slow) load.
    let mut sampler = args.sampling.sampler()?;
    let (model, load_ms) = models::load(&model_path, args.threads, args.load)?;
    let prompt_tokens = if args.chat || args.system.is_some() {
        let mut messages = Vec::new();
        if let Some(system) = &args.system {
            messages.push(Message::new("system", system.as_str()));
        }
        messages.push(Message::new("user", text));
        chat_tokens(&model, &messages)?
    } else {
        model.tokenizer().encode(&text, true, true)
    };
    let mut session = args.cache.session(&model, args.n_ctx(&model)?)?;
    let params = GenerateParams {
        n_predict: args.n_predict(),
        stop: args.stop.clone(),
    };
    let mut out = if args.json {
        generate(&mut session, &prompt_tokens, &mut sampler, &params, |_| {
            ControlFlow::Continue(())
        })?
    } else {
        let mut stdout = std::io::stdout().lock();
        let mut write_error = None;
        let out = generate(
            &mut session,
            &prompt_tokens,
            &mut sampler,
            &params,
            |piece| match stdout
                .write_all(piece.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    write_error = Some(e);
                    ControlFlow::Break(())
                }
            },
        )?;
        match write_error {
            // The reader went away (`| head`): it has what it wanted.
            Some(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            Some(e) => return Err(e).context("writing to stdout"),
            None => {}
        }
        out
    };
    out.timings.load_ms = Some(load_ms);
    let seed = sampler.params().seed;
    if args.json {
        let json = serde_json::json!({
            "prompt_tokens": prompt_tokens,
            "tokens": out.tokens,
            "text": out.text,
            "stop_reason": out.stop_reason.as_str(),
            "seed": seed,
            "timings": timings_json(&out.timings),
        });
        crate::output::print(&format!("{json}\n"))?;
    } else if !out.text.ends_with('\n') {
        // The summary on stderr starts on a line of its own.
        eprintln!();
    }
    eprintln!("{}", summary(&out, seed));
    Ok(())
}

/// The token ids of `messages` rendered by the model's chat template.
pub fn chat_tokens(model: &Model, messages: &[Message]) -> Result<Vec<u32>> {
    let tok = model.tokenizer();
    let template = ChatTemplate::for_model(model.chat_template(), tok)?;
    let text = template.render(messages, true)?;
    // Templates usually write BOS themselves; the tokenizer must not add a second one.
    let has_bos = !template.bos_token().is_empty() && text.starts_with(template.bos_token());
    Ok(tok.encode(&text, !has_bos, true))
}

fn timings_json(t: &Timings) -> serde_json::Value {
    serde_json::json!({
        "load_ms": t.load_ms,
        "prompt_ms": t.prompt_ms,
        "n_prompt": t.n_prompt,
        "prompt_tokens_per_s": t.prompt_tokens_per_s(),
        "gen_ms": t.gen_ms,
        "n_gen": t.n_gen,
        "gen_tokens_per_s": t.gen_tokens_per_s(),
        "peak_rss_bytes": models::peak_rss_bytes(),
    })
}

/// One line for stderr: times, speeds, memory, why it stopped.
pub fn summary(out: &GenerateOutput, seed: u64) -> String {
    let t = &out.timings;
    let mut s = String::new();
    if let Some(load) = t.load_ms {
        s.push_str(&format!("load {load:.0} ms | "));
    }
    s.push_str(&format!(
        "prompt {} tokens in {:.0} ms ({:.1} t/s) | generation {} tokens in {:.0} ms ({:.1} t/s)",
        t.n_prompt,
        t.prompt_ms,
        t.prompt_tokens_per_s(),
        t.n_gen,
        t.gen_ms,
        t.gen_tokens_per_s()
    ));
    if let Some(rss) = models::peak_rss_bytes() {
        s.push_str(&format!(
            " | peak RSS {:.1} MiB",
            rss as f64 / (1024.0 * 1024.0)
        ));
    }
    s.push_str(&format!(
        " | stop: {} | seed {seed}",
        out.stop_reason.as_str()
    ));
    s
}
