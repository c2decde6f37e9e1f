//! The C ABI called as a hostile C caller would: NULLs, negative and too-small sizes, bad
//! files, misuse of contexts. Every call must answer with a status or an error value and a
//! message, never crash. The tests that need the model skip when it is not cached (and
//! fail under `EDGE_CI=1`).

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};

use edge::*;

fn last_error() -> String {
    // SAFETY: edge_last_error always returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(edge_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn load(
    path: &std::path::Path,
    params: Option<&edge_model_params>,
) -> (edge_status, *mut edge_model) {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let mut model = std::ptr::dangling_mut::<edge_model>(); // must be overwritten
                                                            // SAFETY: valid string, params and out pointer.
    let st = unsafe {
        edge_model_load(
            c.as_ptr(),
            params.map_or(null(), |p| p as *const _),
            &mut model,
        )
    };
    (st, model)
}

#[test]
fn version_and_empty_last_error() {
    // SAFETY: a static string.
    let v = unsafe { CStr::from_ptr(edge_version()) }.to_str().unwrap();
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    assert_eq!(last_error(), "");
}

#[test]
fn nulls_are_invalid_arguments() {
    use edge_status::*;
    let mut model = null_mut();
    // SAFETY: NULLs are part of the contract.
    unsafe {
        assert_eq!(
            edge_model_load(null(), null(), &mut model),
            EDGE_ERR_INVALID_ARGUMENT
        );
        assert!(last_error().contains("path"));
        assert_eq!(
            edge_model_load(c"x".as_ptr(), null(), null_mut()),
            EDGE_ERR_INVALID_ARGUMENT
        );
        edge_model_free(null_mut());
        edge_context_free(null_mut());
        assert_eq!(edge_model_n_vocab(null()), -1);
        assert_eq!(edge_model_n_ctx_train(null()), -1);
        assert!(last_error().contains("model is NULL"));
        assert!(edge_model_meta_str(null(), c"k".as_ptr(), null_mut(), 0) < 0);
        assert_eq!(
            edge_tokenize(null(), c"x".as_ptr(), 1, null_mut(), 0, true, true),
            i32::MIN
        );
        assert_eq!(edge_token_to_piece(null(), 0, null_mut(), 0), i32::MIN);
        assert_eq!(
            edge_detokenize(null(), null(), 0, null_mut(), 0, false, false),
            i32::MIN
        );
        assert_eq!(edge_token_bos(null()), -1);
        assert!(!edge_token_is_eog(null(), 0));
        let mut ctx = std::ptr::dangling_mut::<edge_context>();
        assert_eq!(
            edge_context_new(null_mut(), null(), &mut ctx),
            EDGE_ERR_INVALID_ARGUMENT
        );
        assert!(ctx.is_null());
        assert_eq!(edge_context_reset(null_mut()), EDGE_ERR_INVALID_ARGUMENT);
        assert_eq!(
            edge_decode(null_mut(), null(), 0),
            EDGE_ERR_INVALID_ARGUMENT
        );
        let mut n = 5;
        assert!(edge_get_logits(null_mut(), &mut n).is_null());
        assert_eq!(n, 0);
        assert_eq!(
            edge_generate(null_mut(), c"x".as_ptr(), null(), None, null_mut()),
            EDGE_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            edge_context_stop_reason(null_mut()),
            edge_stop_reason::EDGE_STOP_NONE
        );
        assert_eq!(
            edge_chat_apply_template(null(), null(), null(), 0, true, null_mut(), 0),
            -1
        );
    }
}

#[test]
fn a_success_clears_the_last_error() {
    // SAFETY: NULL is allowed.
    assert_eq!(unsafe { edge_model_n_vocab(null()) }, -1);
    assert!(!last_error().is_empty());
    // SAFETY: NULL is allowed (a no-op).
    unsafe { edge_context_free(null_mut()) };
    assert_eq!(last_error(), "");
}

