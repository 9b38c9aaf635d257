use crate::CompressError;

/// The units to compress, in source order: a flat row-major matrix of
/// unit-length vectors, each unit's token count and group.
#[derive(Debug, Clone, Default)]
pub struct UnitSet {
    dim: usize,
    vectors: Vec<f32>,
    tokens: Vec<u32>,
    groups: Vec<u32>,
    blocks: Vec<u32>,
    priors: Vec<f32>,
    group_count: usize,
}

impl UnitSet {
    /// An empty set of `dim`-dimensional units.
    pub fn new(dim: usize) -> UnitSet {
        UnitSet {
            dim,
            ..Default::default()
        }
    }

    /// Appends a unit. Groups are numbered from 0 by the caller (a unit's
    /// span or section); numbers need not be contiguous but should be small.
    /// `block` names the text whose forward pass the vector was pooled
    /// from (its paragraph, list or row): units of one block share its
    /// context, which redundancy and merging take into account.
    pub fn push(
        &mut self,
        vector: &[f32],
        tokens: u32,
        group: u32,
        block: u32,
    ) -> Result<(), CompressError> {
        if vector.len() != self.dim {
            return Err(CompressError::Dimension {
                expected: self.dim,
                found: vector.len(),
            });
        }
        self.vectors.extend_from_slice(vector);
        self.tokens.push(tokens);
        self.groups.push(group);
        self.blocks.push(block);
        self.priors.push(0.0);
        self.group_count = self.group_count.max(group as usize + 1);
        Ok(())
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// One past the highest group number.
    pub fn group_count(&self) -> usize {
        self.group_count
    }

    /// The vector of unit `u`.
    pub fn vector(&self, u: usize) -> &[f32] {
        &self.vectors[u * self.dim..(u + 1) * self.dim]
    }

    /// All vectors, row-major.
    pub fn vectors(&self) -> &[f32] {
        &self.vectors
    }

    /// Token counts.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Group of every unit.
    pub fn groups(&self) -> &[u32] {
        &self.groups
    }

    /// Adds a caller's prior to unit `u`'s relevance (a lexical match, a
    /// structural boost): MIG ranks by relevance plus prior. Ignored for a
    /// unit that does not exist.
    pub fn set_prior(&mut self, u: usize, prior: f32) {
        if let Some(p) = self.priors.get_mut(u) {
            *p = prior;
        }
    }

    /// The caller's prior of every unit.
    pub fn priors(&self) -> &[f32] {
        &self.priors
    }

    /// Block of every unit.
    pub fn blocks(&self) -> &[u32] {
        &self.blocks
    }

    /// Tokens of all units.
    pub fn total_tokens(&self) -> usize {
        self.tokens.iter().map(|&t| t as usize).sum()
    }
}
