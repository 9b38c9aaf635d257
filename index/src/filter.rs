//! Which spans a search may return, as a set of ords shared by both indexes.

use std::sync::Arc;

/// A set of allowed span ords (a bitmap), cheap to clone into collectors.
#[derive(Debug, Clone)]
pub struct Allowed(Arc<Vec<bool>>);

impl Allowed {
    /// Allows the ords for which `keep` is true, out of `len` spans.
    pub fn from_fn(len: usize, keep: impl Fn(u32) -> bool) -> Allowed {
        Allowed(Arc::new((0..len as u32).map(keep).collect()))
    }

    /// Allows the ords whose entry is true.
    pub fn from_vec(bits: Vec<bool>) -> Allowed {
        Allowed(Arc::new(bits))
    }

    /// Whether `ord` may be returned.
    pub fn contains(&self, ord: u32) -> bool {
        self.0.get(ord as usize).copied().unwrap_or(false)
    }

    /// How many ords are allowed.
    pub fn count(&self) -> usize {
        self.0.iter().filter(|b| **b).count()
    }
}

/// Both of two optional filters (a request's and the index's tombstones).
pub(crate) struct Both<'a>(pub Option<&'a Allowed>, pub Option<&'a Allowed>);

impl Both<'_> {
    pub(crate) fn contains(&self, ord: u32) -> bool {
        self.0.is_none_or(|a| a.contains(ord)) && self.1.is_none_or(|a| a.contains(ord))
    }
}
