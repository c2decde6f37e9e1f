//! Quantizing a whole GGUF model: the byte pushing behind `edge-run quantize`.
//!
//! The [`recipe`](crate::recipe) decides each tensor's type; [`quantize_model`] then streams
//! the tensors in file order into a [`GgufFileWriter`]: tensors that keep their type are
//! copied byte for byte from the memory map, the others are dequantized to f32 and
//! quantized again, a chunk of rows at a time on a thread pool. Only one output tensor
//! is held in memory at once, and the output appears at its path only when complete.

use crate::recipe::{self, FileType, QuantTarget, RecipeError, TensorPlan};
use crate::{can_dequantize, can_quantize, dequantize, quantize, QuantError};
use edge_formats::{GgmlType, GgufError, GgufFile, GgufFileWriter, TensorSpec, Value};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Elements converted per work item: big enough to amortise scheduling, small enough that
/// the per-thread f32 scratch stays small (256 KiB) and work spreads over the threads.
const CHUNK_ELEMENTS: usize = 64 * 1024;

/// Metadata keys of split models; a quantized output is one file, so they are dropped.
const SPLIT_KEYS: [&str; 3] = ["split.no", "split.count", "split.tensors.count"];

/// Options of [`quantize_model`]. The default: all CPUs, no requantization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuantizeOptions {
    /// Worker threads (0 means one per available CPU).
    pub threads: usize,
    /// Allow converting tensors that are already quantized. Off by default, as in
    /// llama-quantize: quantizing a dequantized tensor compounds the errors of both
    /// quantizations, so the output is worse than one made from the original weights.
    pub allow_requantize: bool,
}

/// What [`quantize_model`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeSummary {
    /// The target asked for.
    pub target: QuantTarget,
    /// The `general.file_type` written.
    pub file_type: FileType,
    /// Size of the input file.
    pub input_bytes: u64,
    /// Size of the output file.
    pub output_bytes: u64,
    /// Bytes of tensor data in the input.
    pub input_tensor_bytes: u64,
    /// Bytes of tensor data in the output.
    pub output_tensor_bytes: u64,
    /// Total number of tensor elements (parameters).
    pub n_parameters: u64,
    /// Bits per weight of the input: tensor bytes × 8 / parameters.
    pub input_bpw: f64,
    /// Bits per weight of the output.
    pub output_bpw: f64,
    /// Number of tensors.
    pub n_tensors: usize,
    /// Tensors whose type changed (the others were copied).
    pub n_converted: usize,
    /// How many output tensors have each type.
    pub per_type: BTreeMap<GgmlType, usize>,
    /// Wall-clock time of the whole operation.
    pub elapsed: Duration,
}

/// Why a model could not be quantized. Tensor-related errors name the tensor.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    /// The recipe could not be applied.
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    /// A tensor is already quantized and `allow_requantize` is off.
    #[error(
        "tensor {tensor} is already quantized ({from}); requantizing it to {to} adds a second \
         quantization error to the first"
    )]
    Requantize {
        /// Tensor name.
        tensor: String,
        /// Its type in the input.
        from: GgmlType,
        /// The type the recipe chose.
        to: GgmlType,
    },
    /// edge cannot convert between these types.
    #[error("tensor {tensor}: converting {from} to {to} is not supported")]
    Unsupported {
        /// Tensor name.
        tensor: String,
        /// Its type in the input.
        from: GgmlType,
        /// The type the recipe chose.
        to: GgmlType,
    },
    /// The input is one part of a split model.
    #[error("split GGUF models are not supported (split.count = {0}); merge the parts first")]
    Split(i128),
    /// A tensor's shape does not fit its type's blocks, or is too large for this machine.
    #[error("tensor {tensor}: {problem}")]
    Shape {
        /// Tensor name.
        tensor: String,
        /// What is wrong.
        problem: String,
    },
    /// Converting a tensor failed.
    #[error("tensor {tensor}: {source}")]
    Convert {
        /// Tensor name.
        tensor: String,
        /// The conversion error.
        #[source]
        source: QuantError,
    },
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        message: String,
    },
    /// Writing the output failed (the message names the file or tensor).
    #[error(transparent)]
    Output(#[from] GgufError),
}

