//! The conformance runner: `cargo run --release --example drift_conformance -- FILE`.
//!
//! For every case of a file in the team's conformance format (`drift_cases.json` or
//! `stream_cases.json`) it prints one JSON line `{"id": ..., <keys of expected>: <computed>}`,
//! computed from the case's inputs and parameters only — `expected` is never read, so the runner
//! works on files where it has been removed. A case that cannot be computed prints
//! `{"id": ..., "error": "..."}` and makes the exit code non-zero.

use std::io::Write;
use std::process::ExitCode;

use mlops_drift::conformance::{parse_file, run_case};
use serde_json::Value;

fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: drift_conformance FILE (a drift_cases.json or stream_cases.json)");
        return Ok(ExitCode::from(2));
    };
    let file = parse_file(&std::fs::read_to_string(&path)?)?;
    let mut failed = 0usize;
    let mut out = std::io::stdout().lock();
    for case in &file.cases {
        // `id` first, then the computed values under the keys of `expected`.
        let mut line = format!("{{\"id\":{}", Value::String(case.id.clone()));
        match run_case(case) {
            Ok(values) => {
                for (key, value) in values {
                    line.push_str(&format!(",{}:{value}", Value::String(key)));
                }
            }
            Err(e) => {
                failed += 1;
                line.push_str(&format!(",\"error\":{}", Value::String(e.to_string())));
            }
        }
        line.push('}');
        // A closed pipe (`| head`) ends the run with an error instead of a panic.
        writeln!(out, "{line}")?;
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} cases could not be computed",
            file.cases.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
