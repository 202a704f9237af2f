//! The conformance test kit run against every store shipped with the crate, directly and
//! through `Box<dyn ModelStore>` / `Arc<dyn ModelStore>`.
#![cfg(feature = "testkit")]

use std::sync::Arc;

use mlops_registry::store::{InMemoryStore, ModelStore};
use mlops_registry::testkit;

#[test]
fn in_memory_passes_the_kit() {
    testkit::run_all(&InMemoryStore::new());
}

#[test]
fn in_memory_through_box_dyn() {
    let store: Box<dyn ModelStore> = Box::new(InMemoryStore::new());
    testkit::run_all(&store);
}

#[test]
fn in_memory_through_arc_dyn() {
    let store: Arc<dyn ModelStore> = Arc::new(InMemoryStore::new());
    testkit::run_all(&store);
}

#[test]
fn in_memory_through_a_reference() {
    let inner = InMemoryStore::new();
    let store: &dyn ModelStore = &inner;
    testkit::run_all(&store);
}
