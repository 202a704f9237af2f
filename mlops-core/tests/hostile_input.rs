//! Hostile input for the identifiers (issue 17): `ModelRef`, `ModelName`, `AliasName`,
//! `VersionNumber` and `ActorId` from arbitrary strings and from JSON mutated from the golden
//! file. Every parse returns within a time and memory bound, and whatever parses satisfies the
//! identifier's rules and round-trips through `Display` and serde.
#![allow(unsafe_code)] // reason: the counting allocator of `support/hostile.rs`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "support/hostile.rs"]
mod hostile;

use std::time::Duration;

use hostile::{MIB, bounded};
use mlops_core::{ActorId, AliasName, ModelName, ModelRef, VersionNumber};
use proptest::prelude::*;

const TIME: Duration = Duration::from_secs(2);

fn check_name(name: &ModelName) {
    let s = name.as_str();
    assert!(!s.is_empty() && s.chars().count() <= ModelName::MAX_LEN);
    assert!(!s.starts_with('.') && !s.contains(".."));
    assert!(
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    );
}

/// Parses `text` as every identifier; what parses obeys its rules and round-trips.
fn parse_all(text: &str) {
    let budget = 4 * MIB + 16 * i64::try_from(text.len()).unwrap();
    bounded("ModelRef", TIME, budget, || {
        if let Ok(r) = text.parse::<ModelRef>() {
            check_name(r.name());
            assert!(r.version().get() >= 1);
            assert_eq!(r.to_string().parse::<ModelRef>().unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ModelRef>(&json).unwrap(), r);
        }
    });
    bounded("ModelName", TIME, budget, || {
        if let Ok(n) = text.parse::<ModelName>() {
            check_name(&n);
            assert_eq!(n.as_str(), text);
        }
    });
    bounded("AliasName", TIME, budget, || {
        if let Ok(a) = text.parse::<AliasName>() {
            assert!(a.as_str().chars().count() <= AliasName::MAX_LEN);
            assert_eq!(a.to_string().parse::<AliasName>().unwrap(), a);
        }
    });
    bounded("VersionNumber", TIME, budget, || {
        if let Ok(v) = text.parse::<VersionNumber>() {
            assert!(v.get() >= 1);
            assert_eq!(v.to_string().parse::<VersionNumber>().unwrap(), v);
        }
    });
    bounded("ActorId", TIME, budget, || {
        let _ = text.parse::<ActorId>();
    });
}

fn golden() -> serde_json::Value {
    serde_json::from_str(include_str!("golden/identifiers.json")).unwrap()
}

#[test]
fn named_hostile_identifiers_are_typed_errors() {
    for bad in [
        "",
        "@",
        "@v1",
        "m@",
        "m@v",
        "m@v0",
        "m@1",
        "m@v18446744073709551616",
        "m@v-1",
        "m@v+1",
        "m@v１",
        "../m@v1",
        "m@v1@v2",
        ".m@v1",
        "a..b@v1",
        "m\u{0}@v1",
    ] {
        assert!(bad.parse::<ModelRef>().is_err(), "{bad:?}");
    }
    // The longest valid name, and one past it; a megabyte-long name is refused cheaply.
    let longest = format!("{}@v18446744073709551615", "m".repeat(ModelName::MAX_LEN));
    assert!(longest.parse::<ModelRef>().is_ok());
    let too_long = format!("{}@v1", "m".repeat(ModelName::MAX_LEN + 1));
    assert!(too_long.parse::<ModelRef>().is_err());
    let huge = format!("{}@v1", "m".repeat(1 << 20));
    // At most one copy of the input (the name is validated as an owned string).
    let err = bounded("1 MiB name", TIME, 2 * MIB + 4096, || {
        huge.parse::<ModelRef>()
    });
    assert!(
        err.unwrap_err().to_string().len() < 1024,
        "errors quote a shortened value"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_parse_or_fail_within_bounds(text in "\\PC{0,300}") {
        parse_all(&text);
    }

    #[test]
    fn near_valid_strings_parse_or_fail_within_bounds(
        name in "[a-zA-Z0-9._@-]{0,140}",
        version in prop_oneof![Just(String::new()), "v[0-9]{0,22}", "[0-9v+-]{0,5}"],
    ) {
        parse_all(&format!("{name}@{version}"));
        parse_all(&name);
    }

}

proptest! {
    #![proptest_config(hostile::fuzz_config(512))]

    #[test]
    fn fuzz_identifiers_json(m in hostile::mutated_json()) {
        let text = hostile::render(&golden(), &m);
        bounded("identifiers json", TIME, 64 * MIB, || {
            let _ = serde_json::from_str::<(ModelName, VersionNumber, ModelRef, AliasName)>(&text);
            if let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&text) {
                for item in items {
                    if let Some(s) = item.as_str() {
                        parse_all(s);
                    }
                }
            }
        });
    }
}
