//! The report as one self-contained HTML file (feature `html`).
//!
//! The page holds the dataset verdict, a table of columns (drifted first, then by effect size;
//! sortable by a few lines of inline script, readable without it) and per column an inline SVG
//! of reference against current (the explanation's PSI bins for numeric columns, in bin order;
//! its categories for categorical ones), the p5–p95 quantile table, the missing-share change and
//! the new and vanished categories.
//!
//! It never refers to anything outside itself: no URL, no font, no image file. A
//! `Content-Security-Policy` meta tag forbids every fetch (`default-src 'none'`) and allows only
//! the page's own style sheet and script, by hash. Every string that comes from the data (column
//! names, categories, reasons) is HTML-escaped, control characters are replaced, and each is cut
//! to a fixed number of escaped bytes, so the size is bounded: at most [`MAX_BARS`] bars and
//! [`MAX_LISTED`] new or vanished category names per column, never raw rows (about 6 KB per
//! column at worst, well under 1 MB for 100 columns). Colours follow `prefers-color-scheme`; a
//! print style sheet drops the buttons and keeps each column on one page.

use std::fmt::Write as _;

use super::{ColumnKind, ColumnReport, ColumnStatus, Contribution, DriftReport};
use crate::correction::Correction;

/// Most bars drawn per column (the explanation's largest contributors; set
/// [`ReportConfig::top_contributors`](super::ReportConfig::top_contributors) to the number of
/// PSI bins to see every bin).
pub const MAX_BARS: usize = 12;

/// Most new and most vanished category names listed per column (the count of the rest is
/// given).
pub const MAX_LISTED: usize = 8;

/// Escaped bytes of a column name, a bar label, a listed category and a reason.
const NAME_BYTES: usize = 240;
const LABEL_BYTES: usize = 28;
const LISTED_BYTES: usize = 96;
const REASON_BYTES: usize = 480;

/// The page's style sheet (constant: the CSP allows it by hash).
pub(crate) const STYLE: &str = r#"
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--ref:#8c959f;--cur:#0969da;--bad:#cf222e;--good:#1a7f37;--band:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--ref:#6e7681;--cur:#4493f8;--bad:#f85149;--good:#3fb950;--band:#161b22}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:72rem;padding:1.5rem;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.6rem;margin:0 0 .5rem}h2{font-size:1.15rem;margin:0 0 .4rem;overflow-wrap:anywhere}
.verdict{padding:.8rem 1rem;border-radius:.4rem;border:2px solid var(--good);margin:0 0 1rem}
.verdict.drifted{border-color:var(--bad)}.verdict strong{font-size:1.2rem}
.meta{color:var(--muted);margin:.3rem 0 0}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th button{all:unset;cursor:pointer;font-weight:600}th button::after{content:" \2195";color:var(--muted)}
tbody tr:nth-child(even){background:var(--band)}
td.name{overflow-wrap:anywhere;max-width:22rem}
.yes{color:var(--bad);font-weight:600}.no{color:var(--good)}.off{color:var(--muted)}
section.column{border:1px solid var(--line);border-radius:.4rem;padding:1rem;margin:0 0 1rem}
section.column.drifted{border-left:4px solid var(--bad)}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
svg{max-width:100%;height:auto}svg text{fill:var(--fg);font-size:11px}
svg .ref{fill:var(--ref)}svg .cur{fill:var(--cur)}svg .axis{stroke:var(--line)}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .8em;vertical-align:-.05em}
.legend .ref{background:var(--ref)}.legend .cur{background:var(--cur)}
table.q{width:auto;margin:0}ul.cats{margin:.2rem 0;padding-left:1.2rem;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.85rem;margin-top:2rem}
@media print{body{max-width:none;padding:0;background:#fff;color:#000;font-size:11pt}
:root{--bg:#fff;--fg:#000;--muted:#444;--line:#999;--band:#fff;--ref:#999;--cur:#1f4e99}
th button::after{content:""}section.column{break-inside:avoid}a{color:inherit;text-decoration:none}}
"#;

/// The sorting script (constant: the CSP allows it by hash). It marks the table
/// `data-sort-ready` once it ran.
pub(crate) const SCRIPT: &str = r#"
(function(){var t=document.getElementById('columns');if(!t)return;t.setAttribute('data-sort-ready','1');
var hs=t.tHead.rows[0].cells;Array.prototype.forEach.call(hs,function(h,i){var b=h.querySelector('button');if(!b)return;
b.addEventListener('click',function(){var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows),num=h.getAttribute('data-type')==='num',
dir=h.getAttribute('aria-sort')==='ascending'?-1:1;Array.prototype.forEach.call(hs,function(o){o.removeAttribute('aria-sort');});
h.setAttribute('aria-sort',dir===1?'ascending':'descending');rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-v'),c=y.cells[i].getAttribute('data-v');
if(num){a=parseFloat(a);c=parseFloat(c);if(isNaN(a))a=Infinity;if(isNaN(c))c=Infinity;}return a<c?-dir:a>c?dir:0;});
rows.forEach(function(r){tb.appendChild(r);});});});})();
"#;

