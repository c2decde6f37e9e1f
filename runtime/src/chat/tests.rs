use super::clock::{from_unix, strftime};
use super::*;

fn render(source: &str, messages: &[Message], gen: bool) -> Result<String, ChatError> {
    ChatTemplate::new(source, "<s>", "</s>")?.render(messages, gen)
}

#[test]
fn chatml_fallback() {
    let t = ChatTemplate::chatml();
    assert!(t.is_chatml_fallback());
    let msgs = [
        Message::new("system", "Be brief."),
        Message::new("user", "Hi"),
    ];
    assert_eq!(
        t.render(&msgs, false).unwrap(),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    );
}

#[test]
fn special_token_variables_and_block_trimming() {
    // trim_blocks drops the newline after a block tag; lstrip_blocks the indentation
    // before one.
    let src = "{{ bos_token }}\n{% for m in messages %}\n  {% if m.role == 'user' %}\n[{{ m.content }}]\n  {% endif %}\n{% endfor %}{{ eos_token }}";
    let msgs = [Message::new("user", "a"), Message::new("assistant", "b")];
    assert_eq!(render(src, &msgs, false).unwrap(), "<s>\n[a]\n</s>");
}

#[test]
fn python_string_methods() {
    let src = "{% for m in messages %}{% if m.content.startswith('!') %}cmd:{{ m.content[1:].strip() }}{% else %}{{ m.content.upper() }}{% endif %};{% endfor %}";
    let msgs = [Message::new("user", "!  go  "), Message::new("user", "hey")];
    assert_eq!(render(src, &msgs, false).unwrap(), "cmd:go;HEY;");
}

#[test]
fn loop_controls_and_namespace() {
    let src = "{% set ns = namespace(n=0) %}{% for m in messages %}{% if loop.index > 2 %}{% break %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}";
    let msgs = vec![Message::new("user", "x"); 5];
    assert_eq!(render(src, &msgs, false).unwrap(), "2");
}

#[test]
fn raise_exception_is_a_render_error() {
    let src = "{% if messages|length == 0 %}{{ raise_exception('need a message') }}{% endif %}ok";
    match render(src, &[], true) {
        Err(ChatError::Render { message }) => {
            assert!(message.contains("need a message"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        render(src, &[Message::new("user", "x")], true).unwrap(),
        "ok"
    );
}

#[test]
fn broken_templates_are_errors() {
    for src in ["{% for m in messages %}", "{{ messages[ }}", "{% endif %}"] {
        assert!(
            matches!(
                ChatTemplate::new(src, "", ""),
                Err(ChatError::Syntax { .. })
            ),
            "{src}"
        );
    }
    // Parses, but fails when run: an undefined callable, a bad operand.
    for src in ["{{ no_such_function() }}", "{{ messages + 1 }}"] {
        assert!(
            matches!(render(src, &[], false), Err(ChatError::Render { .. })),
            "{src}"
        );
    }
}

#[test]
fn strftime_now_is_today() {
    let out = render("{{ strftime_now('%Y') }}", &[], false).unwrap();
    let year: i64 = out.parse().unwrap();
    assert!((2024..3000).contains(&year), "{out}");
}

#[test]
fn dates_from_unix_time() {
    // Expected values from Python's datetime.
    let fmt = "%Y-%m-%d %H:%M:%S %a %A %b %B %y %e %%";
    let cases = [
        (0, "1970-01-01 00:00:00 Thu Thursday Jan January 70  1 %"),
        (
            951_782_400,
            "2000-02-29 00:00:00 Tue Tuesday Feb February 00 29 %",
        ),
        (
            1_709_210_096,
            "2024-02-29 12:34:56 Thu Thursday Feb February 24 29 %",
        ),
        (
            4_102_444_799,
            "2099-12-31 23:59:59 Thu Thursday Dec December 99 31 %",
        ),
    ];
    for (secs, want) in cases {
        assert_eq!(strftime(fmt, from_unix(secs)), want, "{secs}");
    }
    assert_eq!(strftime("%q", from_unix(0)), "%q");
}