#[test]
fn the_last_error_is_per_thread() {
    // SAFETY: NULL is allowed.
    assert_eq!(unsafe { edge_model_n_vocab(null()) }, -1);
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "");
    assert!(!last_error().is_empty());
}

#[test]
fn bad_files_have_their_status() {
    let dir = tempfile::tempdir().unwrap();
    let (st, m) = load(&dir.path().join("missing.gguf"), None);
    assert_eq!((st, m), (edge_status::EDGE_ERR_IO, null_mut()));
    assert!(last_error().contains("missing.gguf"), "{}", last_error());
    let (st, _) = load(dir.path(), None);
    assert_eq!(st, edge_status::EDGE_ERR_IO);

    let cases: &[(&str, &[u8], edge_status)] = &[
        ("empty", b"", edge_status::EDGE_ERR_FORMAT),
        (
            "text",
            b"hello, this is not a model",
            edge_status::EDGE_ERR_FORMAT,
        ),
        (
            "version 99",
            b"GGUF\x63\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            edge_status::EDGE_ERR_UNSUPPORTED,
        ),
        (
            "huge tensor count",
            b"GGUF\x03\0\0\0\xff\xff\xff\xff\xff\xff\xff\x7f\0\0\0\0\0\0\0\0",
            edge_status::EDGE_ERR_FORMAT,
        ),
        // A valid GGUF file without a single metadata key: not a model.
        (
            "no metadata",
            b"GGUF\x03\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            edge_status::EDGE_ERR_FORMAT,
        ),
    ];
    for &(name, bytes, expected) in cases {
        let path = dir.path().join(format!("{name}.gguf"));
        std::fs::write(&path, bytes).unwrap();
        for use_mmap in [true, false] {
            let params = edge_model_params {
                use_mmap,
                ..edge_model_default_params()
            };
            let (st, m) = load(&path, Some(&params));
            assert_eq!(
                (st, m),
                (expected, null_mut()),
                "{name}, mmap {use_mmap}: {}",
                last_error()
            );
            assert!(!last_error().is_empty());
        }
    }
}

unsafe extern "C" fn stop_at(progress: f32, user_data: *mut c_void) -> bool {
    // SAFETY: the tests pass a `Vec<f32>` as user data.
    let seen = unsafe { &mut *user_data.cast::<(Vec<f32>, usize)>() };
    seen.0.push(progress);
    seen.0.len() < seen.1
}

#[test]
fn loading_reports_progress_and_cancels() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    for use_mmap in [true, false] {
        let mut seen: (Vec<f32>, usize) = (Vec::new(), usize::MAX);
        let params = edge_model_params {
            use_mmap,
            n_threads: 1,
            progress: Some(stop_at),
            progress_user_data: (&mut seen as *mut (Vec<f32>, usize)).cast(),
        };
        let (st, model) = load(&path, Some(&params));
        assert_eq!(st, edge_status::EDGE_OK, "{}", last_error());
        assert!(seen.0.windows(2).all(|w| w[0] <= w[1]), "{:?}", seen.0);
        assert_eq!(seen.0.first(), Some(&0.0));
        assert_eq!(seen.0.last(), Some(&1.0));
        // SAFETY: a live model, freed once.
        unsafe { edge_model_free(model) };
        let n_calls = seen.0.len();
        for cancel_at in 1..=n_calls {
            let mut seen: (Vec<f32>, usize) = (Vec::new(), cancel_at);
            let params = edge_model_params {
                progress_user_data: (&mut seen as *mut (Vec<f32>, usize)).cast(),
                ..params
            };
            let (st, model) = load(&path, Some(&params));
            assert_eq!((st, model), (edge_status::EDGE_ERR_CANCELLED, null_mut()));
            assert_eq!(seen.0.len(), cancel_at);
        }
    }
}

