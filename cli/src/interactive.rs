//! Interactive chat on a terminal: `edge-run [MODEL]` without a prompt.
//!
//! The conversation is re-rendered with the chat template at each turn; only the tokens
//! after the part the session already holds are evaluated. Ctrl-C stops the answer being
//! written; a second Ctrl-C (or one at the prompt, or Ctrl-D) ends the program.

use crate::generate::{chat_tokens, summary, GenerateArgs};
use crate::models;
use anyhow::{Context, Result};
use edge_runtime::chat::Message;
use edge_runtime::generate::{generate, GenerateError, GenerateParams, StopReason};
use std::io::{BufRead, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What Ctrl-C does depends on whether an answer is being written.
#[derive(Debug, Default)]
struct Interrupt {
    generating: AtomicBool,
    cancel: AtomicBool,
}

/// Runs the chat until the user leaves.
pub fn run(args: &GenerateArgs, model_path: &Path) -> Result<()> {
    let mut sampler = args.sampling.sampler()?;
    let (model, load_ms) = models::load(model_path, args.threads, args.load)?;
    let mut session = args.cache.session(&model, args.n_ctx(&model)?)?;
    let params = GenerateParams {
        n_predict: args.n_predict(),
        stop: args.stop.clone(),
    };

    let interrupt = Arc::new(Interrupt::default());
    let handler_state = Arc::clone(&interrupt);
    ctrlc::set_handler(move || {
        let already = handler_state.cancel.swap(true, Ordering::SeqCst);
        if !handler_state.generating.load(Ordering::SeqCst) || already {
            eprintln!();
            std::process::exit(0);
        }
    })
    .context("installing the Ctrl-C handler")?;

    eprintln!(
        "{} loaded in {load_ms:.0} ms, context {} tokens. Ctrl-C stops an answer; Ctrl-C twice or Ctrl-D quits; /reset starts over.",
        model_path.display(),
        session.n_ctx()
    );
    let system: Vec<Message> = args
        .system
        .iter()
        .map(|s| Message::new("system", s.as_str()))
        .collect();
    let mut history = system.clone();
    // The tokens the session holds, so that a new turn only evaluates what is new.
    let mut held: Vec<u32> = Vec::new();
    let stdin = std::io::stdin();
    let mut line = String::new();
    loop {
        eprint!("> ");
        line.clear();
        if stdin.lock().read_line(&mut line)? == 0 {
            eprintln!();
            return Ok(());
        }
        let input = line.trim_end_matches(['\n', '\r']);
        if input.trim().is_empty() {
            continue;
        }
        if input.trim() == "/reset" {
            history = system.clone();
            eprintln!("(conversation cleared)");
            continue;
        }
        history.push(Message::new("user", input));
        let tokens = chat_tokens(&model, &history)?;
        // Keep the longest prefix the session already holds; at least one token must be
        // evaluated to get logits.
        let common = held.iter().zip(&tokens).take_while(|(a, b)| a == b).count();
        let keep = common.min(tokens.len() - 1).min(session.n_past());
        session.truncate(keep);

        interrupt.cancel.store(false, Ordering::SeqCst);
        interrupt.generating.store(true, Ordering::SeqCst);
        let mut stdout = std::io::stdout().lock();
        let result = generate(
            &mut session,
            &tokens[keep..],
            &mut sampler,
            &params,
            |piece| {
                if interrupt.cancel.load(Ordering::SeqCst) {
                    return ControlFlow::Break(());
                }
                match stdout
                    .write_all(piece.as_bytes())
                    .and_then(|()| stdout.flush())
                {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(_) => ControlFlow::Break(()),
                }
            },
        );
        interrupt.generating.store(false, Ordering::SeqCst);
        drop(stdout);
        println!();
        match result {
            Ok(out) => {
                held = tokens;
                held.extend_from_slice(&out.tokens);
                held.truncate(session.n_past());
                history.push(Message::new("assistant", out.text.as_str()));
                match out.stop_reason {
                    StopReason::ContextFull => {
                        eprintln!("(the context is full: conversation cleared)");
                        history = system.clone();
                    }
                    StopReason::Cancelled => eprintln!("(stopped)"),
                    _ => {}
                }
                if std::env::var_os("EDGE_VERBOSE").is_some() {
                    eprintln!("{}", summary(&out, sampler.params().seed));
                }
            }
            Err(e @ GenerateError::PromptTooLong { .. }) => {
                eprintln!("error: {e}; conversation cleared");
                history = system.clone();
                held.clear();
                session.reset();
            }
            Err(e) => return Err(e.into()),
        }
    }
}
