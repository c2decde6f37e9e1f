//! Chat templates rendered by edge (minijinja) against Python's jinja2 on the same template
//! and conversation: golden files from tests/refgen/chat_templates.py.

use edge_formats::GgufFile;
use edge_runtime::chat::{ChatError, ChatTemplate, Message};
use edge_runtime::tokenizer::Tokenizer;

/// The template of `model`: from the GGUF, or the committed `<model>-it.jinja` for a base
/// model that carries none (as the script does).
fn template(model: &str) -> Option<ChatTemplate> {
    let path = edge_tests::model(model)?;
    let file = GgufFile::open(&path).unwrap();
    let tok = Tokenizer::from_gguf(&file).unwrap();
    let source = match file.get_str("tokenizer.chat_template") {
        Ok(s) => s.to_owned(),
        Err(_) => {
            String::from_utf8(edge_tests::read_golden(&format!("chat/{model}-it.jinja"))).unwrap()
        }
    };
    Some(ChatTemplate::for_model(Some(&source), &tok).unwrap())
}

fn check(model: &str) {
    let Some(t) = template(model) else { return };
    let cases = edge_tests::golden_json("chat/cases.json");
    let cases = cases.as_object().unwrap();
    assert!(cases.len() >= 5);
    for (name, case) in cases {
        let messages: Vec<Message> = case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| Message::new(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
            .collect();
        let gen = case["add_generation_prompt"].as_bool().unwrap();
        let got = t.render(&messages, gen);
        let base = edge_tests::golden_dir().join(format!("chat/{model}-{name}"));
        if let Ok(want) = std::fs::read_to_string(base.with_extension("txt")) {
            assert_eq!(got.as_deref(), Ok(want.as_str()), "{model} {name}");
        } else {
            let want = std::fs::read_to_string(base.with_extension("error"))
                .unwrap_or_else(|e| panic!("{model}-{name}: no .txt nor .error golden: {e}"));
            match got {
                Err(ChatError::Render { message }) => {
                    assert!(message.contains(want.trim()), "{model} {name}: {message}")
                }
                other => panic!("{model} {name}: want an error, got {other:?}"),
            }
        }
    }
}

#[test]
fn smollm2_template_matches_jinja2() {
    check("smollm2");
}

#[test]
fn gemma3_template_matches_jinja2() {
    check("gemma3");
}
