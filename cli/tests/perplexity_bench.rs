//! `edge-run perplexity` against llama.cpp's reference perplexity, and `edge-run bench`'s
//! JSON.

mod common;

use common::{clean_error, edge_run, llama_cpp_reference, ok, reference_dir};
use serde_json::Value as Json;

/// `edge-run perplexity SmolLM2 -f <reference text> -c 512 --chunks 1 EXTRA...`: the
/// printed perplexity and llama.cpp's, or `None` (skip) without the model or references.
fn smollm2_perplexity(extra: &[&str]) -> Option<(String, f64)> {
    let model = edge_tests::model("smollm2")?;
    let reference = llama_cpp_reference("smollm2")?;
    let file = reference_dir()?.join("inputs/perplexity-apache-2.0.txt");
    let mut args = vec![
        "perplexity",
        model.to_str()?,
        "-f",
        file.to_str()?,
        "-c",
        "512",
        "--chunks",
        "1",
    ];
    args.extend_from_slice(extra);
    let out = ok(&edge_run(args));
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("perplexity: "))
        .unwrap_or_else(|| panic!("no perplexity line: {out}"));
    let want = reference["perplexity"][0]["perplexity"].as_f64().unwrap();
    Some((line.trim().to_string(), want))
}

#[test]
fn smollm2_perplexity_is_within_1_percent_of_llama_cpp() {
    let Some((line, want)) = smollm2_perplexity(&["-t", "2"]) else {
        return;
    };
    let got: f64 = line.parse().unwrap();
    assert!(
        (got - want).abs() / want < 0.01,
        "perplexity {got}, llama.cpp {want}"
    );
}

#[test]
fn perplexity_of_a_text_shorter_than_a_window_is_an_error() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let line = clean_error(&edge_run([
        "perplexity".as_ref(),
        model.as_os_str(),
        "-p".as_ref(),
        "too short".as_ref(),
    ]));
    assert!(line.contains("512"), "{line}");
}

#[test]
fn bench_json_has_llama_bench_fields() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let out = ok(&edge_run([
        "bench".as_ref(),
        model.as_os_str(),
        "--json".as_ref(),
        "-p".as_ref(),
        "16".as_ref(),
        "-n".as_ref(),
        "4".as_ref(),
        "-r".as_ref(),
        "1".as_ref(),
    ]));
    let rows: Vec<Json> = serde_json::from_str(&out).expect("a JSON list");
    assert_eq!(rows.len(), 2);
    let (pp, tg) = (&rows[0], &rows[1]);
    assert_eq!(
        (pp["n_prompt"].as_u64(), pp["n_gen"].as_u64()),
        (Some(16), Some(0))
    );
    assert_eq!(
        (tg["n_prompt"].as_u64(), tg["n_gen"].as_u64()),
        (Some(0), Some(4))
    );
    for row in &rows {
        assert_eq!(row["n_threads"], 2);
        assert_eq!(
            (&row["type_k"], &row["type_v"]),
            (&"f16".into(), &"f16".into())
        );
        assert!(row["avg_ts"].as_f64().unwrap() > 0.0, "{row}");
        assert!(row["stddev_ts"].as_f64().unwrap() >= 0.0, "{row}");
    }
}

#[test]
fn bench_with_a_q8_0_cache_via_llama_cpp_short_flags() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let m = model.to_str().unwrap();
    let out = ok(&edge_run([
        "bench", m, "-ctk", "q8_0", "-ctv", "q8_0", "-p", "8", "-n", "2", "-r", "1", "--json",
    ]));
    let rows: Vec<Json> = serde_json::from_str(&out).expect("a JSON list");
    for row in &rows {
        assert_eq!(
            (&row["type_k"], &row["type_v"]),
            (&"q8_0".into(), &"q8_0".into())
        );
    }
    let table = ok(&edge_run([
        "bench", m, "-ctk", "q8_0", "-p", "8", "-n", "0", "-r", "1",
    ]));
    assert!(
        table.contains("| type_k |") && table.contains("| q8_0 |"),
        "{table}"
    );
    assert!(!table.contains("type_v"), "{table}");
    // An unsupported type is a usage error that says what to use.
    let o = edge_run(["bench", m, "--cache-type-v", "q4_0"]);
    assert_eq!(o.status.code(), Some(2));
    let err = common::stderr(&o);
    assert!(err.contains("use f16 or q8_0"), "{err}");
}

#[test]
fn bench_table() {
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let out = ok(&edge_run([
        "bench".as_ref(),
        model.as_os_str(),
        "-p".as_ref(),
        "8".as_ref(),
        "-n".as_ref(),
        "2".as_ref(),
        "-r".as_ref(),
        "2".as_ref(),
    ]));
    assert!(out.contains("| pp8 |") && out.contains("| tg2 |"), "{out}");
    assert!(out.contains(" ± "), "{out}");
}

/// `--no-mmap` reads the model into memory (huge pages where offered): the perplexity is
/// still llama.cpp's within 1%, and the very same as from the mapped file; `bench` says
/// which load mode it ran with, in llama-bench's field.
#[test]
fn no_mmap_reads_the_model_and_scores_the_same() {
    let (Some((mapped, _)), Some((read, want))) =
        (smollm2_perplexity(&[]), smollm2_perplexity(&["--no-mmap"]))
    else {
        return;
    };
    assert_eq!(mapped, read, "the load mode changed the result");
    let got: f64 = read.parse().unwrap();
    assert!(
        (got - want).abs() / want < 0.01,
        "perplexity {got}, llama.cpp {want}"
    );
    let Some(model) = edge_tests::model("smollm2") else {
        return;
    };
    let m = model.to_str().unwrap();
    for (flags, mode) in [(&[][..], "mmap"), (&["--no-mmap"][..], "none")] {
        let mut args = vec!["bench", m, "-p", "8", "-n", "0", "-r", "1", "--json"];
        args.extend_from_slice(flags);
        let rows: Vec<Json> = serde_json::from_str(&ok(&edge_run(args))).expect("a JSON list");
        assert!(rows.iter().all(|r| r["load_mode"] == mode), "{rows:?}");
    }
}
