"""Generates extra_scipy_cases.json: oracle values for the statistics that have no case in the
team's drift_cases.json (Jensen-Shannon, KL, Hellinger, total variation, G-test, two-proportion
z-test, Fisher exact, Welch t-test, Mann-Whitney U, and more chi-squared homogeneity tables).

Same envelope and agreement rule as drift_cases.json; every case holds the exact call that
produced `expected`. Run with SciPy 1.17.1 / NumPy 2.x:

    python3 -m venv /tmp/ev-venv && /tmp/ev-venv/bin/pip install scipy==1.17.1
    /tmp/ev-venv/bin/python mlops-drift/tests/data/gen_extra_scipy_cases.py
"""

import json
import os

import numpy as np
import scipy
from scipy import stats
from scipy.spatial import distance

rng = np.random.default_rng(20261122)
cases = []


def add(test, call, reference, current, expected, params=None):
    case = {"id": f"{test}-{len(cases):03d}", "test": test, "call": call,
            "reference": reference, "current": current, "expected": expected}
    if params:
        case["params"] = params
    cases.append(case)


def f(x):
    x = float(x)
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


# --- divergences on count vectors -------------------------------------------------------------
count_pairs = [
    ([10, 20, 30, 40], [40, 30, 20, 10]),
    ([5, 0, 5, 1], [0, 5, 5, 3]),
    ([100, 1, 1], [98, 2, 2]),
    ([1, 0], [0, 1]),
    (list(rng.integers(0, 50, 12).tolist()), list(rng.integers(0, 50, 12).tolist())),
    (list(rng.integers(0, 1000, 20).tolist()), list(rng.integers(0, 1000, 20).tolist())),
]
for p, q in count_pairs:
    pn = np.asarray(p, float) / np.sum(p)
    qn = np.asarray(q, float) / np.sum(q)
    for base in (None, 2):
        add("jensenshannon", f"scipy.spatial.distance.jensenshannon(reference, current, base={base})",
            p, q, {"value": f(distance.jensenshannon(p, q, base=base))},
            {"base": base} if base else None)
    for eps in (0.0, 1e-4):
        ps = (pn + eps) / (1 + len(p) * eps)
        qs = (qn + eps) / (1 + len(q) * eps)
        add("kl_divergence",
            f"p, q = reference/sum, current/sum; smoothed x=(x+{eps})/(1+K*{eps}); scipy.stats.entropy(p, q)",
            p, q, {"value": f(stats.entropy(ps, qs))}, {"epsilon": eps})
    add("hellinger", "p, q = reference/sum, current/sum; numpy.sqrt(numpy.sum((numpy.sqrt(p) - numpy.sqrt(q))**2) / 2)",
        p, q, {"value": f(np.sqrt(np.sum((np.sqrt(pn) - np.sqrt(qn)) ** 2) / 2))})
    add("total_variation", "p, q = reference/sum, current/sum; numpy.sum(numpy.abs(p - q)) / 2",
        p, q, {"value": f(np.sum(np.abs(pn - qn)) / 2)})


# --- categorical: chi2 and G on label samples ---------------------------------------------------
def labels(n, probs, cats):
    return [str(x) for x in rng.choice(cats, size=n, p=probs)]


label_pairs = [
    (labels(40, [0.5, 0.5], ["a", "b"]), labels(30, [0.3, 0.7], ["a", "b"])),
    (labels(300, [0.2, 0.3, 0.5], ["x", "y", "z"]), labels(250, [0.25, 0.25, 0.5], ["x", "y", "z"])),
    (labels(80, [0.6, 0.4], ["a", "b"]), labels(90, [0.5, 0.3, 0.2], ["a", "b", "new"])),
    (labels(1000, [0.1, 0.2, 0.3, 0.4], list("abcd")), labels(800, [0.4, 0.3, 0.2, 0.1], list("abcd"))),
    (["a"] * 10, ["a"] * 12),
]


def table(r, c):
    cats = sorted(set(r) | set(c))
    return cats, [[r.count(k) for k in cats], [c.count(k) for k in cats]]