/// Rows layout of a tensor: `n_rows` rows of `row_len` elements.
struct Rows {
    row_len: usize,
    n_rows: usize,
}

/// Checks that `plan`'s conversion is possible and allowed, before anything is written.
fn preflight(
    plan: &TensorPlan,
    dims: &[u64],
    n_elements: u64,
    opts: &QuantizeOptions,
) -> Result<Rows, QuantizeError> {
    let shape = |problem: String| QuantizeError::Shape {
        tensor: plan.name.clone(),
        problem,
    };
    if plan.from.is_quantized() && !opts.allow_requantize {
        return Err(QuantizeError::Requantize {
            tensor: plan.name.clone(),
            from: plan.from,
            to: plan.to,
        });
    }
    if !can_dequantize(plan.from) || !can_quantize(plan.to) {
        return Err(QuantizeError::Unsupported {
            tensor: plan.name.clone(),
            from: plan.from,
            to: plan.to,
        });
    }
    let row_len = dims.first().copied().unwrap_or(1);
    for ty in [plan.from, plan.to] {
        if row_len % ty.block_size() as u64 != 0 {
            return Err(shape(format!(
                "row length {row_len} is not a multiple of the {ty} block size {}",
                ty.block_size()
            )));
        }
    }
    let too_large = || {
        shape(format!(
            "dimensions {dims:?} are too large for this machine"
        ))
    };
    let n_rows = n_elements.checked_div(row_len).unwrap_or(0);
    // The output tensor is built in memory, so its size must fit in an allocation.
    let out_bytes = plan.to.bytes_for(n_elements).ok_or_else(too_large)?;
    isize::try_from(out_bytes).map_err(|_| too_large())?;
    Ok(Rows {
        row_len: usize::try_from(row_len).map_err(|_| too_large())?,
        n_rows: usize::try_from(n_rows).map_err(|_| too_large())?,
    })
}

/// The input's metadata without split keys, with `general.quantization_version` and
/// `general.file_type` moved to the end with their new values — the order llama-quantize
/// writes, so that the two tools' headers agree.
fn output_metadata(
    input: &GgufFile,
    file_type: FileType,
) -> Result<Vec<(String, Value)>, QuantizeError> {
    if let Some(count) = input.get("split.count").and_then(Value::as_integer) {
        if count > 1 {
            return Err(QuantizeError::Split(count));
        }
    }
    let set = [
        ("general.quantization_version", Value::U32(2)),
        ("general.file_type", Value::U32(file_type.id())),
    ];
    let mut metadata: Vec<(String, Value)> = input
        .metadata()
        .iter()
        .filter(|(k, _)| !SPLIT_KEYS.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k))
        .cloned()
        .collect();
    metadata.extend(set.map(|(k, v)| (k.to_string(), v)));
    Ok(metadata)
}

