//! Times building a model's tokenizer and encoding a text with it.
//!
//! `cargo run --release -p edge-runtime --example tokenizer_speed -- MODEL.gguf TEXT.txt`

use std::time::Instant;

use edge_formats::GgufFile;
use edge_runtime::tokenizer::{DecodeOptions, Tokenizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(model), Some(text)) = (args.next(), args.next()) else {
        return Err("usage: tokenizer_speed MODEL.gguf TEXT.txt".into());
    };
    let text = std::fs::read_to_string(text)?;

    let t0 = Instant::now();
    let file = GgufFile::open(&model)?;
    let opened = t0.elapsed();
    // Best of a few builds: the first one also pays for page faults of the mapping.
    let mut best = f64::INFINITY;
    let mut tok = None;
    for _ in 0..5 {
        let t = Instant::now();
        tok = Some(Tokenizer::from_gguf(&file)?);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let tok = tok.ok_or("no tokenizer")?;
    println!(
        "{model}: {} tokens, GGUF open {:.1} ms, tokenizer build {:.1} ms (best of 5)",
        tok.n_vocab(),
        opened.as_secs_f64() * 1e3,
        best * 1e3
    );

    let eog: Vec<String> = tok
        .eog_tokens()
        .map(|id| format!("{id} {:?}", tok.token_text(id).unwrap_or_default()))
        .collect();
    println!("end of generation: {}", eog.join(", "));

    let ids = tok.encode(&text, true, true);
    let reps = 50;
    let t = Instant::now();
    let mut n = 0;
    for _ in 0..reps {
        n += tok.encode(&text, true, true).len();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "encode: {} bytes -> {} tokens, {:.0} tokens/s ({:.1} MB/s)",
        text.len(),
        ids.len(),
        n as f64 / secs,
        (text.len() * reps) as f64 / secs / 1e6
    );

    let t = Instant::now();
    for _ in 0..reps {
        std::hint::black_box(tok.decode(&ids, DecodeOptions::default()));
    }
    let secs = t.elapsed().as_secs_f64();
    println!("decode: {:.0} tokens/s", (ids.len() * reps) as f64 / secs);

    // A long input: encoding time must grow linearly.
    let long = text.repeat(20);
    let t = Instant::now();
    let n = tok.encode(&long, true, true).len();
    println!(
        "encode x20 ({} bytes): {} tokens in {:.1} ms",
        long.len(),
        n,
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
