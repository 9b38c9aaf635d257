//! GPU kernels (the `cuda` feature): the same dot products on an NVIDIA GPU.
//! The driver and NVRTC are loaded at run time and the kernels compiled
//! from source when [`Cuda::new`] runs, so a build needs no CUDA toolkit and
//! a machine without a GPU simply gets an error from `new` (and the CPU).
//!
//! Calls too small to pay for the transfers stay on the CPU; a GPU error
//! in a call falls back to the CPU for that call, so a result is always
//! there and always the same within rounding.

use super::{Cpu, Kernels, NONE};
use crate::CompressError;
use cudarc::driver::{CudaFunction, CudaStream, LaunchConfig, PushKernelArg};
use std::sync::Arc;

/// Multiply-adds below which a call runs on the CPU.
const GPU_WORK: usize = 2_000_000;
/// Threads per block: eight warps.
const BLOCK: u32 = 256;

/// One warp per row of `rows`: lanes stride over the dimensions, then a
/// warp reduction. One block per row of `a` in `max_dots`: the row is
/// staged in shared memory, each warp walks rows of `b` (coalesced reads),
/// and the block reduces the warps' maxima, keeping the lowest index on ties.
const SOURCE: &str = r#"
extern "C" __global__ void dots(const float* rows, const float* v, int n, int dim, float* out) {
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (warp >= n) return;
    const float* r = rows + (long long)warp * dim;
    float s = 0.0f;
    for (int k = lane; k < dim; k += 32) s += r[k] * v[k];
    for (int o = 16; o > 0; o /= 2) s += __shfl_down_sync(0xffffffff, s, o);
    if (lane == 0) out[warp] = s;
}

extern "C" __global__ void max_dots(const float* a, const float* b, int na, int nb, int dim,
                                    const unsigned int* ga, const unsigned int* gb, int use_groups,
                                    float* best_value, unsigned int* best_index) {
    extern __shared__ float row[];
    __shared__ float warp_value[32];
    __shared__ unsigned int warp_index[32];
    int i = blockIdx.x;
    if (i >= na) return;
    for (int k = threadIdx.x; k < dim; k += blockDim.x) row[k] = a[(long long)i * dim + k];
    __syncthreads();
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    float mine = -INFINITY;
    unsigned int mine_at = 0xffffffffu;
    for (int j = warp; j < nb; j += warps) {
        if (use_groups && ga[i] == gb[j]) continue;
        const float* r = b + (long long)j * dim;
        float s = 0.0f;
        for (int k = lane; k < dim; k += 32) s += row[k] * r[k];
        for (int o = 16; o > 0; o /= 2) s += __shfl_down_sync(0xffffffff, s, o);
        if (lane == 0 && s > mine) { mine = s; mine_at = j; }
    }
    if (lane == 0) { warp_value[warp] = mine; warp_index[warp] = mine_at; }
    __syncthreads();
    if (threadIdx.x == 0) {
        float v = -INFINITY;
        unsigned int at = 0xffffffffu;
        for (int w = 0; w < warps; w++) {
            float x = warp_value[w];
            unsigned int y = warp_index[w];
            if (y != 0xffffffffu && (x > v || (x == v && y < at))) { v = x; at = y; }
        }
        best_value[i] = v;
        best_index[i] = at;
    }
}
"#;

/// The GPU kernels on one device.
#[derive(Debug)]
pub struct Cuda {
    stream: Arc<CudaStream>,
    dots: CudaFunction,
    max_dots: CudaFunction,
}

impl Cuda {
    /// Opens GPU `ordinal` and compiles the kernels; an error (never a
    /// panic) when no driver, no NVRTC or no such GPU is there.
    pub fn new(ordinal: usize) -> Result<Cuda, CompressError> {
        let gpu = |e: String| CompressError::Gpu(e);
        // SAFETY: these only try to open the shared libraries.
        let present = unsafe {
            cudarc::driver::sys::is_culib_present() && cudarc::nvrtc::sys::is_culib_present()
        };
        if !present {
            return Err(gpu("no CUDA driver or NVRTC library found".into()));
        }
        // The bindings panic on a symbol an old driver lacks: keep that an error.
        std::panic::catch_unwind(|| -> Result<Cuda, CompressError> {
            let ctx = cudarc::driver::CudaContext::new(ordinal).map_err(|e| gpu(e.to_string()))?;
            let ptx = cudarc::nvrtc::compile_ptx(SOURCE).map_err(|e| gpu(e.to_string()))?;
            let module = ctx.load_module(ptx).map_err(|e| gpu(e.to_string()))?;
            let load = |name: &str| module.load_function(name).map_err(|e| gpu(e.to_string()));
            Ok(Cuda {
                stream: ctx.default_stream(),
                dots: load("dots")?,
                max_dots: load("max_dots")?,
            })
        })
        .unwrap_or_else(|_| Err(gpu("the CUDA bindings failed to load".into())))
    }

