//! Filter evaluation and pagination shared by the stores that search in memory.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use mlops_core::{ModelName, ModelRef, VersionNumber};

use crate::error::Result;
use crate::model::{ModelAggregate, ModelVersion, VersionCore};
use crate::store::{Page, PageToken, VersionFilter, VersionQuery};

/// One model as the search sees it: its aggregate and its version cores, where the core of
/// version `n` is at index `n - 1`.
pub(crate) struct Source<'a> {
    pub(crate) aggregate: &'a ModelAggregate,
    pub(crate) cores: &'a [Arc<VersionCore>],
}

pub(crate) fn core_of(cores: &[Arc<VersionCore>], n: VersionNumber) -> Option<&Arc<VersionCore>> {
    let idx = usize::try_from(n.get().checked_sub(1)?).ok()?;
    cores.get(idx)
}

/// Every version descending (transitively through parent links) from `root`, across models.
fn descendants(sources: &[Source<'_>], root: &ModelRef) -> HashSet<ModelRef> {
    let mut children: HashMap<ModelRef, Vec<ModelRef>> = HashMap::new();
    for s in sources {
        for (i, core) in s.cores.iter().enumerate() {
            if let (Some(parent), Some(n)) = (
                &core.lineage().parent,
                u64::try_from(i)
                    .ok()
                    .and_then(|i| VersionNumber::new(i + 1).ok()),
            ) {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(ModelRef::new(s.aggregate.name().clone(), n));
            }
        }
    }
    let mut out = HashSet::new();
    let mut stack = vec![root.clone()];
    while let Some(r) = stack.pop() {
        for c in children.get(&r).into_iter().flatten() {
            if out.insert(c.clone()) {
                stack.push(c.clone());
            }
        }
    }
    out
}

/// Whether `query` could match some version of the model called `name` (prefix and model
/// filters), so a store can skip loading the rest.
pub(crate) fn model_may_match(query: &VersionQuery, name: &ModelName) -> bool {
    query.filters.iter().all(|f| match f {
        VersionFilter::Model(m) => m == name,
        VersionFilter::ModelNamePrefix(p) => name.as_str().starts_with(p.as_str()),
        _ => true,
    })
}

/// Runs `query` over `sources`, which must be in model-name order.
pub(crate) fn run(sources: &[Source<'_>], query: &VersionQuery) -> Result<Page<ModelVersion>> {
    let after = query
        .page_token
        .as_ref()
        .map(PageToken::decode)
        .transpose()?;
    let page_size = query.effective_page_size();
    let desc: Vec<HashSet<ModelRef>> = query
        .filters
        .iter()
        .filter_map(|f| match f {
            VersionFilter::DescendantOf(root) => Some(descendants(sources, root)),
            _ => None,
        })
        .collect();
    let mut items = Vec::new();
    for s in sources {
        let agg = s.aggregate;
        let name = agg.name();
        if !model_may_match(query, name) {
            continue;
        }
        if let Some((am, _)) = &after
            && name < am
        {
            continue;
        }
        for (&n, status) in agg.versions() {
            if let Some((am, av)) = &after
                && name == am
                && av.is_none_or(|av| n <= av)
            {
                continue;
            }
            let Some(core) = core_of(s.cores, n) else {
                continue;
            };
            let mut desc_iter = desc.iter();
            let ok = query.filters.iter().all(|f| match f {
                VersionFilter::Model(_) | VersionFilter::ModelNamePrefix(_) => true,
                VersionFilter::Tag { key, value } => {
                    status.annotations.tags.get(key) == Some(value.as_str())
                }
                VersionFilter::Alias(a) => agg.alias(a) == Some(n),
                VersionFilter::State(st) => &status.state == st,
                VersionFilter::CreatedBetween { from, to } => {
                    core.created_at() >= *from && core.created_at() < *to
                }
                VersionFilter::TrainedOn(d) => {
                    core.lineage().datasets.iter().any(|ds| &ds.digest == d)
                }
                VersionFilter::DescendantOf(_) => desc_iter
                    .next()
                    .is_some_and(|set| set.contains(&ModelRef::new(name.clone(), n))),
            });
            if !ok {
                continue;
            }
            if items.len() >= page_size {
                // Another match exists beyond a full page: continue after the page's last item.
                let next = items
                    .last()
                    .map(|l: &ModelVersion| PageToken::after(l.model(), Some(l.number())));
                return Ok(Page { items, next });
            }
            items.push(ModelVersion::new(
                name.clone(),
                n,
                VersionCore::clone(core),
                status.clone(),
            ));
        }
    }
    Ok(Page { items, next: None })
}

/// Runs `query` over models a host store holds in memory (or loads to search), with the exact
/// semantics, order and paging of the SDK's own stores: every filter of [`VersionFilter`],
/// results in (model name, version number) order, and page tokens that resume after the last
/// item. `models` is any order of (aggregate, cores), where the core of version `n` is at index
/// `n - 1`.
///
/// For a host that stores aggregates and cores in its own database without a query index (a
/// key–value store, a document store, files); see `examples/custom_store.rs`.
///
/// # Errors
/// [`RegistryError::InvalidPageToken`](crate::RegistryError::InvalidPageToken).
pub fn search_versions_in_memory(
    models: &[(&ModelAggregate, &[Arc<VersionCore>])],
    query: &VersionQuery,
) -> Result<Page<ModelVersion>> {
    let mut sources: Vec<Source<'_>> = models
        .iter()
        .map(|&(aggregate, cores)| Source { aggregate, cores })
        .collect();
    sources.sort_by(|a, b| a.aggregate.name().cmp(b.aggregate.name()));
    run(&sources, query)
}
