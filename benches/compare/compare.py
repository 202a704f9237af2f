"""Side-by-side timings of SciPy, NumPy, Evidently and River against the Rust benches.

run.sh calls this script in three modes:

    compare.py python DATA OUT.json     time the Python tools once on the benches' data
    compare.py rust CRITERION OUT.json  collect the criterion median estimates of one Rust run
    compare.py report ROUNDS_DIR        print min / median / max of each side over the rounds
                                        and the range of the per-round ratios (Python / Rust)

Each round is one Python run followed by one Rust run, so a slow minute of a shared machine
slows both sides of a round; the ratio of a round compares two neighbouring runs.
"""

import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

N_STREAM = 1_000_000


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


def numpy_psi_prebinned(cuts, ref_props, cur, eps=1e-4):
    """The PSI with the reference binned beforehand: only the current side is binned
    (`searchsorted` + `bincount`), as a fitted profile does."""
    k = len(cuts) + 1
    c = np.bincount(np.searchsorted(cuts, cur, side="right"), minlength=k) / len(cur)
    c = (c + eps) / (1 + k * eps)
    return float(np.sum((c - ref_props) * np.log(c / ref_props)))


def river_ns_per_value(make, stream):
    """ns per value of a fresh River detector fed the whole stream; and its drift count."""
    det = make()
    drifts = 0
    t = time.perf_counter()
    for x in stream:
        det.update(x)
        if det.drift_detected:
            drifts += 1
    return (time.perf_counter() - t) / len(stream) * 1e9, drifts


def time_python(data):
    import pandas as pd
    import river
    import scipy
    import scipy.stats
    import evidently
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report
    from river import drift

    ref = np.fromfile(data / "pair_ref.f64", dtype="<f8")
    cur = np.fromfile(data / "pair_cur.f64", dtype="<f8")
    cols, rows = map(int, (data / "shape.txt").read_text().split())
    tref = np.fromfile(data / "table_ref.f64", dtype="<f8").reshape(cols, rows)
    tcur = np.fromfile(data / "table_cur.f64", dtype="<f8").reshape(cols, rows)
    real = np.fromfile(data / "stream_real.f64", dtype="<f8").tolist()
    binary = [bool(v) for v in np.fromfile(data / "stream_binary.f64", dtype="<f8")]

    print(f"numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}, "
          f"evidently {evidently.__version__}, river {river.__version__}")
    out = {}
    res = scipy.stats.ks_2samp(ref, cur)
    print(f"scipy ks_2samp 1M vs 1M: D = {res.statistic:.6f}, p = {res.pvalue:.6g}")
    out["ks"] = median_of(lambda: scipy.stats.ks_2samp(ref, cur), 3)

    psi_value, edges = numpy_psi(ref, cur)
    cuts = edges[1:-1]
    k = len(cuts) + 1
    ref_props = np.bincount(np.searchsorted(cuts, ref, side="right"), minlength=k) / len(ref)
    ref_props = (ref_props + 1e-4) / (1 + k * 1e-4)
    pre = numpy_psi_prebinned(cuts, ref_props, cur)
    assert abs(pre - psi_value) <= 1e-9 * max(1.0, psi_value), (pre, psi_value)
    print(f"numpy PSI 1M: {psi_value:.6f}")
    out["psi_full"] = median_of(lambda: numpy_psi(ref, cur), 5)
    out["psi_prebinned"] = median_of(lambda: numpy_psi_prebinned(cuts, ref_props, cur), 5)

    names = [f"f{i}" for i in range(cols)]
    dref = pd.DataFrame(tref.T, columns=names)
    dcur = pd.DataFrame(tcur.T, columns=names)

    def evidently_report():
        rep = Report(metrics=[DataDriftPreset()])
        rep.run(reference_data=dref, current_data=dcur)
        return rep.as_dict()

    drift_result = evidently_report()["metrics"][0]["result"]  # also warms Evidently up
    print(f"evidently DataDriftPreset: {drift_result['number_of_drifted_columns']} of "
          f"{drift_result['number_of_columns']} columns drifted")
    out["report"] = median_of(evidently_report, 1)

    detectors = {
        "adwin": (drift.ADWIN, real),
        "page_hinkley": (drift.PageHinkley, real),
        "ddm": (drift.binary.DDM, binary),
        "eddm": (drift.binary.EDDM, binary),
        "hddm_a": (drift.binary.HDDMA, binary),
        "hddm_w": (drift.binary.HDDMW, binary),
    }
    rust_drifts = json.loads((data / "drifts.json").read_text())
    for name, (make, stream) in detectors.items():
        ns, drifts = river_ns_per_value(make, stream)
        print(f"river {name}: {ns:.0f} ns/value, {drifts} drifts on {len(stream)} values")
        if drifts != rust_drifts[name]:
            # Different drifts mean different restarts: not the same work, so no ratio.
            sys.exit(f"river {name} reported {drifts} drifts, the crate {rust_drifts[name]}")
        out[f"detect_{name}"] = ns * len(stream) / 1e9
    return out


