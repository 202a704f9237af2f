//! Online change detector cases (`stream_cases.json`): each case names a River detector, its
//! parameters in River's names, and the stream fed one value at a time. The result lists the
//! 0-based positions after whose update the detector reported drift (`drift_indices`) and, for
//! binary detectors, a warning (`warning_indices`).

use serde_json::{Map, Value};

use super::Case;
use crate::detect::{
    Adwin, AdwinParams, ChangeDetector, Cusum, CusumParams, Ddm, DdmParams, Detector, Eddm,
    EddmParams, HddmA, HddmAParams, HddmW, HddmWParams, PageHinkley, PageHinkleyParams, Tail,
};
use crate::error::{DriftError, Result};

/// Builds the detector a case names, with its parameters (River's names; missing ones take
/// River's defaults).
///
/// # Errors
/// [`DriftError::Conformance`] for an unknown detector or a malformed parameter, or the
/// detector's own [`DriftError::InvalidParameter`].
pub fn detector_for(case: &Case) -> Result<Detector> {
    let p = Params { case };
    Ok(match case.test.as_str() {
        "adwin" => {
            let d = AdwinParams::default();
            Detector::Adwin(Adwin::new(AdwinParams {
                delta: p.float("delta", d.delta)?,
                clock: p.uint("clock", d.clock)?,
                max_buckets: p.uint("max_buckets", d.max_buckets)?,
                min_window_length: p.uint("min_window_length", d.min_window_length)?,
                grace_period: p.uint("grace_period", d.grace_period)?,
            })?)
        }
        "page_hinkley" => {
            let d = PageHinkleyParams::default();
            Detector::PageHinkley(PageHinkley::new(PageHinkleyParams {
                min_instances: p.uint("min_instances", d.min_instances)?,
                delta: p.float("delta", d.delta)?,
                threshold: p.float("threshold", d.threshold)?,
                alpha: p.float("alpha", d.alpha)?,
                mode: p.tail("mode", d.mode)?,
            })?)
        }
        "cusum" => {
            let d = CusumParams::default();
            Detector::Cusum(Cusum::new(CusumParams {
                min_instances: p.uint("min_instances", d.min_instances)?,
                slack: p.float("slack", d.slack)?,
                threshold: p.float("threshold", d.threshold)?,
                mode: p.tail("mode", d.mode)?,
            })?)
        }
        "ddm" => {
            let d = DdmParams::default();
            Detector::Ddm(Ddm::new(DdmParams {
                warm_start: p.uint("warm_start", d.warm_start)?,
                warning_threshold: p.float("warning_threshold", d.warning_threshold)?,
                drift_threshold: p.float("drift_threshold", d.drift_threshold)?,
            })?)
        }
        "eddm" => {
            let d = EddmParams::default();
            Detector::Eddm(Eddm::new(EddmParams {
                warm_start: p.uint("warm_start", d.warm_start)?,
                alpha: p.float("alpha", d.alpha)?,
                beta: p.float("beta", d.beta)?,
            })?)
        }
        "hddm_a" => {
            let d = HddmAParams::default();
            Detector::HddmA(HddmA::new(HddmAParams {
                drift_confidence: p.float("drift_confidence", d.drift_confidence)?,
                warning_confidence: p.float("warning_confidence", d.warning_confidence)?,
                two_sided_test: p.boolean("two_sided_test", d.two_sided_test)?,
            })?)
        }
        "hddm_w" => {
            let d = HddmWParams::default();
            Detector::HddmW(HddmW::new(HddmWParams {
                drift_confidence: p.float("drift_confidence", d.drift_confidence)?,
                warning_confidence: p.float("warning_confidence", d.warning_confidence)?,
                lambda_val: p.float("lambda_val", d.lambda_val)?,
                two_sided_test: p.boolean("two_sided_test", d.two_sided_test)?,
            })?)
        }
        other => {
            return Err(DriftError::Unsupported {
                what: format!("conformance test `{other}`"),
            });
        }
    })
}

/// Computes one detector case.
///
/// # Errors
/// [`DriftError::Unsupported`] for a detector this runner does not know;
/// [`DriftError::Conformance`] for a malformed stream or parameter.
pub fn run_case(case: &Case) -> Result<Map<String, Value>> {
    let mut detector = detector_for(case)?;
    let stream = case
        .stream
        .as_array()
        .ok_or_else(|| bad(case, "`stream` is not a list"))?;
    let mut drifts = Vec::new();
    let mut warnings = Vec::new();
    for (i, v) in stream.iter().enumerate() {
        let x = match v {
            Value::Bool(b) => f64::from(u8::from(*b)),
            other => other
                .as_f64()
                .ok_or_else(|| bad(case, &format!("stream value {i} is not a number")))?,
        };
        detector.update(x);
        if detector.ignored() > 0 {
            return Err(bad(
                case,
                &format!("stream value {i} (`{x}`) is not admissible"),
            ));
        }
        if detector.drift_detected() {
            drifts.push(Value::from(i));
        }
        if detector.warning_detected() {
            warnings.push(Value::from(i));
        }
    }
    let mut out = Map::new();
    out.insert("drift_indices".into(), Value::Array(drifts));
    if case.kind == "binary" {
        out.insert("warning_indices".into(), Value::Array(warnings));
    }
    Ok(out)
}

fn bad(case: &Case, reason: &str) -> DriftError {
    DriftError::Conformance {
        id: case.id.clone(),
        reason: reason.to_owned(),
    }
}

struct Params<'a> {
    case: &'a Case,
}

impl Params<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        self.case.params.get(name).filter(|v| !v.is_null())
    }

    fn float(&self, name: &str, default: f64) -> Result<f64> {
        self.get(name).map_or(Ok(default), |v| {
            v.as_f64()
                .ok_or_else(|| bad(self.case, &format!("parameter `{name}` is not a number")))
        })
    }

    fn uint(&self, name: &str, default: u32) -> Result<u32> {
        self.get(name).map_or(Ok(default), |v| {
            let as_int = v.as_u64().or_else(|| {
                // River accepts integral floats such as `20.0`.
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX))
                    .map(|f| f as u64)
            });
            as_int
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad(self.case, &format!("parameter `{name}` is not a count")))
        })
    }

    fn boolean(&self, name: &str, default: bool) -> Result<bool> {
        self.get(name).map_or(Ok(default), |v| {
            v.as_bool()
                .ok_or_else(|| bad(self.case, &format!("parameter `{name}` is not a boolean")))
        })
    }

    fn tail(&self, name: &str, default: Tail) -> Result<Tail> {
        self.get(name).map_or(Ok(default), |v| match v.as_str() {
            Some("up") => Ok(Tail::Up),
            Some("down") => Ok(Tail::Down),
            Some("both") => Ok(Tail::Both),
            _ => Err(bad(
                self.case,
                &format!("parameter `{name}` is not up/down/both"),
            )),
        })
    }
}
