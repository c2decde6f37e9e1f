//! Chat templates: a conversation → the prompt text a chat model was trained on.
//!
//! Models carry their template as Jinja source in `tokenizer.chat_template`; it is rendered
//! with [`minijinja`] set up the way Hugging Face transformers sets up Python's jinja2 for
//! `apply_chat_template` (block trimming, loop controls, the variables `messages`,
//! `add_generation_prompt`, `bos_token`, `eos_token`, the helpers `raise_exception` and
//! `strftime_now`, and Python's string methods such as `.strip()` and `.startswith()`).
//! A model without a template gets ChatML ([`ChatTemplate::chatml`]).
//!
//! ```
//! use edge_runtime::chat::{ChatTemplate, Message};
//!
//! let t = ChatTemplate::chatml();
//! let text = t.render(&[Message::new("user", "Hi")], true)?;
//! assert_eq!(text, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
//! # Ok::<(), edge_runtime::chat::ChatError>(())
//! ```

mod clock;

#[cfg(test)]
mod tests;

use minijinja::{context, Environment, Error, ErrorKind, Value};

use crate::tokenizer::Tokenizer;

/// ChatML, for models that carry no template.
const CHATML: &str = "{% for message in messages %}\
{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}\
{% endfor %}\
{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// The name the template is registered under, shown in error locations.
const NAME: &str = "chat_template";

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `system`, `user` or `assistant` (templates may know others, such as `tool`).
    pub role: String,
    /// What was said.
    pub content: String,
}

impl Message {
    /// A message from `role` saying `content`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Message {
        Message {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// Why a chat template could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChatError {
    /// The template is not valid Jinja (or uses syntax this engine lacks).
    #[error("chat template does not parse: {message}")]
    Syntax {
        /// What is wrong, and where.
        message: String,
    },
    /// The template failed while rendering, or refused the conversation
    /// (`raise_exception`, e.g. roles that do not alternate).
    #[error("chat template failed: {message}")]
    Render {
        /// What went wrong, and where.
        message: String,
    },
}

/// A compiled chat template with the special-token texts it may refer to.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    is_chatml_fallback: bool,
}

impl ChatTemplate {
    /// Compiles `source`; `bos_token` and `eos_token` are the texts the template sees
    /// under those names.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<ChatTemplate, ChatError> {
        let mut env = environment();
        env.add_template_owned(NAME, source.to_owned())
            .map_err(|e| ChatError::Syntax {
                message: describe(&e),
            })?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
            is_chatml_fallback: false,
        })
    }

    /// ChatML (`<|im_start|>role\n…<|im_end|>\n`), the fallback for models without a
    /// template.
    pub fn chatml() -> ChatTemplate {
        let mut env = environment();
        // A constant that the tests render: it always compiles. Were it ever not to, the
        // error would surface at render time as "template not found", not as a panic.
        let _ = env.add_template(NAME, CHATML);
        ChatTemplate {
            env,
            bos_token: String::new(),
            eos_token: String::new(),
            is_chatml_fallback: true,
        }
    }

    /// The template of a model: `source` (its `tokenizer.chat_template`) if it has one,
    /// else ChatML; BOS / EOS texts from `tokenizer`.
    pub fn for_model(
        source: Option<&str>,
        tokenizer: &Tokenizer,
    ) -> Result<ChatTemplate, ChatError> {
        let text = |id: Option<u32>| {
            id.and_then(|id| tokenizer.token_text(id))
                .unwrap_or_default()
                .to_owned()
        };
        let (bos, eos) = (text(tokenizer.bos()), text(tokenizer.eos()));
        let mut t = match source {
            Some(s) => ChatTemplate::new(s, &bos, &eos)?,
            None => ChatTemplate::chatml(),
        };
        t.bos_token = bos;
        t.eos_token = eos;
        Ok(t)
    }

    /// True for the ChatML stand-in of a model without a template.
    pub fn is_chatml_fallback(&self) -> bool {
        self.is_chatml_fallback
    }

    /// The text of BOS as the template sees it.
    pub fn bos_token(&self) -> &str {
        &self.bos_token
    }

    /// Renders `messages`; with `add_generation_prompt` the text ends with the opening of
    /// the assistant's turn, ready for the model to continue.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        let messages: Vec<Value> = messages
            .iter()
            .map(|m| context! { role => m.role, content => m.content })
            .collect();
        let render_error = |e: Error| ChatError::Render {
            message: describe(&e),
        };
        let template = self.env.get_template(NAME).map_err(render_error)?;
        template
            .render(context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => self.bos_token,
                eos_token => self.eos_token,
            })
            .map_err(render_error)
    }
}

/// A Jinja environment as transformers' `apply_chat_template` has it.
fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // Templates are written for these two settings: without them, every `{% if %}` line
    // leaves a newline or indentation in the prompt.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", raise_exception);
    env.add_function("strftime_now", strftime_now);
    env
}

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

fn strftime_now(format: String) -> String {
    clock::strftime(&format, clock::now_utc())
}

/// One line for an error: its detail and where in the template it happened.
fn describe(e: &Error) -> String {
    let what = e
        .detail()
        .map_or_else(|| e.kind().to_string(), str::to_owned);
    match e.line() {
        Some(line) => format!("{what} (line {line})"),
        None => what,
    }
}