for r, c in label_pairs:
    cats, t = table(r, c)
    if len(cats) > 1:
        res = stats.chi2_contingency(t)
        add("chi2_homogeneity", "scipy.stats.chi2_contingency([[reference counts], [current counts]])",
            r, c, {"statistic": f(res.statistic), "p_value": f(res.pvalue), "dof": int(res.dof)})
        res = stats.chi2_contingency(t, lambda_="log-likelihood")
        add("g_test", "scipy.stats.chi2_contingency([[reference counts], [current counts]], lambda_='log-likelihood')",
            r, c, {"statistic": f(res.statistic), "p_value": f(res.pvalue), "dof": int(res.dof)})
    if len(cats) <= 2:
        tt = [row + [0] * (2 - len(row)) for row in t]
        res = stats.fisher_exact(tt)
        add("fisher_exact", "scipy.stats.fisher_exact([[reference counts], [current counts]]) over the sorted categories",
            r, c, {"odds_ratio": f(res.statistic), "p_value": f(res.pvalue)})

for tt in ([[8, 2], [1, 5]], [[3, 7], [7, 3]], [[50, 60], [70, 20]], [[0, 5], [5, 0]], [[12, 5], [9, 7]]):
    r = ["a"] * tt[0][0] + ["b"] * tt[0][1]
    c = ["a"] * tt[1][0] + ["b"] * tt[1][1]
    res = stats.fisher_exact(tt)
    add("fisher_exact", "scipy.stats.fisher_exact([[reference counts], [current counts]]) over the sorted categories",
        r, c, {"odds_ratio": f(res.statistic), "p_value": f(res.pvalue)})

# --- two-proportion z-test on 0/1 samples -------------------------------------------------------
for n1, p1, n2, p2 in ((50, 0.3, 60, 0.5), (500, 0.1, 400, 0.12), (30, 0.5, 30, 0.5), (1000, 0.02, 1000, 0.05)):
    r = rng.binomial(1, p1, n1).tolist()
    c = rng.binomial(1, p2, n2).tolist()
    a, b = np.mean(r), np.mean(c)
    P = (a * n1 + b * n2) / (n1 + n2)
    z = (a - b) / np.sqrt(P * (1 - P) * (1 / n1 + 1 / n2))
    add("two_proportion_ztest",
        "p1, p2 = mean(reference), mean(current); P = (p1*n1 + p2*n2)/(n1+n2); z = (p1 - p2)/sqrt(P(1-P)(1/n1+1/n2)); p = 2*scipy.stats.norm.sf(abs(z))",
        r, c, {"statistic": f(z), "p_value": f(2 * stats.norm.sf(abs(z)))})

# --- Welch t-test and Mann-Whitney U --------------------------------------------------------------
samples = [
    (rng.normal(0, 1, 5), rng.normal(0.5, 2, 7)),
    (rng.normal(0, 1, 30), rng.normal(0.2, 1, 40)),
    (rng.normal(0, 1, 200), rng.normal(0.1, 1.5, 150)),
    (rng.exponential(1, 8), rng.exponential(2, 6)),
    (rng.normal(0, 1, 3), rng.normal(3, 1, 9)),
    (rng.normal(0, 1, 8), rng.normal(0, 1, 100)),
    (np.round(rng.normal(0, 2, 25)), np.round(rng.normal(1, 2, 20))),
    (np.round(rng.normal(0, 1, 6)), np.round(rng.normal(1, 1, 5))),
]
for r, c in samples:
    r, c = r.tolist(), c.tolist()
    for alt in ("two-sided", "less", "greater"):
        res = stats.ttest_ind(r, c, equal_var=False, alternative=alt)
        add("welch_ttest", f"scipy.stats.ttest_ind(reference, current, equal_var=False, alternative='{alt}')",
            r, c, {"statistic": f(res.statistic), "p_value": f(res.pvalue), "df": f(res.df)},
            {"alternative": alt})
    res = stats.mannwhitneyu(r, c)
    add("mannwhitneyu", "scipy.stats.mannwhitneyu(reference, current)", r, c,
        {"statistic": f(res.statistic), "p_value": f(res.pvalue)})

out = {
    "generated_by": f"scipy {scipy.__version__}, numpy {np.__version__}",
    "note": "Generated by gen_extra_scipy_cases.py (seed 20261122). Each case names the call that produced 'expected'.",
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "extra_scipy_cases.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print(f"wrote {len(cases)} cases to {path}")
