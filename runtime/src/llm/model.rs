//! [`Model`]: a loaded model — its file, hyperparameters, weights and tokenizer.

use std::path::Path;

use edge_formats::GgufFile;
use edge_kernels::{KernelTable, Pool};

use super::forward::{Ctx, Weights};
use super::hparams::{Arch, Hparams};
use super::{LlmError, Session, SessionParams};
use crate::device::Device;
use crate::tokenizer::Tokenizer;

/// How to load a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadParams {
    /// Threads for the matrix products; `0` uses every core.
    pub threads: usize,
    /// The device to compute on.
    pub device: Device,
    /// Map the file and use the weights in place ([`GgufFile::open`], the default), or
    /// read it into memory ([`GgufFile::read`], llama.cpp's `--no-mmap`). A mapped file
    /// loads faster and the kernel may drop its pages under memory pressure; memory read
    /// in takes transparent huge pages where the OS offers them, which makes decoding
    /// (every weight read once per token) faster: Gemma 3 270M about 1.3× here.
    pub mmap: bool,
}

impl Default for LoadParams {
    fn default() -> Self {
        LoadParams {
            threads: 0,
            device: Device::default(),
            mmap: true,
        }
    }
}

/// Opens `path` as `params` ask: mapped or read into memory.
fn open(path: &Path, params: &LoadParams) -> Result<GgufFile, LlmError> {
    Ok(if params.mmap {
        GgufFile::open(path)?
    } else {
        GgufFile::read(path)?
    })
}

/// A model loaded from a GGUF file, ready to start [`Session`]s.
///
/// The weights stay in the file's bytes (read into memory or mapped), in their quantized
/// form. A `Model` is immutable, `Send` and `Sync`: several sessions (one per thread) may
/// share it.
#[derive(Debug)]
pub struct Model {
    file: GgufFile,
    arch_name: String,
    hparams: Hparams,
    weights: Weights,
    tokenizer: Tokenizer,
    chat_template: Option<String>,
    table: &'static KernelTable,
    /// Worker threads of the matrix products, kept alive for the model's lifetime.
    pool: Pool,
}

impl Model {
    /// Opens the GGUF file at `path`, reads its hyperparameters and tokenizer, and checks
    /// that every weight tensor is present, of the right shape and of a type the device can
    /// compute with.
    pub fn load(path: impl AsRef<Path>, params: &LoadParams) -> Result<Model, LlmError> {
        Model::from_file(open(path.as_ref(), params)?, params)
    }

    /// As [`load`](Self::load), for a file already opened.
    pub fn from_file(file: GgufFile, params: &LoadParams) -> Result<Model, LlmError> {
        Model::from_file_with_progress(file, params, |_| true)
    }

    /// As [`load`](Self::load), reporting progress: `progress` is called with a fraction
    /// in `[0, 1]` (after opening the file, then after each loading step, `1.0` when
    /// done); when it returns `false`, loading stops with [`LlmError::Cancelled`] and
    /// everything loaded so far is released.
    pub fn load_with_progress(
        path: impl AsRef<Path>,
        params: &LoadParams,
        mut progress: impl FnMut(f32) -> bool,
    ) -> Result<Model, LlmError> {
        if !progress(0.0) {
            return Err(LlmError::Cancelled);
        }
        Model::from_file_with_progress(open(path.as_ref(), params)?, params, progress)
    }

    /// As [`from_file`](Self::from_file), reporting progress as
    /// [`load_with_progress`](Self::load_with_progress) does.
    pub fn from_file_with_progress(
        file: GgufFile,
        params: &LoadParams,
        mut progress: impl FnMut(f32) -> bool,
    ) -> Result<Model, LlmError> {
        let mut step = |fraction: f32| {
            if progress(fraction) {
                Ok(())
            } else {
                Err(LlmError::Cancelled)
            }
        };
        step(0.1)?;
        let arch_name = file
            .get("general.architecture")
            .ok_or_else(|| LlmError::MissingHyperparameter {
                key: "general.architecture".into(),
            })?
            .as_str()
            .ok_or_else(|| LlmError::BadHyperparameter {
                key: "general.architecture".into(),
                why: "expected a string".into(),
            })?
            .to_owned();
        let arch = Arch::from_name(&arch_name).ok_or_else(|| LlmError::UnknownArchitecture {
            arch: arch_name.clone(),
        })?;
        let table = match params.device {
            Device::Cpu => KernelTable::from_env()?,
        };
        let tokenizer = Tokenizer::from_gguf(&file)?;
        step(0.3)?;
        let hparams = Hparams::from_gguf(&file, arch, tokenizer.n_vocab())?;
        if hparams.n_vocab > tokenizer.n_vocab() {
            return Err(LlmError::BadHyperparameter {
                key: format!("{arch_name}.vocab_size"),
                why: format!(
                    "{} exceeds the tokenizer's {} tokens",
                    hparams.n_vocab,
                    tokenizer.n_vocab()
                ),
            });
        }
        step(0.4)?;
        let weights = Weights::load(&file, &hparams)?;
        step(0.9)?;
        let chat_template = file
            .get("tokenizer.chat_template")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let threads = match params.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let pool = Pool::new(threads)?;
        step(1.0)?;
        Ok(Model {
            file,
            arch_name,
            hparams,
            weights,
            tokenizer,
            chat_template,
            table,
            pool,
        })
    }

    /// The model's tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// The architecture, as named by `general.architecture` (e.g. `llama`).
    pub fn architecture(&self) -> &str {
        &self.arch_name
    }

    /// Number of logits per token.
    pub fn n_vocab(&self) -> usize {
        self.hparams.n_vocab
    }

    /// Context length the model was trained with.
    pub fn n_ctx_train(&self) -> usize {
        self.hparams.n_ctx_train
    }

    /// Width of the residual stream.
    pub fn n_embd(&self) -> usize {
        self.hparams.n_embd
    }

    /// Number of transformer blocks.
    pub fn n_layer(&self) -> usize {
        self.hparams.n_layer
    }

    /// Threads used for the matrix products.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// The chat template of the model (`tokenizer.chat_template`), if it has one.
    pub fn chat_template(&self) -> Option<&str> {
        self.chat_template.as_deref()
    }

    /// The underlying GGUF file (metadata and tensors).
    pub fn gguf(&self) -> &GgufFile {
        &self.file
    }

    /// Starts a session with room for `n_ctx` tokens, allocating its f16 KV cache.
    pub fn session(&self, n_ctx: usize) -> Result<Session<'_>, LlmError> {
        Session::new(self, &SessionParams::new(n_ctx))
    }

    /// Starts a session as `params` describe (context size, KV cache types).
    pub fn session_with(&self, params: &SessionParams) -> Result<Session<'_>, LlmError> {
        Session::new(self, params)
    }

    pub(crate) fn hparams(&self) -> &Hparams {
        &self.hparams
    }

    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            file: &self.file,
            hp: &self.hparams,
            weights: &self.weights,
            table: self.table,
            pool: &self.pool,
        }
    }
}

// The docs promise that sessions on several threads may share one model.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<Model>();
};
