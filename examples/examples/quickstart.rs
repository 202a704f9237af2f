//! The mlops quickstart. Today it shows the shared vocabulary every crate speaks; as the drift,
//! registry and governance capabilities land it grows into the whole story: register, govern,
//! route, monitor, contest and audit a model.

use mlops_core::chrono::{TimeDelta, TimeZone, Utc};
use mlops_core::{
    Actor, Clock, Digest, Direction, Evidence, ManualClock, ModelRef, RiskTier, Role, Subject,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("mlops quickstart\n");

    let clock = ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
            .single()
            .ok_or("invalid start time")?,
    );
    let model: ModelRef = "credit-risk@v1".parse()?;
    let artifact = Digest::of(b"model weights of credit-risk v1");
    println!("1. a model version is named {model}; its artifact is pinned by sha256 {artifact}");

    let author = Actor::human("alice@example.com")?.with_role(Role::data_scientist());
    let validator = Actor::human("bob@example.com")?.with_role(Role::model_validator());
    println!(
        "2. {} ({:?}) builds it; {} ({:?}) validates it",
        author.id,
        author.roles.iter().map(Role::as_str).collect::<Vec<_>>(),
        validator.id,
        validator.roles.iter().map(Role::as_str).collect::<Vec<_>>(),
    );
    println!(
        "3. its risk tier is `{}`, so policies for that tier decide what it needs",
        RiskTier::High
    );

    let auc = Evidence::new(
        "validation.auc".parse()?,
        Subject::Version {
            version: model.clone(),
        },
        0.87,
        0.80,
        Direction::AtLeast,
        clock.now(),
    )
    .with_source("offline-validation");
    println!(
        "4. evidence: {} on {} = {} (needs {} {}) -> {:?}",
        auc.check,
        auc.subject,
        auc.value,
        auc.direction.symbol(),
        auc.threshold,
        auc.outcome
    );

    clock.advance(TimeDelta::days(45));
    println!(
        "5. 45 days later the evidence is {} days old: fresh enough for a 30-day policy? {}",
        auc.age(clock.now()).num_days(),
        auc.is_fresh(clock.now(), TimeDelta::days(30))
    );

    match "../etc/passwd".parse::<mlops_core::ModelName>() {
        Ok(name) => println!("6. unexpectedly accepted {name}"),
        Err(e) => println!("6. bad input is a typed error, never a panic: {e}"),
    }
    println!("\nNext: drift detection, the registry, routing and governance (see README.md).");
    Ok(())
}
