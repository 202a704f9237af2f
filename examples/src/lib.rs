//! Runnable examples of the mlops SDK live in `examples/examples/`; run one with
//! `cargo run --example quickstart`. See `examples/README.md` for the list.
