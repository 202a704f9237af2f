#!/usr/bin/env bash
# Side-by-side drift timings: this crate (criterion) against SciPy, NumPy and Evidently on the
# very same data, in one run. Prints the ratios against the DESIGN.md targets.
#
#   bash benches/compare/run.sh            # full run (a few minutes on 2 cores)
#
# Creates a virtual environment in benches/compare/.venv (pip: numpy, scipy, evidently 0.7.23,
# pandas < 2.3), writes the bench inputs from Rust (so both sides score the same numbers), runs
# the criterion benches, then times the Python tools and prints the comparison.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
data="${MLOPS_DRIFT_COMPARE_DIR:-$root/target/drift-compare}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy scipy "evidently==0.7.23" "pandas<2.3"

cd "$root"
echo "== writing the bench inputs to $data"
MLOPS_DRIFT_COMPARE_DATA="$data" cargo bench -q -p mlops-benches --bench drift
echo "== criterion (Rust)"
cargo bench -q -p mlops-benches --bench drift -- --warm-up-time 1 --measurement-time 3 \
  'drift/ks/(raw|profile)/1000000|drift/psi/profile/1000000|drift/report'
echo "== Python, same data"
"$venv/bin/python" "$here/compare.py" "$data" "$root/target/criterion"
