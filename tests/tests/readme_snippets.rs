//! The README's "Use edge from C, Python and Java" section holds the binding examples
//! verbatim: the files `bindings/{c,python,java}/README-snippet.md`, which
//! `scripts/test-ffi.sh` and `scripts/test-bindings.sh` compile and run as written. This
//! keeps the README from drifting away from the code that is tested.

use std::path::Path;

#[test]
fn readme_holds_the_tested_binding_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for lang in ["c", "python", "java"] {
        let path = root.join(format!("bindings/{lang}/README-snippet.md"));
        let snippet =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            readme.contains(snippet.trim_end()),
            "README.md does not contain {} verbatim; paste it into the section \
             \"Use edge from C, Python and Java\"",
            path.display()
        );
    }
}