/// Dequantizes `src` (`rows.n_rows` rows of type `from`) and quantizes it to `to`, a chunk
/// of rows per work item on the current rayon pool. `on_chunk` gets the input bytes of
/// each finished chunk.
fn convert_rows(
    from: GgmlType,
    to: GgmlType,
    src: &[u8],
    rows: &Rows,
    on_chunk: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u8>, QuantError> {
    // Row sizes are exact: preflight checked that blocks tile a row.
    let in_row = rows.row_len / from.block_size() * from.type_size();
    let out_row = rows.row_len / to.block_size() * to.type_size();
    let mut out = vec![0u8; rows.n_rows * out_row];
    if out.is_empty() || in_row == 0 {
        return Ok(out);
    }
    let rows_per_chunk = (CHUNK_ELEMENTS / rows.row_len).max(1);
    out.par_chunks_mut(rows_per_chunk * out_row)
        .zip(src.par_chunks(rows_per_chunk * in_row))
        .try_for_each_init(Vec::new, |scratch: &mut Vec<f32>, (dst, src)| {
            scratch.resize(dst.len() / out_row * rows.row_len, 0.0);
            dequantize(from, src, scratch)?;
            quantize(to, scratch, dst)?;
            on_chunk(src.len() as u64);
            Ok(())
        })?;
    Ok(out)
}

/// The order in which llama-quantize writes tensors: those outside the blocks first, then
/// block by block (`blk.N.`, by N), by name (bytewise) within each group. Returns indices
/// into `names`.
fn llama_cpp_order<'a>(names: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let layer = |name: &str| -> i64 {
        let digits = name.strip_prefix("blk.").map_or("", |rest| {
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            &rest[..end]
        });
        digits.parse().unwrap_or(-1)
    };
    let mut keyed: Vec<(i64, &str, usize)> = names
        .enumerate()
        .map(|(i, name)| (layer(name), name, i))
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// Quantizes `input` to `target`, writing the model to `out_path`.
///
/// Nothing is written when the plan cannot be carried out (an already-quantized tensor
/// without `allow_requantize`, an unsupported conversion, a split input). The output goes
/// to a temporary file renamed onto `out_path` on success, so a failure never leaves a
/// partial model behind. `progress(done, total)` is called, possibly from worker threads,
/// as input tensor bytes are processed.
pub fn quantize_model(
    input: &GgufFile,
    out_path: &Path,
    target: QuantTarget,
    opts: QuantizeOptions,
    progress: impl Fn(u64, u64) + Sync,
) -> Result<QuantizeSummary, QuantizeError> {
    let start = Instant::now();
    let plans = recipe::plan(input, target)?;
    let tensors = input.tensors();
    // Tensors are written in llama-quantize's order, so that both make the same file.
    let order = llama_cpp_order(tensors.iter().map(|t| t.name.as_str()));

    let mut layouts = Vec::with_capacity(tensors.len());
    for (plan, info) in plans.iter().zip(tensors) {
        layouts.push(if plan.converts() {
            Some(preflight(plan, &info.dims, info.n_elements(), &opts)?)
        } else {
            None
        });
    }
    let file_type = target.file_type();
    let metadata = output_metadata(input, file_type)?;
    let specs: Vec<TensorSpec> = order
        .iter()
        .map(|&i| {
            TensorSpec::new(
                tensors[i].name.clone(),
                tensors[i].dims.clone(),
                plans[i].to,
            )
        })
        .collect();

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| QuantizeError::ThreadPool {
            threads: opts.threads,
            message: e.to_string(),
        })?;

    let total: u64 = tensors.iter().map(|t| t.n_bytes()).sum();
    let done = AtomicU64::new(0);
    let advance = |bytes: u64| {
        let now = done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        progress(now, total);
    };
    progress(0, total);

    let mut writer = GgufFileWriter::new(out_path, &metadata, &specs)?;
    let mut output_tensor_bytes = 0u64;
    for &i in &order {
        let (plan, info, rows) = (&plans[i], &tensors[i], &layouts[i]);
        let data = input.tensor_data(info);
        match rows {
            None => {
                writer.write_tensor(&info.name, data)?;
                output_tensor_bytes += data.len() as u64;
                advance(data.len() as u64);
            }
            Some(rows) => {
                let converted = pool
                    .install(|| convert_rows(plan.from, plan.to, data, rows, &advance))
                    .map_err(|source| QuantizeError::Convert {
                        tensor: plan.name.clone(),
                        source,
                    })?;
                writer.write_tensor(&info.name, &converted)?;
                output_tensor_bytes += converted.len() as u64;
            }
        }
        // Done with this input tensor: let its mapped pages go, so peak memory stays near
        // one tensor rather than the whole input file.
        input.release_tensor_data(info);
    }
    writer.commit()?;

    let output_bytes = std::fs::metadata(out_path)
        .map(|m| m.len())
        .map_err(|source| GgufError::Io {
            what: format!("reading the size of {}", out_path.display()),
            source,
        })?;
    let n_parameters: u64 = tensors.iter().map(|t| t.n_elements()).sum();
    let bpw = |bytes: u64| match n_parameters {
        0 => 0.0,
        n => bytes as f64 * 8.0 / n as f64,
    };
    let mut per_type = BTreeMap::new();
    for plan in &plans {
        *per_type.entry(plan.to).or_insert(0) += 1;
    }
    Ok(QuantizeSummary {
        target,
        file_type,
        input_bytes: input.file_size(),
        output_bytes,
        input_tensor_bytes: total,
        output_tensor_bytes,
        n_parameters,
        input_bpw: bpw(total),
        output_bpw: bpw(output_tensor_bytes),
        n_tensors: plans.len(),
        n_converted: plans.iter().filter(|p| p.converts()).count(),
        per_type,
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use edge_formats::{Array, GgufFileWriter};
    use std::sync::Mutex;

    #[test]
    fn tensors_follow_llama_quantize_order() {
        // llama.cpp keys its weights by (block number, or -1 outside the blocks; name):
        // blk.10 after blk.2, non-block tensors first whatever their name.
        let names = [
            "token_embd.weight",
            "blk.10.attn_q.weight",
            "blk.2.ffn_up.weight",
            "output_norm.weight",
            "blk.2.attn_k.weight",
            "blk.0.attn_q.weight",
        ];
        let order: Vec<&str> = llama_cpp_order(names.iter().copied())
            .into_iter()
            .map(|i| names[i])
            .collect();
        assert_eq!(
            order,
            [
                "output_norm.weight",
                "token_embd.weight",
                "blk.0.attn_q.weight",
                "blk.2.attn_k.weight",
                "blk.2.ffn_up.weight",
                "blk.10.attn_q.weight",
            ]
        );
    }

    /// Writes a two-layer model whose weights are `ty` (made from an f32 ramp).
    fn write_model(path: &Path, ty: GgmlType, extra: &[(String, Value)]) {
        let mut tensors: Vec<(String, Vec<u64>)> = vec![("token_embd.weight".into(), vec![256, 8])];
        for i in 0..2 {
            tensors.push((format!("blk.{i}.attn_norm.weight"), vec![256]));
            tensors.push((format!("blk.{i}.attn_v.weight"), vec![256, 64]));
            tensors.push((format!("blk.{i}.ffn_down.weight"), vec![256, 256]));
        }
        let mut metadata = vec![
            ("general.architecture".to_string(), Value::from("llama")),
            ("general.file_type".to_string(), Value::U32(0)),
            ("llama.block_count".to_string(), Value::U32(2)),
            (
                "tokenizer.ggml.tokens".to_string(),
                Value::Array(Array::String(vec!["a".into(), "b".into()])),
            ),
        ];
        metadata.extend_from_slice(extra);
        let specs: Vec<TensorSpec> = tensors
            .iter()
            .map(|(n, d)| {
                let t = if d.len() == 1 { GgmlType::F32 } else { ty };
                TensorSpec::new(n.clone(), d.clone(), t)
            })
            .collect();
        let mut w = GgufFileWriter::new(path, &metadata, &specs).unwrap();
        for spec in &specs {
            let n: u64 = spec.dims.iter().product();
            let f: Vec<f32> = (0..n).map(|j| ((j % 97) as f32 - 48.0) / 64.0).collect();
            let mut bytes = vec![0u8; spec.ggml_type.bytes_for(n).unwrap() as usize];
            quantize(spec.ggml_type, &f, &mut bytes).unwrap();
            w.write_tensor(&spec.name, &bytes).unwrap();
        }
        w.commit().unwrap();
    }

    #[test]
    fn converts_copies_and_sets_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let (inp, out) = (dir.path().join("in.gguf"), dir.path().join("out.gguf"));
        write_model(&inp, GgmlType::F32, &[]);
        let input = GgufFile::open(&inp).unwrap();
        let calls = Mutex::new(vec![]);
        let opts = QuantizeOptions {
            threads: 2,
            allow_requantize: false,
        };
        let target = QuantTarget::parse("q4_k_m").unwrap();
        let summary = quantize_model(&input, &out, target, opts, |d, t| {
            calls.lock().unwrap().push((d, t));
        })
        .unwrap();
        let output = GgufFile::open(&out).unwrap();
        let types: Vec<GgmlType> = output.tensors().iter().map(|t| t.ggml_type).collect();
        use GgmlType::*;
        // Two layers: llama.cpp's use_more_bits(i, 2) holds for layer 1 only (i >= 7*2/8),
        // so attn_v and ffn_down are q4_K then q6_K. No output.weight: the tied token
        // embeddings get the output rule, q6_K. Norms stay f32.
        assert_eq!(types, [Q6_K, F32, Q4_K, Q4_K, F32, Q6_K, Q6_K]);
        assert_eq!(output.get("general.file_type"), Some(&Value::U32(15)));
        assert_eq!(
            output.get("general.quantization_version"),
            Some(&Value::U32(2))
        );
        // Both keys last, in llama-quantize's order; nothing else moved.
        let keys: Vec<&str> = output.metadata().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "general.architecture",
                "llama.block_count",
                "tokenizer.ggml.tokens",
                "general.quantization_version",
                "general.file_type"
            ]
        );
        assert_eq!(summary.n_tensors, 7);
        assert_eq!(summary.n_converted, 5);
        assert_eq!(summary.per_type.values().sum::<usize>(), 7);
        assert_eq!(summary.output_bytes, std::fs::metadata(&out).unwrap().len());
        let calls = calls.into_inner().unwrap();
        let total = summary.input_tensor_bytes;
        assert_eq!(calls.first(), Some(&(0, total)));
        assert_eq!(calls.iter().map(|c| c.0).max(), Some(total));
    }

    #[test]
    fn refuses_requantization_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (inp, out) = (dir.path().join("in.gguf"), dir.path().join("out.gguf"));
        write_model(&inp, GgmlType::Q8_0, &[]);
        let input = GgufFile::open(&inp).unwrap();
        let target = QuantTarget::parse("q4_0").unwrap();
        let err = quantize_model(&input, &out, target, QuantizeOptions::default(), |_, _| {})
            .unwrap_err();
        assert!(
            matches!(&err, QuantizeError::Requantize { tensor, from: GgmlType::Q8_0, to: GgmlType::Q6_K } if tensor == "token_embd.weight"),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let opts = QuantizeOptions {
            threads: 1,
            allow_requantize: true,
        };
        quantize_model(&input, &out, target, opts, |_, _| {}).unwrap();
        // Same-type tensors are copied, not requantized: q8_0 -> q8_0 needs no permission.
        let target = QuantTarget::parse("q8_0").unwrap();
        let out2 = dir.path().join("out2.gguf");
        quantize_model(&input, &out2, target, QuantizeOptions::default(), |_, _| {}).unwrap();
        let output = GgufFile::open(&out2).unwrap();
        let name = "blk.1.ffn_down.weight";
        let (a, b) = (input.tensor(name).unwrap(), output.tensor(name).unwrap());
        assert_eq!(output.tensor_data(b), input.tensor_data(a));
    }

    #[test]
    fn refuses_split_models() {
        let dir = tempfile::tempdir().unwrap();
        let (inp, out) = (dir.path().join("in.gguf"), dir.path().join("out.gguf"));
        write_model(
            &inp,
            GgmlType::F32,
            &[("split.count".into(), Value::U16(2))],
        );
        let input = GgufFile::open(&inp).unwrap();
        let target = QuantTarget::parse("q8_0").unwrap();
        let err = quantize_model(&input, &out, target, QuantizeOptions::default(), |_, _| {})
            .unwrap_err();
        assert!(matches!(err, QuantizeError::Split(2)), "{err}");
        assert!(!out.exists());
    }
}
