//! The project keeps a byte-identical copy of the team's conformance files in `tests/data/`, so
//! the tests pass on a fresh clone anywhere; this test fails as soon as the copy goes stale.

use std::path::Path;

#[test]
fn test_data_matches_shared_conformance_when_present() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = manifest.join("../../shared/conformance");
    for file in ["drift_cases.json", "stream_cases.json", "README.md"] {
        let ours = std::fs::read(manifest.join("tests/data").join(file)).unwrap();
        if let Ok(theirs) = std::fs::read(shared.join(file)) {
            assert!(
                ours == theirs,
                "tests/data/{file} differs from shared/conformance/{file}: copy it again"
            );
        }
    }
}
