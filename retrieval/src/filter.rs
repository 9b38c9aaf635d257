//! Filters: which spans a search may return. The filter is the storage
//! seam's ([`bubble_index::SpanFilter`]): each store applies it its own way.

pub use bubble_index::SpanFilter;
