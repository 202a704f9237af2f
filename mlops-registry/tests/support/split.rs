//! `Split`: sends every call to one of two stores, alternating by thread, so concurrent
//! tests exercise two connections (or two replicas) on one database.

#![allow(dead_code, clippy::indexing_slicing, reason = "test helper")]

use mlops_registry::store::ModelStore;

#[path = "double.rs"]
mod double;
use double::{Double, Doubled};

/// Two stores on one database, picked by the calling thread.
pub(crate) struct Pick<'a>([&'a dyn ModelStore; 2]);

impl Double for Pick<'_> {
    fn inner(&self) -> &dyn ModelStore {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::thread::current().id().hash(&mut h);
        self.0[(h.finish() % 2) as usize]
    }
    fn name(&self) -> String {
        "split".into()
    }
    fn capabilities(&self) -> mlops_registry::store::Capabilities {
        self.0[0].capabilities()
    }
}

/// Sends every call to one of two stores, alternating by thread, so concurrent tests
/// exercise two connections on one file.
#[expect(
    non_snake_case,
    reason = "reads as the type it builds: `Split([&a, &b])`"
)]
pub(crate) fn Split(stores: [&dyn ModelStore; 2]) -> Doubled<Pick<'_>> {
    Doubled(Pick(stores))
}
