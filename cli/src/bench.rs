//! `edge-run bench MODEL [-p 512] [-n 128] [-t 2] [-r 3] [--json]`: prompt-processing and
//! generation speed, like llama-bench.
//!
//! `ppN`: N tokens evaluated at once in a fresh context; `tgN`: N tokens evaluated one by
//! one in a fresh context. Tokens are pseudo-random ids (fixed seed). Each test runs once
//! untimed as a warm-up, then `-r` times; the table shows tokens per second, mean ± sample
//! standard deviation.

use crate::cache::CacheArgs;
use crate::models;
use anyhow::{bail, Result};
use clap::Args;
use edge_runtime::llm::{CacheType, Model, Session};
use edge_runtime::sampling::Rng;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `edge-run bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The GGUF model file.
    pub model: PathBuf,
    /// Prompt tokens of the `pp` test; 0 skips it.
    #[arg(
        short = 'p',
        long = "n-prompt",
        value_name = "N",
        default_value_t = 512
    )]
    pub n_prompt: usize,
    /// Generated tokens of the `tg` test; 0 skips it.
    #[arg(short = 'n', long = "n-gen", value_name = "N", default_value_t = 128)]
    pub n_gen: usize,
    /// Threads.
    #[arg(short = 't', long, value_name = "N", default_value_t = 2)]
    pub threads: usize,
    /// Timed repetitions of each test.
    #[arg(short = 'r', long, value_name = "N", default_value_t = 3)]
    pub repetitions: usize,
    /// Print a JSON list of results (llama-bench's field names) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub load: crate::models::LoadArgs,
}

/// One row: a test and its timings.
struct Row {
    test: String,
    n_prompt: usize,
    n_gen: usize,
    samples_ns: Vec<u64>,
}

impl Row {
    fn n_tokens(&self) -> usize {
        self.n_prompt + self.n_gen
    }

    /// Tokens per second of each repetition.
    fn samples_ts(&self) -> Vec<f64> {
        self.samples_ns
            .iter()
            .map(|&ns| self.n_tokens() as f64 * 1e9 / ns.max(1) as f64)
            .collect()
    }
}

/// Runs `edge-run bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    if args.repetitions == 0 {
        bail!("-r must be at least 1");
    }
    if args.n_prompt == 0 && args.n_gen == 0 {
        bail!("nothing to measure: -p and -n are both 0");
    }
    let (model, _) = models::load(&args.model, args.threads, args.load)?;
    let mut rng = Rng::new(1234);
    let n_vocab = model.n_vocab() as u64;
    let mut random_tokens =
        |n: usize| -> Vec<u32> { (0..n).map(|_| (rng.next_u64() % n_vocab) as u32).collect() };
    let mut session = args
        .cache
        .session(&model, args.n_prompt.max(args.n_gen).max(1))?;
    let mut rows = Vec::new();
    if args.n_prompt > 0 {
        let tokens = random_tokens(args.n_prompt);
        let samples = measure(&mut session, args.repetitions, |s| {
            s.eval(&tokens).map(|_| ())
        })?;
        rows.push(Row {
            test: format!("pp{}", args.n_prompt),
            n_prompt: args.n_prompt,
            n_gen: 0,
            samples_ns: samples,
        });
    }
    if args.n_gen > 0 {
        let tokens = random_tokens(args.n_gen);
        let samples = measure(&mut session, args.repetitions, |s| {
            for t in &tokens {
                s.eval(std::slice::from_ref(t))?;
            }
            Ok(())
        })?;
        rows.push(Row {
            test: format!("tg{}", args.n_gen),
            n_prompt: 0,
            n_gen: args.n_gen,
            samples_ns: samples,
        });
    }
    let out = if args.json {
        format!("{}\n", json(&rows, &model, args))
    } else {
        table(&rows, &model, args)
    };
    crate::output::print(&out)
}