    fn gpu_dots(&self, rows: &[f32], v: &[f32], dim: usize) -> Result<Vec<f32>, String> {
        let n = rows.len() / dim.max(1);
        let s = &self.stream;
        let err = |e: cudarc::driver::DriverError| e.to_string();
        let rows_d = s.clone_htod(rows).map_err(err)?;
        let v_d = s.clone_htod(v).map_err(err)?;
        let mut out = s.alloc_zeros::<f32>(n).map_err(err)?;
        let (n_i, dim_i) = (n as i32, dim as i32);
        let warps_per_block = BLOCK / 32;
        let cfg = LaunchConfig {
            grid_dim: ((n as u32).div_ceil(warps_per_block), 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut launch = s.launch_builder(&self.dots);
        launch
            .arg(&rows_d)
            .arg(&v_d)
            .arg(&n_i)
            .arg(&dim_i)
            .arg(&mut out);
        // SAFETY: the kernel reads n·dim and dim floats and writes n, the
        // sizes of the buffers given.
        unsafe { launch.launch(cfg) }.map_err(err)?;
        s.clone_dtoh(&out).map_err(err)
    }

    fn gpu_max_dots(
        &self,
        a: &[f32],
        b: &[f32],
        dim: usize,
        groups: Option<(&[u32], &[u32])>,
    ) -> Result<Vec<(f32, u32)>, String> {
        let (na, nb) = (a.len() / dim.max(1), b.len() / dim.max(1));
        let s = &self.stream;
        let err = |e: cudarc::driver::DriverError| e.to_string();
        let a_d = s.clone_htod(a).map_err(err)?;
        let b_d = s.clone_htod(b).map_err(err)?;
        let (ga, gb) = groups.unwrap_or((&[0], &[0]));
        let ga_d = s.clone_htod(ga).map_err(err)?;
        let gb_d = s.clone_htod(gb).map_err(err)?;
        let mut value = s.alloc_zeros::<f32>(na).map_err(err)?;
        let mut index = s.alloc_zeros::<u32>(na).map_err(err)?;
        let (na_i, nb_i, dim_i) = (na as i32, nb as i32, dim as i32);
        let use_groups = i32::from(groups.is_some());
        let cfg = LaunchConfig {
            grid_dim: (na as u32, 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: (dim * 4) as u32,
        };
        let mut launch = s.launch_builder(&self.max_dots);
        launch
            .arg(&a_d)
            .arg(&b_d)
            .arg(&na_i)
            .arg(&nb_i)
            .arg(&dim_i)
            .arg(&ga_d)
            .arg(&gb_d)
            .arg(&use_groups)
            .arg(&mut value)
            .arg(&mut index);
        // SAFETY: the kernel reads na·dim, nb·dim floats and (with groups)
        // na, nb group ids, writes na values and indices, and stages one row
        // of dim floats in the shared memory asked for.
        unsafe { launch.launch(cfg) }.map_err(err)?;
        let value = s.clone_dtoh(&value).map_err(err)?;
        let index = s.clone_dtoh(&index).map_err(err)?;
        Ok(value
            .into_iter()
            .zip(index)
            .map(|(v, i)| if i == u32::MAX { NONE } else { (v, i) })
            .collect())
    }
}

impl Kernels for Cuda {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn dots(&self, rows: &[f32], v: &[f32], dim: usize) -> Vec<f32> {
        if rows.len() < GPU_WORK || dim == 0 {
            return Cpu.dots(rows, v, dim);
        }
        self.gpu_dots(rows, v, dim)
            .unwrap_or_else(|_| Cpu.dots(rows, v, dim))
    }

    fn max_dots(
        &self,
        a: &[f32],
        b: &[f32],
        dim: usize,
        groups: Option<(&[u32], &[u32])>,
    ) -> Vec<(f32, u32)> {
        let work = (a.len() / dim.max(1)).saturating_mul(b.len());
        if work < GPU_WORK || b.is_empty() || a.is_empty() || dim == 0 {
            return Cpu.max_dots(a, b, dim, groups);
        }
        self.gpu_max_dots(a, b, dim, groups)
            .unwrap_or_else(|_| Cpu.max_dots(a, b, dim, groups))
    }
}
