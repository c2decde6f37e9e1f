//! Special token ids (BOS, EOS, EOT, FIM, …) and the set of end-of-generation tokens.
//!
//! Ids come from the `tokenizer.ggml.*_token_id` keys. Conversion scripts do not write all
//! of them, so, as llama.cpp does, tokens the chat formats use to end a turn are also found
//! by their well-known texts (`<|im_end|>`, `<end_of_turn>`, `<|eot_id|>`, …); such a token
//! is then treated as a control token even if the file forgot to mark it so.

use std::collections::BTreeSet;

use super::error::TokenizerError;
use super::metadata::{keys, Metadata};
use super::vocab::{TokenType, Vocab};

/// The special token ids of a model. `None` where the model has no such token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpecialTokens {
    /// Beginning of sequence.
    pub bos: Option<u32>,
    /// End of sequence.
    pub eos: Option<u32>,
    /// End of turn (chat models).
    pub eot: Option<u32>,
    /// End of message (tool calls in Llama 3.1).
    pub eom: Option<u32>,
    /// Unknown piece.
    pub unk: Option<u32>,
    /// Separator.
    pub sep: Option<u32>,
    /// Padding.
    pub pad: Option<u32>,
    /// Mask.
    pub mask: Option<u32>,
    /// Fill-in-the-middle: prefix.
    pub fim_pre: Option<u32>,
    /// Fill-in-the-middle: suffix.
    pub fim_suf: Option<u32>,
    /// Fill-in-the-middle: middle.
    pub fim_mid: Option<u32>,
    /// Fill-in-the-middle: padding.
    pub fim_pad: Option<u32>,
    /// Fill-in-the-middle: repository name.
    pub fim_rep: Option<u32>,
    /// Fill-in-the-middle: file separator.
    pub fim_sep: Option<u32>,
}

/// Texts of end-of-turn tokens, for models whose file names no EOT id.
const EOT_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<｜end▁of▁sentence｜>",
    "<end_of_utterance>",
];
const EOM_TEXTS: &[&str] = &["<|eom_id|>"];
const FIM_PRE_TEXTS: &[&str] = &[
    "<|fim_prefix|>",
    "<fim-prefix>",
    "<fim_prefix>",
    "<｜fim▁begin｜>",
    "<PRE>",
    "▁<PRE>",
    "<|code_prefix|>",
    "<|prefix|>",
];
const FIM_SUF_TEXTS: &[&str] = &[
    "<|fim_suffix|>",
    "<fim-suffix>",
    "<fim_suffix>",
    "<｜fim▁hole｜>",
    "<SUF>",
    "▁<SUF>",
    "<|code_suffix|>",
    "<|suffix|>",
];
const FIM_MID_TEXTS: &[&str] = &[
    "<|fim_middle|>",
    "<fim-middle>",
    "<fim_middle>",
    "<｜fim▁end｜>",
    "<MID>",
    "▁<MID>",
    "<|code_middle|>",
    "<|middle|>",
];
const FIM_PAD_TEXTS: &[&str] = &["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
const FIM_REP_TEXTS: &[&str] = &[
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
];
const FIM_SEP_TEXTS: &[&str] = &["<|file_sep|>"];

/// Texts of tokens that end generation in the chat formats of known model families.
const EOG_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
    "[e~[",
];

/// Tokens of the "harmony" chat format that must always be rendered (never hidden).
const ALWAYS_RENDERED_TEXTS: &[&str] =
    &["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"];

