#!/usr/bin/env bash
# Side-by-side timings: this crate (criterion) against SciPy, NumPy, Evidently and River on the
# very same data, interleaved so that a slow minute of a shared machine hits both sides.
#
#   bash benches/compare/run.sh              # 3 rounds (about 6 minutes on 2 cores)
#   MLOPS_COMPARE_ROUNDS=5 bash benches/compare/run.sh
#
# Creates a virtual environment in benches/compare/.venv (pip: numpy, scipy, evidently 0.7.23,
# pandas < 2.3, river 0.26.1), writes the bench inputs from Rust (so both sides score the same
# numbers), builds the benches, then runs Python, Rust, Python, Rust, … one round at a time, and
# prints min / median / max of each side and the range of the per-round ratios.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
target="${CARGO_TARGET_DIR:-$root/target}"
data="${MLOPS_DRIFT_COMPARE_DIR:-$target/drift-compare}"
rounds="${MLOPS_COMPARE_ROUNDS:-3}"
criterion_dir="$target/criterion"
timings="$data/rounds"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy scipy "evidently==0.7.23" \
  "pandas<2.3" "river==0.26.1"

cd "$root"
echo "== building the benches, writing their inputs to $data"
cargo bench -q -p mlops-benches --bench drift --bench detectors --no-run
MLOPS_DRIFT_COMPARE_DATA="$data" cargo bench -q -p mlops-benches --bench drift
MLOPS_DETECTOR_COMPARE_DATA="$data" cargo bench -q -p mlops-benches --bench detectors
rm -rf "$timings"
mkdir -p "$timings"
criterion_args=(--warm-up-time 1 --measurement-time 3)
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: Python  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  "$venv/bin/python" "$here/compare.py" python "$data" "$timings/python-$round.json"
  echo "== round $round of $rounds: Rust  (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  cargo bench -q -p mlops-benches --bench drift -- "${criterion_args[@]}" \
    'drift/ks/(raw|profile)/1000000|drift/psi/profile/1000000|drift/report' >/dev/null
  cargo bench -q -p mlops-benches --bench detectors -- "${criterion_args[@]}" >/dev/null
  "$venv/bin/python" "$here/compare.py" rust "$criterion_dir" "$timings/rust-$round.json"
done
"$venv/bin/python" "$here/compare.py" report "$timings"
