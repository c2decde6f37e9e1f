//! `edge-run quantize IN OUT TYPE`: llama-quantize's job, with edge's own block formats.

use crate::{fmt, model_file, output};
use anyhow::{anyhow, bail, Result};
use clap::Args;
use edge_quant::{quantize_model, QuantTarget, QuantizeError, QuantizeOptions, QuantizeSummary};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Arguments of `edge-run quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// The GGUF model to quantize.
    pub input: PathBuf,
    /// Where to write the quantized model (written to a temporary file, then renamed).
    pub output: PathBuf,
    /// Target: a llama.cpp mix (q2_k, q3_k_s, q3_k_m, q3_k_l, q4_k_s, q4_k_m, q5_k_s,
    /// q5_k_m, q6_k), a legacy or float type (q4_0, q4_1, q5_0, q5_1, q8_0, iq4_nl,
    /// iq4_xs, f16, bf16, f32), or q3_k / q4_k / q5_k for that one type everywhere
    /// (llama-quantize reads those three as q3_k_m / q4_k_m / q5_k_m). Case-insensitive.
    #[arg(value_name = "TYPE")]
    pub target: String,
    /// Allow converting tensors that are already quantized (the result is worse than
    /// quantizing the original f16/f32 weights).
    #[arg(long)]
    pub allow_requantize: bool,
    /// Worker threads [default: all CPUs].
    #[arg(short = 't', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// True if `a` and `b` are the same existing file, whether through links, `..` or a hard
/// link (same device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (a.metadata(), b.metadata()) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
        false
    }
    #[cfg(not(unix))]
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} ({eta})",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

fn report(args: &QuantizeArgs, s: &QuantizeSummary, threads: usize) -> String {
    let mut out = String::new();
    let name = |p: &Path| p.display().to_string();
    let _ = writeln!(
        out,
        "quantized {} -> {} as {} (general.file_type {} = {})",
        name(&args.input),
        name(&args.output),
        s.target,
        s.file_type.id(),
        s.file_type.name().to_uppercase()
    );
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let _ = writeln!(
        out,
        "size:            {:.2} MiB -> {:.2} MiB (files; tensor data {:.2} -> {:.2} MiB)",
        mib(s.input_bytes),
        mib(s.output_bytes),
        mib(s.input_tensor_bytes),
        mib(s.output_tensor_bytes)
    );
    let _ = writeln!(
        out,
        "bits per weight: {:.2} -> {:.2} ({} parameters)",
        s.input_bpw,
        s.output_bpw,
        fmt::count(s.n_parameters)
    );
    let per_type: Vec<String> = s
        .per_type
        .iter()
        .map(|(ty, n)| format!("{} {n}", ty.name()))
        .collect();
    let _ = writeln!(
        out,
        "tensors:         {} ({} converted, {} copied): {}",
        s.n_tensors,
        s.n_converted,
        s.n_tensors - s.n_converted,
        per_type.join(", ")
    );
    let _ = writeln!(
        out,
        "time:            {} ({threads} threads)",
        fmt::duration(s.elapsed)
    );
    out
}

/// Runs `edge-run quantize`.
pub fn run(args: &QuantizeArgs) -> Result<()> {
    let target = QuantTarget::parse(&args.target)?;
    if same_file(&args.input, &args.output) {
        bail!(
            "{}: the output is the input file; choose another output path",
            args.output.display()
        );
    }
    let parent = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        bail!(
            "{}: directory {} does not exist",
            args.output.display(),
            parent.display()
        );
    }
    if args.output.is_dir() {
        bail!(
            "{}: is a directory; give a file path for the output",
            args.output.display()
        );
    }
    let input = model_file::open(&args.input)?;
    let threads = match args.threads {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let opts = QuantizeOptions {
        threads,
        allow_requantize: args.allow_requantize,
    };
    let bar = progress_bar();
    let result = quantize_model(&input, &args.output, target, opts, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let summary = result.map_err(|e| match e {
        QuantizeError::Requantize { .. } => {
            anyhow!(
                "{}: {e}; pass --allow-requantize to do it anyway",
                args.input.display()
            )
        }
        QuantizeError::Output(e) => anyhow!(e),
        other => anyhow!("{}: {other}", args.input.display()),
    })?;
    output::print(&report(args, &summary, threads))
}
