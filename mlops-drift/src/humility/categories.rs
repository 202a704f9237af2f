//! A set of category names looked up on the request path without hashing with SipHash: each
//! name is pre-hashed once with XXH3-64 (fast, stable, seedless), the hashes are kept sorted, and
//! a lookup is one XXH3 of the value, a binary search over `u64`s and one string comparison.

use xxhash_rust::xxh3::xxh3_64;

/// The most names that may share one XXH3-64 hash. Honest data never has two; a longer run can
/// only be built on purpose, and would make a lookup scan it.
pub(crate) const MAX_HASH_RUN: usize = 4;

/// Category names, pre-hashed and sorted by `(hash, name)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CategorySet {
    hashes: Box<[u64]>,
    names: Box<[Box<str>]>,
}

impl CategorySet {
    /// The set of `names` (duplicates kept once); `Err` with a reason when more than
    /// [`MAX_HASH_RUN`] names share a hash.
    pub(crate) fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut entries: Vec<(u64, &str)> = names
            .into_iter()
            .map(|n| (xxh3_64(n.as_bytes()), n))
            .collect();
        entries.sort_unstable();
        entries.dedup();
        let mut run = 0_usize;
        let mut prev = None;
        for &(h, _) in &entries {
            run = if prev == Some(h) { run + 1 } else { 1 };
            prev = Some(h);
            if run > MAX_HASH_RUN {
                return Err(format!(
                    "more than {MAX_HASH_RUN} categories share one XXH3-64 hash"
                ));
            }
        }
        Ok(Self {
            hashes: entries.iter().map(|e| e.0).collect(),
            names: entries.iter().map(|e| Box::from(e.1)).collect(),
        })
    }

    /// Whether `name` is in the set. No allocation.
    #[inline]
    pub(crate) fn contains(&self, name: &str) -> bool {
        let h = xxh3_64(name.as_bytes());
        let start = self.hashes.partition_point(|&x| x < h);
        let hashes = self.hashes.get(start..).unwrap_or_default();
        let names = self.names.get(start..).unwrap_or_default();
        hashes
            .iter()
            .zip(names)
            .take_while(|(x, _)| **x == h)
            .any(|(_, n)| &**n == name)
    }

    /// The number of names.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exactly_the_names() {
        let s = CategorySet::new(["basic", "pro", "", "ünï", "pro"]).unwrap();
        assert_eq!(s.len(), 4);
        for n in ["basic", "pro", "", "ünï"] {
            assert!(s.contains(n), "{n}");
        }
        for n in ["Basic", "pr", "proo", " ", "x"] {
            assert!(!s.contains(n), "{n}");
        }
        assert!(!CategorySet::new([]).unwrap().contains(""));
    }

    #[test]
    fn many_names() {
        let names: Vec<String> = (0..5_000).map(|i| format!("c{i}")).collect();
        let s = CategorySet::new(names.iter().map(String::as_str)).unwrap();
        assert!(names.iter().all(|n| s.contains(n)));
        assert!((5_000..6_000).all(|i| !s.contains(&format!("c{i}"))));
    }
}
