"""Times SciPy, NumPy and Evidently on the drift benches' data and prints ratios against the
criterion estimates of the Rust benches (run by run.sh just before).

Both sides are compared by their median time: criterion's median estimate on the Rust side,
the median of several runs on the Python side."""

import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.stats

warnings.filterwarnings("ignore")


def median_of(fn, repeat):
    """Median wall time of `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def numpy_psi(ref, cur, bins=10, eps=1e-4):
    """The NumPy quantile-bin PSI (the project's definition)."""
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    k = len(edges) - 1
    r = np.histogram(ref, edges)[0] / len(ref)
    c = np.histogram(cur, edges)[0] / len(cur)
    r = (r + eps) / (1 + k * eps)
    c = (c + eps) / (1 + k * eps)
    return float(np.sum((c - r) * np.log(c / r))), edges


def rust_seconds(criterion_dir, group, bench_id):
    path = Path(criterion_dir) / group / bench_id / "new" / "estimates.json"
    est = json.loads(path.read_text())
    return est["median"]["point_estimate"] / 1e9


def main():
    data, criterion_dir = Path(sys.argv[1]), sys.argv[2]
    ref = np.fromfile(data / "pair_ref.f64", dtype="<f8")
    cur = np.fromfile(data / "pair_cur.f64", dtype="<f8")
    cols, rows = map(int, (data / "shape.txt").read_text().split())
    tref = np.fromfile(data / "table_ref.f64", dtype="<f8").reshape(cols, rows)
    tcur = np.fromfile(data / "table_cur.f64", dtype="<f8").reshape(cols, rows)

    import evidently

    print(f"numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}, "
          f"evidently {evidently.__version__}")
    res = scipy.stats.ks_2samp(ref, cur)
    print(f"scipy ks_2samp 1M vs 1M: D = {res.statistic:.6f}, p = {res.pvalue:.6g}")
    t_ks = median_of(lambda: scipy.stats.ks_2samp(ref, cur), 5)

    psi_value, edges = numpy_psi(ref, cur)
    print(f"numpy PSI 1M: {psi_value:.6f}")
    t_psi = median_of(lambda: numpy_psi(ref, cur), 5)
    # The NumPy PSI with the reference binned beforehand (only the current histogram timed).
    t_psi_prefit = median_of(lambda: np.histogram(cur, edges), 5)

    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report

    names = [f"f{i}" for i in range(cols)]
    dref = pd.DataFrame(tref.T, columns=names)
    dcur = pd.DataFrame(tcur.T, columns=names)

    def evidently_report():
        rep = Report(metrics=[DataDriftPreset()])
        rep.run(reference_data=dref, current_data=dcur)
        return rep.as_dict()

    out = evidently_report()
    drift = out["metrics"][0]["result"]
    print(f"evidently DataDriftPreset: {drift['number_of_drifted_columns']} of "
          f"{drift['number_of_columns']} columns drifted, share {drift['share_of_drifted_columns']}")
    t_ev = median_of(evidently_report, 3)

    rows_out = [
        ("KS 1M vs 1M, raw", t_ks, rust_seconds(criterion_dir, "drift_ks", "raw/1000000"), 8),
        ("KS 1M vs 1M, fitted profile", t_ks,
         rust_seconds(criterion_dir, "drift_ks", "profile/1000000"), 20),
        ("PSI 1M vs profile (NumPy full)", t_psi,
         rust_seconds(criterion_dir, "drift_psi", "profile/1000000"), 10),
        ("PSI 1M vs profile (NumPy, reference pre-binned)", t_psi_prefit,
         rust_seconds(criterion_dir, "drift_psi", "profile/1000000"), None),
        (f"report {rows}x{cols}, raw (Evidently DataDriftPreset)", t_ev,
         rust_seconds(criterion_dir, "drift_report", f"raw/{rows}x{cols}"), 25),
        (f"report {rows}x{cols}, fitted profile", t_ev,
         rust_seconds(criterion_dir, "drift_report", f"profile/{rows}x{cols}"), None),
    ]
    print()
    print(f"{'what':<56} {'python':>10} {'rust':>10} {'ratio':>8} {'target':>7}")
    for name, py, rs, target in rows_out:
        tgt = f">= {target}x" if target else ""
        print(f"{name:<56} {py * 1e3:>8.1f}ms {rs * 1e3:>8.2f}ms {py / rs:>7.1f}x {tgt:>7}")


if __name__ == "__main__":
    main()
