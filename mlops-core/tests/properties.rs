//! Property tests: every valid identifier round-trips through `Display` and `FromStr` (and serde),
//! and no string makes a constructor panic.

use mlops_core::{AliasName, CheckName, Digest, ModelName, ModelRef, Role, VersionNumber};
use proptest::prelude::*;

fn valid_model_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}".prop_filter("no `..`", |s| !s.contains(".."))
}

proptest! {
    #[test]
    fn model_names_round_trip(name in valid_model_name()) {
        let parsed = ModelName::new(name.clone()).unwrap();
        prop_assert_eq!(parsed.to_string(), name.clone());
        prop_assert_eq!(name.parse::<ModelName>().unwrap(), parsed.clone());
        let json = serde_json::to_string(&parsed).unwrap();
        prop_assert_eq!(serde_json::from_str::<ModelName>(&json).unwrap(), parsed);
    }

    #[test]
    fn model_refs_round_trip(name in valid_model_name(), v in 1_u64..) {
        let r = ModelRef::new(ModelName::new(name).unwrap(), VersionNumber::new(v).unwrap());
        prop_assert_eq!(r.to_string().parse::<ModelRef>().unwrap(), r.clone());
        let json = serde_json::to_string(&r).unwrap();
        prop_assert_eq!(serde_json::from_str::<ModelRef>(&json).unwrap(), r);
    }

    #[test]
    fn aliases_round_trip(alias in "[A-Za-z][A-Za-z0-9_-]{0,63}") {
        if let Ok(a) = AliasName::new(alias.clone()) {
            prop_assert_eq!(a.to_string().parse::<AliasName>().unwrap(), a);
        } else {
            // Only the reserved words and version-shaped names are refused.
            let lower = alias.to_ascii_lowercase();
            let version_like = lower.strip_prefix('v')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(AliasName::RESERVED.contains(&lower.as_str()) || version_like);
        }
    }

    #[test]
    fn digests_round_trip(bytes in any::<[u8; 32]>()) {
        let d = Digest::from_bytes(bytes);
        prop_assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = ModelName::new(s.clone());
        let _ = AliasName::new(s.clone());
        let _ = Role::new(s.clone());
        let _ = CheckName::new(s.clone());
        let _ = s.parse::<ModelRef>();
        let _ = s.parse::<VersionNumber>();
        let _ = s.parse::<Digest>();
        let _ = serde_json::from_str::<ModelRef>(&s);
    }

    #[test]
    fn accepted_names_obey_every_rule(s in "[ -~]{0,140}") {
        if let Ok(n) = ModelName::new(s.clone()) {
            let n = n.as_str();
            prop_assert!(!n.is_empty() && n.len() <= 128);
            prop_assert!(!n.starts_with('.') && !n.contains(".."));
            prop_assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)));
        }
    }
}