/// Runs `test` once to warm up, then `reps` times in a fresh context each, timed.
fn measure(
    session: &mut Session<'_>,
    reps: usize,
    mut test: impl FnMut(&mut Session<'_>) -> Result<(), edge_runtime::llm::LlmError>,
) -> Result<Vec<u64>> {
    let mut samples = Vec::with_capacity(reps);
    for i in 0..=reps {
        session.reset();
        let start = Instant::now();
        test(session)?;
        let ns = start.elapsed().as_nanos() as u64;
        if i > 0 {
            samples.push(ns);
        }
    }
    Ok(samples)
}

/// Mean and sample standard deviation (0 for one sample).
fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (mean, 0.0);
    }
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Bytes and element count of all tensors.
fn size_and_params(model: &Model) -> (u64, u64) {
    model.gguf().tensors().iter().fold((0, 0), |(b, p), t| {
        (
            b.saturating_add(t.n_bytes()),
            p.saturating_add(t.n_elements()),
        )
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// llama-bench's table; like it, the cache type columns appear only when not f16.
fn table(rows: &[Row], model: &Model, args: &BenchArgs) -> String {
    let (path, threads) = (&args.model, args.threads);
    let (bytes, params) = size_and_params(model);
    let CacheArgs { type_k, type_v } = args.cache;
    let (mut head, mut rule, mut cells) = (String::new(), String::new(), String::new());
    for (name, ty) in [("type_k", type_k), ("type_v", type_v)] {
        if ty != CacheType::F16 {
            head.push_str(&format!(" {name} |"));
            rule.push_str(" ---: |");
            cells.push_str(&format!(" {ty} |"));
        }
    }
    let mut s = format!(
        "| model | size | params | backend | threads |{head} test | t/s |\n| --- | ---: | ---: | --- | ---: |{rule} ---: | ---: |\n",
    );
    for r in rows {
        let (mean, sd) = mean_sd(&r.samples_ts());
        s.push_str(&format!(
            "| {} | {:.2} MiB | {:.2} M | CPU | {threads} |{cells} {} | {mean:.2} ± {sd:.2} |\n",
            file_name(path),
            bytes as f64 / (1024.0 * 1024.0),
            params as f64 / 1e6,
            r.test,
        ));
    }
    s
}

fn json(rows: &[Row], model: &Model, args: &BenchArgs) -> serde_json::Value {
    let (path, threads) = (&args.model, args.threads);
    let (bytes, params) = size_and_params(model);
    let list: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let ts = r.samples_ts();
            let ns: Vec<f64> = r.samples_ns.iter().map(|&n| n as f64).collect();
            let (avg_ts, stddev_ts) = mean_sd(&ts);
            let (avg_ns, stddev_ns) = mean_sd(&ns);
            serde_json::json!({
                "model_filename": path.display().to_string(),
                "model_type": format!("{} {}", model.architecture(), file_name(path)),
                "model_size": bytes,
                "model_n_params": params,
                "backends": "CPU",
                "n_threads": threads,
                "type_k": args.cache.type_k.name(),
                "type_v": args.cache.type_v.name(),
                "load_mode": if args.load.no_mmap { "none" } else { "mmap" },
                "n_prompt": r.n_prompt,
                "n_gen": r.n_gen,
                "test": r.test,
                "avg_ns": avg_ns.round() as u64,
                "stddev_ns": stddev_ns.round() as u64,
                "avg_ts": avg_ts,
                "stddev_ts": stddev_ts,
                "samples_ns": r.samples_ns,
                "samples_ts": ts,
            })
        })
        .collect();
    serde_json::Value::Array(list)
}

#[cfg(test)]
mod tests {
    use super::mean_sd;

    #[test]
    fn sample_standard_deviation() {
        // Mean 5; squared deviations 9 + 1 + 1 + 9 = 20; / 3 → sd = sqrt(20/3).
        let (m, sd) = mean_sd(&[2.0, 4.0, 6.0, 8.0]);
        assert_eq!(m, 5.0);
        assert!((sd - (20.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd(&[3.0]), (3.0, 0.0));
    }
}
