//! Runnable examples of the mlops SDK live in `examples/examples/`; run one with
//! `cargo run --example quickstart`. See `examples/README.md` for the list.
//!
//! This library has no API of its own. It compiles and runs the code samples of the workspace
//! `README.md` as doc tests (`cargo test --doc -p mlops-examples`), so the README cannot drift
//! from the crates it describes.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
