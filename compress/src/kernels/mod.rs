//! The similarity math compression spends its time in, behind one small
//! trait so that it runs on a CPU ([`Cpu`]) or, with the `cuda` feature, on
//! an NVIDIA GPU (`Cuda`). The greedy decisions stay on the CPU: they are
//! sequential and cheap; the kernels do the dot products over many units.

mod cpu;
#[cfg(feature = "cuda")]
mod cuda;

pub use cpu::{dot, Cpu};
#[cfg(feature = "cuda")]
pub use cuda::Cuda;

/// The fastest kernels this process can use: a GPU's when built with the
/// `cuda` feature and one answers, else the CPU's. Decided once.
pub fn best() -> &'static dyn Kernels {
    #[cfg(feature = "cuda")]
    {
        static GPU: std::sync::OnceLock<Option<Cuda>> = std::sync::OnceLock::new();
        if let Some(g) = GPU.get_or_init(|| Cuda::new(0).ok()) {
            return g;
        }
    }
    &Cpu
}

/// No row qualified: the maximum of an empty set.
pub const NONE: (f32, u32) = (f32::NEG_INFINITY, u32::MAX);

/// Dot products over row-major matrices of `dim`-dimensional rows.
pub trait Kernels: Send + Sync {
    /// A short name for traces and benchmarks.
    fn name(&self) -> &'static str;

    /// The dot product of every row of `rows` with `v`.
    fn dots(&self, rows: &[f32], v: &[f32], dim: usize) -> Vec<f32>;

    /// For every row of `a`, the highest dot product with a row of `b` and
    /// that row's index (the lowest index on ties), or [`NONE`] when `b` is
    /// empty. With `groups = Some((ga, gb))`, rows of `b` in the same group
    /// as the row of `a` are skipped.
    fn max_dots(
        &self,
        a: &[f32],
        b: &[f32],
        dim: usize,
        groups: Option<(&[u32], &[u32])>,
    ) -> Vec<(f32, u32)>;
}