/// `sha256-…` source of [`STYLE`] for the CSP (checked by a unit test).
pub(crate) const STYLE_HASH: &str = "sha256-iRYtw4wCKFFS7TGxzP9hovysGTwMPqUxOv9oUYMeBBY=";
/// `sha256-…` source of [`SCRIPT`] for the CSP (checked by a unit test).
pub(crate) const SCRIPT_HASH: &str = "sha256-3nPwx9k9zsuTexlzE3/OLFMsZIzxtp3MOvou9unoPA0=";

impl DriftReport {
    /// The report as one self-contained HTML page (see the [module docs](self)): no external
    /// URL, every data string escaped, bounded size, light and dark colours, a print style.
    ///
    /// ```
    /// use mlops_drift::report::{DriftReport, ReportConfig};
    /// use mlops_drift::table::Table;
    ///
    /// let a: Vec<f64> = (0..500).map(|i| f64::from(i % 50)).collect();
    /// let b: Vec<f64> = a.iter().map(|x| x + 20.0).collect();
    /// let report = DriftReport::compute(
    ///     &Table::new().with_numeric("<age>", &a)?,
    ///     &Table::new().with_numeric("<age>", &b)?,
    ///     &ReportConfig::default(),
    /// )?;
    /// let html = report.to_html();
    /// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("&lt;age&gt;"));
    /// assert!(!html.contains("<age>") && !html.contains("http:") && !html.contains("https:"));
    /// # Ok::<(), mlops_drift::DriftError>(())
    /// ```
    #[must_use]
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(16 * 1024 + self.columns.len() * 4 * 1024);
        // Writing to a String cannot fail.
        let _ = self.write_html(&mut out);
        out
    }

    fn write_html(&self, o: &mut String) -> std::fmt::Result {
        let verdict = if self.dataset_drifted {
            "Dataset drift detected"
        } else {
            "No dataset drift"
        };
        write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src '{STYLE_HASH}'; script-src '{SCRIPT_HASH}'; img-src 'none'; \
             base-uri 'none'; form-action 'none'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n\
             <title>Drift report: {verdict}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        )?;
        let class = if self.dataset_drifted {
            "verdict drifted"
        } else {
            "verdict"
        };
        write!(
            o,
            "<h1>Drift report</h1>\n<div class=\"{class}\" id=\"verdict\"><strong>{verdict}</strong>\
             <p class=\"meta\">{} of {} tested columns drifted (share {}, the dataset drifts at {}); \
             {} columns in all; correction: {}; missing-share α {}.</p></div>\n",
            self.n_drifted,
            self.n_tested,
            pct(self.drift_share),
            pct(self.drift_share_threshold),
            self.columns.len(),
            correction_name(self.correction),
            num(self.missing_alpha),
        )?;

        let mut order: Vec<(usize, &ColumnReport)> = self.columns.iter().enumerate().collect();
        order.sort_by(|(_, a), (_, b)| {
            b.drifted
                .cmp(&a.drifted)
                .then_with(|| b.is_tested().cmp(&a.is_tested()))
                .then_with(|| b.effect_size.total_cmp(&a.effect_size))
                .then_with(|| a.column.cmp(&b.column))
        });

        o.push_str(
            "<table id=\"columns\">\n<thead><tr>\
             <th data-type=\"str\"><button type=\"button\">Column</button></th>\
             <th data-type=\"str\"><button type=\"button\">Drifted</button></th>\
             <th data-type=\"str\"><button type=\"button\">Kind</button></th>\
             <th data-type=\"str\"><button type=\"button\">Method</button></th>\
             <th data-type=\"num\"><button type=\"button\">Score</button></th>\
             <th data-type=\"num\"><button type=\"button\">Threshold</button></th>\
             <th data-type=\"num\"><button type=\"button\">p-value</button></th>\
             <th data-type=\"num\"><button type=\"button\">Effect size</button></th>\
             </tr></thead>\n<tbody>\n",
        );
        for (rank, (i, c)) in order.iter().enumerate() {
            let (drift_v, drift_text, drift_class) = match (&c.status, c.drifted) {
                (ColumnStatus::Tested, true) => ("0", "yes", "yes"),
                (ColumnStatus::Tested, false) => ("1", "no", "no"),
                (ColumnStatus::Skipped { .. }, _) => ("2", "skipped", "off"),
                (_, _) => ("3", "failed", "off"),
            };
            let method = c.method.map_or("—", super::Method::name);
            let p = c.adjusted_p_value.or(c.p_value);
            writeln!(
                o,
                "<tr data-column=\"{i}\"><td class=\"name\" data-v=\"{rank:05}\"><a href=\"#col-{i}\">{name}</a></td>\
                 <td class=\"{drift_class}\" data-v=\"{drift_v}\">{drift_text}</td>\
                 <td data-v=\"{kind}\">{kind}</td><td data-v=\"{method}\">{method}</td>\
                 <td class=\"n\" data-v=\"{sv}\">{s}</td><td class=\"n\" data-v=\"{tv}\">{t}</td>\
                 <td class=\"n\" data-v=\"{pv}\">{ps}</td><td class=\"n\" data-v=\"{ev}\">{e}</td></tr>",
                name = esc(&c.column, NAME_BYTES),
                kind = kind_name(c.kind),
                sv = attr_num(c.statistic),
                s = num(c.statistic),
                tv = attr_num(c.threshold),
                t = num(c.threshold),
                pv = p.map_or_else(|| "NaN".to_owned(), attr_num),
                ps = p.map_or_else(|| "—".to_owned(), num),
                ev = attr_num(c.effect_size),
                e = num(c.effect_size),
            )?;
        }
        o.push_str("</tbody>\n</table>\n");

        for (i, c) in &order {
            write_column(o, *i, c)?;
        }
        write!(
            o,
            "<footer>Generated by mlops-drift {} (report format {}). This page is self-contained: \
             it loads nothing.</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
            env!("CARGO_PKG_VERSION"),
            self.format_version
        )
    }
}