#[test]
fn out_of_range_parameters() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let params = edge_model_params {
        n_threads: 100_000,
        ..edge_model_default_params()
    };
    assert_eq!(
        load(&path, Some(&params)).0,
        edge_status::EDGE_ERR_INVALID_ARGUMENT
    );

    let params = edge_model_params {
        n_threads: 1,
        ..edge_model_default_params()
    };
    let (st, model) = load(&path, Some(&params));
    assert_eq!(st, edge_status::EDGE_OK);
    let mut ctx = null_mut();
    // SAFETY: live model, valid pointers; sizes are what is under test.
    unsafe {
        let huge = edge_context_params {
            n_ctx: i32::MAX,
            n_threads: 0,
            ..edge_context_default_params()
        };
        let st = edge_context_new(model, &huge, &mut ctx);
        assert!(
            matches!(
                st,
                edge_status::EDGE_ERR_OUT_OF_MEMORY | edge_status::EDGE_ERR_INVALID_ARGUMENT
            ),
            "{st:?}: {}",
            last_error()
        );
        assert!(ctx.is_null());

        let small = edge_context_params {
            n_ctx: 8,
            n_threads: 0,
            ..edge_context_default_params()
        };
        assert_eq!(
            edge_context_new(model, &small, &mut ctx),
            edge_status::EDGE_OK
        );
        // Sampling parameters out of range are refused before anything is evaluated.
        let base = edge_sampling_default_params();
        for bad in [
            edge_sampling_params {
                temperature: f32::NAN,
                ..base
            },
            edge_sampling_params { top_p: 1.5, ..base },
            edge_sampling_params {
                min_p: -0.1,
                ..base
            },
            edge_sampling_params {
                repeat_penalty: 0.0,
                ..base
            },
            edge_sampling_params { top_k: -2, ..base },
            edge_sampling_params {
                repeat_last_n: -2,
                ..base
            },
        ] {
            assert_eq!(
                edge_generate(ctx, c"Hi".as_ptr(), &bad, None, null_mut()),
                edge_status::EDGE_ERR_INVALID_ARGUMENT,
                "{bad:?}"
            );
            assert_eq!(edge_context_n_past(ctx), 0);
        }
        // A token buffer too small by one.
        let text = "The capital of France is";
        let n = edge_tokenize(
            model,
            text.as_ptr().cast(),
            text.len() as i32,
            null_mut(),
            0,
            true,
            true,
        );
        assert!(n < 0);
        let mut tokens = vec![-1; (-n) as usize];
        assert_eq!(
            edge_tokenize(
                model,
                text.as_ptr().cast(),
                text.len() as i32,
                tokens.as_mut_ptr(),
                -n - 1,
                true,
                true
            ),
            n
        );
        assert!(tokens.iter().all(|&t| t == -1), "nothing written");
        assert_eq!(
            edge_tokenize(
                model,
                text.as_ptr().cast(),
                text.len() as i32,
                tokens.as_mut_ptr(),
                -n,
                true,
                true
            ),
            -n
        );
        // A full context: CONTEXT_FULL and nothing changes.
        assert_eq!(
            edge_decode(ctx, tokens.as_ptr(), tokens.len() as i32),
            edge_status::EDGE_OK
        );
        let before = edge_context_n_past(ctx);
        assert_eq!(
            edge_decode(ctx, tokens.as_ptr(), tokens.len() as i32),
            edge_status::EDGE_ERR_CONTEXT_FULL
        );
        assert_eq!(edge_context_n_past(ctx), before);
        edge_context_free(ctx);
        // The model handle may go first.
        edge_model_free(model);
    }
}

struct Collect {
    pieces: Vec<u8>,
    tokens: Vec<i32>,
    stop_after: usize,
}

