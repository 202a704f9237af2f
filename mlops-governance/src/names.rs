//! Spans of time used by lifecycle definitions and policies ([`Period`]), and the check for
//! blank justifications. State and event names are `mlops-core`'s
//! ([`StateName`](mlops_core::StateName), [`EventName`]).

use std::fmt;
use std::str::FromStr;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use crate::error::NameError;
pub(crate) use mlops_core::error::shorten;

/// Whether `text` says nothing: empty once whitespace and invisible characters (zero-width
/// spaces and joiners, word joiners, byte-order marks, soft hyphens, bidirectional marks and
/// other format controls) are removed.
#[must_use]
pub(crate) fn is_blank(text: &str) -> bool {
    !text.chars().any(|c| !c.is_whitespace() && !is_invisible(c))
}

fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{E0000}'..='\u{E007F}')
        || c.is_control()
}

/// A non-negative span of time written as a number and a unit: `30s`, `15m`, `12h`, `7d`, `2w`
/// (or `0`). Serializes in the same form; used for evidence ages, approval expiry and minimum
/// time in a state.
///
/// ```
/// use mlops_governance::Period;
/// let p: Period = "7d".parse()?;
/// assert_eq!(p.as_delta(), mlops_core::chrono::TimeDelta::days(7));
/// assert_eq!(p.to_string(), "7d");
/// # Ok::<(), mlops_governance::NameError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    seconds: i64,
}

impl Period {
    /// The longest allowed period: 100 years.
    pub const MAX_SECONDS: i64 = 100 * 366 * 86_400;

    /// A period of `seconds`.
    ///
    /// # Errors
    /// [`NameError::InvalidPeriod`] if `seconds` is negative or above [`Period::MAX_SECONDS`].
    pub fn from_seconds(seconds: i64) -> Result<Self, NameError> {
        if !(0..=Self::MAX_SECONDS).contains(&seconds) {
            return Err(NameError::InvalidPeriod {
                value: seconds.to_string(),
                reason: "it must be between 0 and 100 years",
            });
        }
        Ok(Self { seconds })
    }

    /// A period of `days` days.
    ///
    /// # Errors
    /// As [`Period::from_seconds`].
    pub fn days(days: i64) -> Result<Self, NameError> {
        Self::from_seconds(days.saturating_mul(86_400))
    }

    /// A period of `days` days from a literal, for `const` items and blocks, where a value out
    /// of range is a compile error.
    ///
    /// ```
    /// const WEEK: mlops_governance::Period = mlops_governance::Period::from_static_days(7);
    /// assert_eq!(WEEK.to_string(), "7d");
    /// ```
    ///
    /// # Panics
    /// If `days` is negative or more than 100 years: at compile time in a `const`.
    #[must_use]
    pub const fn from_static_days(days: u32) -> Self {
        let seconds = days as i64 * 86_400;
        assert!(seconds <= Self::MAX_SECONDS, "more than 100 years");
        Self { seconds }
    }

    /// A period of `hours` hours.
    ///
    /// # Errors
    /// As [`Period::from_seconds`].
    pub fn hours(hours: i64) -> Result<Self, NameError> {
        Self::from_seconds(hours.saturating_mul(3_600))
    }

    /// The length in seconds.
    #[must_use]
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// The period as a chrono delta.
    #[must_use]
    pub fn as_delta(self) -> TimeDelta {
        TimeDelta::seconds(self.seconds)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seconds;
        if s == 0 {
            return f.write_str("0");
        }
        for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
            if s % len == 0 {
                return write!(f, "{}{unit}", s / len);
            }
        }
        write!(f, "{s}s")
    }
}

impl FromStr for Period {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| NameError::InvalidPeriod {
            value: shorten(s),
            reason,
        };
        if s == "0" {
            return Ok(Self { seconds: 0 });
        }
        let split = s
            .char_indices()
            .last()
            .map(|(i, _)| i)
            .ok_or_else(|| bad("it is empty"))?;
        let (digits, unit) = s
            .split_at_checked(split)
            .ok_or_else(|| bad("it is not a number followed by a unit"))?;
        let per: i64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            _ => return Err(bad("the unit must be one of `s`, `m`, `h`, `d`, `w`")),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "it must be a whole number followed by a unit, such as `7d`",
            ));
        }
        let n: i64 = digits.parse().map_err(|_| bad("the number is too large"))?;
        Self::from_seconds(n.saturating_mul(per)).map_err(|_| bad("it must be at most 100 years"))
    }
}

impl TryFrom<String> for Period {
    type Error = NameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_print() {
        for (text, secs) in [
            ("0", 0),
            ("45s", 45),
            ("15m", 900),
            ("12h", 43_200),
            ("7d", 604_800),
            ("14d", 1_209_600),
        ] {
            let p: Period = text.parse().unwrap();
            assert_eq!(p.seconds(), secs, "{text}");
            assert_eq!(p.to_string(), text);
        }
        assert_eq!("2w".parse::<Period>().unwrap().to_string(), "14d");
        assert_eq!("90s".parse::<Period>().unwrap().to_string(), "90s");
        assert_eq!("120s".parse::<Period>().unwrap().to_string(), "2m");
        for bad in [
            "",
            "d",
            "7",
            "-1d",
            "1.5h",
            "7y",
            "99999999999999999999d",
            "40000w",
        ] {
            assert!(
                matches!(bad.parse::<Period>(), Err(NameError::InvalidPeriod { .. })),
                "{bad}"
            );
        }
        assert!(Period::from_seconds(-1).is_err());
    }
}