fn write_column(o: &mut String, i: usize, c: &ColumnReport) -> std::fmt::Result {
    let class = if c.drifted {
        "column drifted"
    } else {
        "column"
    };
    write!(
        o,
        "<section class=\"{class}\" id=\"col-{i}\">\n<h2>{}</h2>\n<p class=\"meta\">{} column",
        esc(&c.column, NAME_BYTES),
        kind_name(c.kind)
    )?;
    match &c.status {
        ColumnStatus::Tested => {
            let verdict = if c.drifted { "drifted" } else { "no drift" };
            write!(
                o,
                "; {verdict} by {}; {} reference and {} current values",
                c.method.map_or("—", super::Method::name),
                c.n_reference,
                c.n_current
            )?;
        }
        ColumnStatus::Skipped { reason } => {
            write!(o, "; skipped: {}", esc(reason, REASON_BYTES))?;
        }
        ColumnStatus::Failed { reason } => {
            write!(o, "; failed: {}", esc(reason, REASON_BYTES))?;
        }
    }
    o.push_str(".</p>\n");
    if let Some(reason) = &c.reason {
        writeln!(o, "<p>{}</p>", esc(reason, REASON_BYTES))?;
    }
    if let Some(m) = &c.missing {
        writeln!(
            o,
            "<p class=\"missing\">Missing values: {} of reference, {} of current (p = {}{}).</p>",
            pct(m.reference_share),
            pct(m.current_share),
            num(m.p_value),
            if m.drifted { ", changed" } else { "" }
        )?;
    }
    o.push_str("<div class=\"charts\">\n");
    write_bars(o, c)?;
    if !c.explanation.quantiles.is_empty() {
        o.push_str(
            "<table class=\"q\"><thead><tr><th>quantile</th><th>reference</th><th>current</th></tr></thead><tbody>",
        );
        for q in &c.explanation.quantiles {
            write!(
                o,
                "<tr><td>p{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                (q.q * 100.0).round(),
                num(q.reference),
                num(q.current)
            )?;
        }
        o.push_str("</tbody></table>\n");
    }
    o.push_str("</div>\n");
    write_list(o, "New categories", &c.explanation.new_categories)?;
    write_list(o, "Vanished categories", &c.explanation.vanished_categories)?;
    o.push_str("</section>\n");
    Ok(())
}