/// Ids read from the metadata, over the model family's defaults.
pub(crate) fn read_ids(
    meta: &Metadata,
    n_tokens: usize,
    defaults: SpecialTokens,
) -> Result<SpecialTokens, TokenizerError> {
    // A default outside the vocabulary (e.g. BOS = 1 in a 1-token test vocabulary) is
    // dropped; an id the file gives must be valid.
    let in_range = |id: Option<u32>| id.filter(|&i| (i as usize) < n_tokens);
    let mut s = SpecialTokens {
        bos: in_range(defaults.bos),
        eos: in_range(defaults.eos),
        unk: in_range(defaults.unk),
        ..SpecialTokens::default()
    };
    type Field = fn(&mut SpecialTokens) -> &mut Option<u32>;
    let fields: [(&'static str, Field); 17] = [
        (keys::BOS_ID, |s| &mut s.bos),
        (keys::EOS_ID, |s| &mut s.eos),
        (keys::EOT_ID, |s| &mut s.eot),
        (keys::EOM_ID, |s| &mut s.eom),
        (keys::UNK_ID, |s| &mut s.unk),
        (keys::SEP_ID, |s| &mut s.sep),
        (keys::PAD_ID, |s| &mut s.pad),
        (keys::MASK_ID, |s| &mut s.mask),
        (keys::FIM_PRE_ID, |s| &mut s.fim_pre),
        (keys::FIM_SUF_ID, |s| &mut s.fim_suf),
        (keys::FIM_MID_ID, |s| &mut s.fim_mid),
        (keys::FIM_PAD_ID, |s| &mut s.fim_pad),
        (keys::FIM_REP_ID, |s| &mut s.fim_rep),
        (keys::FIM_SEP_ID, |s| &mut s.fim_sep),
        // Deprecated names come last and win, as in llama.cpp.
        (keys::PREFIX_ID, |s| &mut s.fim_pre),
        (keys::SUFFIX_ID, |s| &mut s.fim_suf),
        (keys::MIDDLE_ID, |s| &mut s.fim_mid),
    ];
    for (key, field) in fields {
        if let Some(id) = meta.token_id(key, n_tokens)? {
            *field(&mut s) = Some(id);
        }
    }
    Ok(s)
}

/// Fills the ids the file did not give from well-known token texts, fixes token types
/// by text, and returns the end-of-generation set.
pub(crate) fn detect(special: &mut SpecialTokens, vocab: &mut Vocab) -> BTreeSet<u32> {
    let find = |vocab: &Vocab, texts: &[&str]| -> Option<u32> {
        // Lowest id among the candidates, so the choice does not depend on hash order
        // when a vocabulary holds several.
        texts.iter().filter_map(|t| vocab.id(t)).min()
    };
    for (slot, texts) in [
        (&mut special.eot, EOT_TEXTS),
        (&mut special.eom, EOM_TEXTS),
        (&mut special.fim_pre, FIM_PRE_TEXTS),
        (&mut special.fim_suf, FIM_SUF_TEXTS),
        (&mut special.fim_mid, FIM_MID_TEXTS),
        (&mut special.fim_pad, FIM_PAD_TEXTS),
        (&mut special.fim_rep, FIM_REP_TEXTS),
        (&mut special.fim_sep, FIM_SEP_TEXTS),
    ] {
        if slot.is_none() {
            if let Some(id) = find(vocab, texts) {
                *slot = Some(id);
                make_control(vocab, id);
            }
        }
    }

    let mut eog: BTreeSet<u32> = [special.fim_pad, special.fim_rep, special.fim_sep]
        .into_iter()
        .flatten()
        .collect();
    for text in EOG_TEXTS {
        if let Some(id) = vocab.id(text) {
            eog.insert(id);
            make_control(vocab, id);
        }
    }
    for text in ALWAYS_RENDERED_TEXTS {
        if let Some(id) = vocab.id(text) {
            vocab.set_type(id, TokenType::UserDefined);
        }
    }
    eog.extend(
        [special.eos, special.eot, special.eom]
            .into_iter()
            .flatten(),
    );

    let eog_id = |vocab: &Vocab, eog: &BTreeSet<u32>, text: &str| {
        vocab.id(text).filter(|id| eog.contains(id))
    };
    // The harmony and Solar Open formats end an assistant message with `<|end|>` but go on
    // generating after it: there it is not end-of-generation when the vocabulary also has
    // their real stop tokens.
    let has = |vocab: &Vocab, eog: &BTreeSet<u32>, text: &str| eog_id(vocab, eog, text).is_some();
    if let Some(end) = eog_id(vocab, &eog, "<|end|>") {
        let call = has(vocab, &eog, "<|call|>") || has(vocab, &eog, "<|calls|>");
        if call && (has(vocab, &eog, "<|return|>") || has(vocab, &eog, "<|flush|>")) {
            eog.remove(&end);
            vocab.set_type(end, TokenType::UserDefined);
        }
    }
    // Where `<|tool_response>` or `<|plamo:eos|>` ends generation, `</s>` is ordinary text.
    if let Some(s) = eog_id(vocab, &eog, "</s>") {
        if has(vocab, &eog, "<|tool_response>") || has(vocab, &eog, "<|plamo:eos|>") {
            eog.remove(&s);
            vocab.set_type(s, TokenType::Normal);
        }
    }
    eog
}

/// Marks token `id` as a control token unless it already is one.
fn make_control(vocab: &mut Vocab, id: u32) {
    if vocab.token_type(id) != Some(TokenType::Control) {
        vocab.set_type(id, TokenType::Control);
    }
}
