//! Inputs that once crashed (or nearly crashed) the reader under `cargo fuzz`, kept under
//! `tests/fuzz-regressions/`: each must now read as `Ok` or `Err`, without a panic, and an
//! `Ok` file must be fully readable. The hostile corpus and the valid seeds run the same way.

use std::path::PathBuf;

use edge_formats::GgufFile;

fn files_in(dir: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .collect();
    files.sort();
    files
}

/// Reads `path` both ways and touches everything an `Ok` file holds.
fn read_without_panic(path: &PathBuf) -> bool {
    let bytes = std::fs::read(path).expect("read");
    let from_bytes = GgufFile::from_bytes(bytes);
    let opened = GgufFile::open(path);
    assert_eq!(
        from_bytes.is_ok(),
        opened.is_ok(),
        "{}: open and from_bytes disagree",
        path.display()
    );
    match from_bytes {
        Ok(f) => {
            for (key, _) in f.metadata() {
                assert!(f.get(key).is_some());
            }
            for t in f.tensors() {
                assert_eq!(
                    f.tensor_data(t).len() as u64,
                    t.n_bytes(),
                    "{}",
                    path.display()
                );
            }
            true
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

#[test]
fn fuzz_regressions_read_without_panic() {
    for path in files_in("tests/fuzz-regressions") {
        read_without_panic(&path);
    }
}

#[test]
fn seeds_read_as_expected() {
    for path in files_in("tests/hostile") {
        assert!(
            !read_without_panic(&path),
            "{} must be rejected",
            path.display()
        );
    }
    for path in files_in("tests/valid") {
        assert!(
            read_without_panic(&path),
            "{} must be accepted",
            path.display()
        );
    }
}