fn write_list(o: &mut String, title: &str, items: &[String]) -> std::fmt::Result {
    if items.is_empty() {
        return Ok(());
    }
    write!(o, "<p>{title} ({}):</p><ul class=\"cats\">", items.len())?;
    for item in items.iter().take(MAX_LISTED) {
        write!(o, "<li>{}</li>", esc(item, LISTED_BYTES))?;
    }
    if items.len() > MAX_LISTED {
        write!(o, "<li>… and {} more</li>", items.len() - MAX_LISTED)?;
    }
    o.push_str("</ul>\n");
    Ok(())
}

/// The lower edge of a numeric bin label `[lo, hi)`, for drawing bins in order.
fn lower_edge(label: &str) -> f64 {
    label
        .strip_prefix('[')
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// A numeric bin `[lo, hi)` with readable numbers; a category as it is.
fn bar_label(kind: ColumnKind, label: &str) -> String {
    let hi = label
        .strip_suffix(')')
        .and_then(|s| s.rsplit(',').next())
        .and_then(|s| s.trim().parse::<f64>().ok());
    match (kind, hi) {
        (ColumnKind::Numeric, Some(hi)) => format!("[{}, {})", num(lower_edge(label)), num(hi)),
        _ => label.to_owned(),
    }
}

fn write_bars(o: &mut String, c: &ColumnReport) -> std::fmt::Result {
    let mut bars: Vec<&Contribution> = c
        .explanation
        .top_contributors
        .iter()
        .take(MAX_BARS)
        .collect();
    if bars.is_empty() {
        return Ok(());
    }
    if c.kind == ColumnKind::Numeric {
        bars.sort_by(|a, b| lower_edge(&a.label).total_cmp(&lower_edge(&b.label)));
    }
    let max = bars
        .iter()
        .map(|b| b.reference_share.max(b.current_share))
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    const LABEL_W: f64 = 170.0;
    const BAR_W: f64 = 300.0;
    const ROW_H: f64 = 26.0;
    let height = 24.0 + ROW_H * bars.len() as f64;
    let title = if c.kind == ColumnKind::Numeric {
        "Reference and current share per bin"
    } else {
        "Reference and current share per category"
    };
    write!(
        o,
        "<figure><figcaption class=\"legend\">{title}<span class=\"ref\"></span>reference\
         <span class=\"cur\"></span>current</figcaption>\
         <svg viewBox=\"0 0 {w} {height}\" width=\"{w}\" height=\"{height}\" role=\"img\" aria-label=\"{title}\">",
        w = LABEL_W + BAR_W + 120.0,
    )?;
    for (k, b) in bars.iter().enumerate() {
        let y = 4.0 + ROW_H * k as f64;
        let rw = (b.reference_share / max * BAR_W).clamp(0.0, BAR_W);
        let cw = (b.current_share / max * BAR_W).clamp(0.0, BAR_W);
        write!(
            o,
            "<g class=\"bar\"><text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{label}</text>\
             <rect class=\"ref\" x=\"{LABEL_W}\" y=\"{y}\" width=\"{rw:.1}\" height=\"10\"></rect>\
             <rect class=\"cur\" x=\"{LABEL_W}\" y=\"{y2}\" width=\"{cw:.1}\" height=\"10\"></rect>\
             <text x=\"{vx}\" y=\"{ty}\">{rs} → {cs}</text></g>",
            lx = LABEL_W - 6.0,
            ty = y + 14.0,
            label = esc(&bar_label(c.kind, &b.label), LABEL_BYTES),
            y2 = y + 11.0,
            vx = LABEL_W + BAR_W.min(rw.max(cw)) + 4.0,
            rs = pct(b.reference_share),
            cs = pct(b.current_share),
        )?;
    }
    let axis_y = 4.0 + ROW_H * bars.len() as f64;
    writeln!(
        o,
        "<line class=\"axis\" x1=\"{LABEL_W}\" y1=\"0\" x2=\"{LABEL_W}\" y2=\"{axis_y}\"></line></svg></figure>"
    )
}

fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Numeric => "numeric",
        ColumnKind::Categorical => "categorical",
    }
}