def collect_rust(criterion_dir):
    def median(group, bench_id):
        path = Path(criterion_dir) / group / bench_id / "new" / "estimates.json"
        return json.loads(path.read_text())["median"]["point_estimate"] / 1e9

    rep = "100000x20"
    out = {
        "ks_raw": median("drift_ks", "raw/1000000"),
        "ks_profile": median("drift_ks", "profile/1000000"),
        "psi_profile": median("drift_psi", "profile/1000000"),
        "report_raw": median("drift_report", f"raw/{rep}"),
        "report_profile": median("drift_report", f"profile/{rep}"),
        "report_raw_1thread": median("drift_report", f"raw_1thread/{rep}"),
        "report_profile_1thread": median("drift_report", f"profile_1thread/{rep}"),
    }
    for name in ["adwin", "page_hinkley", "ddm", "eddm", "hddm_a", "hddm_w"]:
        out[f"detect_{name}"] = median("detect", f"{name}/{N_STREAM}")
    return out


# (label, python key, rust key, target ratio, unit): unit "ms" for batch timings, "ns" for
# ns per value of the 1M-value detector streams.
ROWS = [
    ("KS 1M vs 1M, raw (SciPy ks_2samp)", "ks", "ks_raw", 12, "ms"),
    ("KS 1M vs 1M, fitted profile (SciPy ks_2samp)", "ks", "ks_profile", 20, "ms"),
    ("PSI 1M vs profile (NumPy full)", "psi_full", "psi_profile", 25, "ms"),
    ("PSI 1M vs profile (NumPy, reference pre-binned)", "psi_prebinned", "psi_profile", 4, "ms"),
    ("report 100k x 20, raw (Evidently DataDriftPreset)", "report", "report_raw", 25, "ms"),
    ("report 100k x 20, fitted profile (Evidently)", "report", "report_profile", 80, "ms"),
    ("ADWIN (River)", "detect_adwin", "detect_adwin", 30, "ns"),
    ("Page-Hinkley (River)", "detect_page_hinkley", "detect_page_hinkley", 100, "ns"),
    ("DDM (River)", "detect_ddm", "detect_ddm", 100, "ns"),
    ("EDDM (River)", "detect_eddm", "detect_eddm", 100, "ns"),
    ("HDDM-A (River)", "detect_hddm_a", "detect_hddm_a", 100, "ns"),
    ("HDDM-W (River)", "detect_hddm_w", "detect_hddm_w", 100, "ns"),
]

# (label, serial key, parallel key, target): the parallel speed-up measured in each Rust run.
SPEEDUPS = [
    ("report 100k x 20 raw, all threads vs one", "report_raw_1thread", "report_raw", 1.7),
    ("report 100k x 20 profile, all threads vs one", "report_profile_1thread",
     "report_profile", 1.7),
]


def spread(values, scale):
    lo, mid, hi = min(values), statistics.median(values), max(values)
    return f"{lo * scale:.4g} / {mid * scale:.4g} / {hi * scale:.4g}"


def report(rounds_dir):
    rounds_dir = Path(rounds_dir)
    py = [json.loads(p.read_text()) for p in sorted(rounds_dir.glob("python-*.json"))]
    rs = [json.loads(p.read_text()) for p in sorted(rounds_dir.glob("rust-*.json"))]
    n = min(len(py), len(rs))
    py, rs = py[:n], rs[:n]
    print(f"\n{n} rounds (Python then Rust in each); times as min / median / max; ratio = "
          "Python / Rust of the same round, min - max (median)")
    print(f"{'what':<52} {'python':>26} {'rust':>26} {'ratio':>22} {'target':>8}")
    for label, pk, rk, target, unit in ROWS:
        scale = 1e3 if unit == "ms" else 1e9 / N_STREAM
        p = [r[pk] for r in py]
        r_ = [r[rk] for r in rs]
        ratios = [a / b for a, b in zip(p, r_)]
        met = "met" if min(ratios) >= target else "MISSED"
        print(f"{label:<52} {spread(p, scale) + ' ' + unit:>26} {spread(r_, scale) + ' ' + unit:>26} "
              f"{min(ratios):>7.1f} - {max(ratios):.1f}x ({statistics.median(ratios):.1f}) "
              f">= {target}x {met}")
    for label, sk, pk, target in SPEEDUPS:
        ratios = [r[sk] / r[pk] for r in rs]
        met = "met" if min(ratios) >= target else "MISSED"
        print(f"{label:<52} {'':>26} {'':>26} {min(ratios):>7.2f} - {max(ratios):.2f}x "
              f"({statistics.median(ratios):.2f}) >= {target}x {met}")


def main():
    mode = sys.argv[1]
    if mode == "python":
        out = time_python(Path(sys.argv[2]))
        Path(sys.argv[3]).write_text(json.dumps(out))
    elif mode == "rust":
        Path(sys.argv[3]).write_text(json.dumps(collect_rust(sys.argv[2])))
    elif mode == "report":
        report(sys.argv[2])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