unsafe extern "C" fn collect(
    piece: *const c_char,
    len: i32,
    token: i32,
    user_data: *mut c_void,
) -> bool {
    // SAFETY: the tests pass a `Collect` as user data.
    let c = unsafe { &mut *user_data.cast::<Collect>() };
    // SAFETY: the library passes `len` readable bytes and a NUL after them.
    let bytes = unsafe { std::slice::from_raw_parts(piece.cast::<u8>(), len as usize + 1) };
    assert_eq!(bytes[len as usize], 0);
    c.pieces.extend_from_slice(&bytes[..len as usize]);
    c.tokens.push(token);
    c.tokens.len() < c.stop_after
}

#[test]
fn generation_stops_when_the_callback_says_so_and_keeps_its_tokens() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let params = edge_model_params {
        n_threads: 1,
        ..edge_model_default_params()
    };
    let (_, model) = load(&path, Some(&params));
    assert!(!model.is_null());
    // SAFETY: live handles and valid pointers throughout.
    unsafe {
        let mut ctx = null_mut();
        let cp = edge_context_params {
            n_ctx: 64,
            n_threads: 0,
            ..edge_context_default_params()
        };
        assert_eq!(edge_context_new(model, &cp, &mut ctx), edge_status::EDGE_OK);
        let sp = edge_sampling_params {
            temperature: 0.0,
            max_tokens: 10,
            ..edge_sampling_default_params()
        };
        let mut c = Collect {
            pieces: Vec::new(),
            tokens: Vec::new(),
            stop_after: 3,
        };
        let st = edge_generate(
            ctx,
            c"The capital of France is".as_ptr(),
            &sp,
            Some(collect),
            (&mut c as *mut Collect).cast(),
        );
        assert_eq!(st, edge_status::EDGE_OK);
        assert_eq!(c.tokens.len(), 3);
        assert_eq!(
            edge_context_stop_reason(ctx),
            edge_stop_reason::EDGE_STOP_CALLBACK
        );
        assert_eq!(edge_context_n_past(ctx), 5 + 3);
        // The streamed text is the text of the tokens.
        let mut buf = vec![0 as c_char; 256];
        let n = edge_detokenize(
            model,
            c.tokens.as_ptr(),
            3,
            buf.as_mut_ptr(),
            256,
            false,
            true,
        );
        assert_eq!(
            &*(&buf[..n as usize] as *const [c_char] as *const [u8]),
            &c.pieces[..]
        );
        edge_context_free(ctx);
        edge_model_free(model);
    }
}

#[test]
fn threads_share_a_model_each_with_its_context() {
    let Some(path) = common::smollm2_path() else {
        return;
    };
    let params = edge_model_params {
        n_threads: 2,
        ..edge_model_default_params()
    };
    let (_, model) = load(&path, Some(&params));
    assert!(!model.is_null());
    // Raw pointers are not `Send`; the model is documented as shareable.
    let shared = model as usize;
    let run = move || {
        let model = shared as *mut edge_model;
        let mut c = Collect {
            pieces: Vec::new(),
            tokens: Vec::new(),
            stop_after: usize::MAX,
        };
        // SAFETY: the model outlives the threads; each thread has its own context.
        unsafe {
            let mut ctx = null_mut();
            let cp = edge_context_params {
                n_ctx: 64,
                n_threads: 0,
                ..edge_context_default_params()
            };
            assert_eq!(edge_context_new(model, &cp, &mut ctx), edge_status::EDGE_OK);
            let sp = edge_sampling_params {
                temperature: 0.0,
                max_tokens: 6,
                ..edge_sampling_default_params()
            };
            let st = edge_generate(
                ctx,
                c"Once upon a time".as_ptr(),
                &sp,
                Some(collect),
                (&mut c as *mut Collect).cast(),
            );
            assert_eq!(st, edge_status::EDGE_OK);
            edge_context_free(ctx);
        }
        c.tokens
    };
    let a = std::thread::spawn(run);
    let b = std::thread::spawn(run);
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(a.len(), 6);
    assert_eq!(a, b, "greedy generation is the same on every thread");
    // SAFETY: the threads are done with it.
    unsafe { edge_model_free(model) };
}