fn correction_name(c: Correction) -> &'static str {
    match c {
        Correction::None => "none",
        Correction::Bonferroni => "Bonferroni",
        Correction::Holm => "Holm",
        Correction::BenjaminiHochberg => "Benjamini–Hochberg",
        Correction::BenjaminiYekutieli => "Benjamini–Yekutieli",
    }
}

/// A number for people: 4 significant digits, scientific when tiny or huge, `—` for NaN.
fn num(x: f64) -> String {
    if x.is_nan() {
        "—".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "∞" } else { "−∞" }.to_owned()
    } else if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:.3e}")
    } else {
        let s = format!("{x:.4}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        };
        if s == "-0" { "0".to_owned() } else { s }
    }
}

/// A number for the sorting script (full precision; NaN sorts last).
fn attr_num(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else {
        format!("{x:e}")
    }
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "—".to_owned()
    } else {
        format!("{} %", num(x * 100.0))
    }
}

/// HTML-escapes `s` for text and attribute values, replacing control characters, and cuts it
/// so that the escaped form takes at most `max` bytes (then ends in `…`).
pub(crate) fn esc(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 8);
    for ch in s.chars() {
        let piece: &str = match ch {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            c if c.is_control() => "\u{FFFD}",
            _ => "",
        };
        let add = if piece.is_empty() {
            ch.len_utf8()
        } else {
            piece.len()
        };
        if out.len() + add > max {
            out.push('…');
            return out;
        }
        if piece.is_empty() {
            out.push(ch);
        } else {
            out.push_str(piece);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn base64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(char::from(A[((n >> (18 - 6 * k)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    #[test]
    fn csp_hashes_match_the_inline_style_and_script() {
        let h = |s: &str| format!("sha256-{}", base64(&Sha256::digest(s.as_bytes())));
        assert_eq!(h(STYLE), STYLE_HASH, "update STYLE_HASH");
        assert_eq!(h(SCRIPT), SCRIPT_HASH, "update SCRIPT_HASH");
        assert_eq!(base64(b"abcd"), "YWJjZA==");
    }

    #[test]
    fn escaping_covers_markup_quotes_controls_and_bounds_bytes() {
        assert_eq!(
            esc("<script>alert('x')</script>&\"", 1000),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(esc("a\u{0}b\u{1b}", 100), "a\u{FFFD}b\u{FFFD}");
        let long = "\"".repeat(1000);
        let e = esc(&long, 60);
        assert!(e.len() <= 60 + '…'.len_utf8());
        assert!(e.ends_with('…') && e.starts_with("&quot;"));
        assert_eq!(esc("été", 100), "été");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(num(0.25), "0.25");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(1.5e-7), "1.500e-7");
        assert_eq!(num(-0.0), "0");
        assert_eq!(pct(0.305), "30.5 %");
        assert_eq!(lower_edge("[-inf, 3.5)"), f64::NEG_INFINITY);
        assert_eq!(lower_edge("[2.5, 3.5)"), 2.5);
        assert!(lower_edge("cat").is_nan());
        assert_eq!(
            bar_label(ColumnKind::Numeric, "[-inf, 22.087642786650232)"),
            "[−∞, 22.0876)"
        );
        assert_eq!(bar_label(ColumnKind::Categorical, "[a, 1)"), "[a, 1)");
    }
}
