//! Cosine distance between unit vectors, the distance of the HNSW graph.
//!
//! The graph holds vectors scaled to length 1, so cosine distance is `1 - a·b`: one dot product
//! in f32 with 32 independent sums, kept in AVX registers when the CPU has them (checked at run
//! time). hnsw_rs's own `DistCosine` computes the two norms as well, for
//! every pair, in a sequential f64 sum that cannot be vectorized; it dominated graph building and
//! every vector query.

use hnsw_rs::prelude::Distance;

/// `1 - a·b` for unit vectors `a` and `b`: cosine distance, in `[0, 2]`.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnitCosine;

impl Distance<f32> for UnitCosine {
    fn eval(&self, va: &[f32], vb: &[f32]) -> f32 {
        (1.0 - dot(va, vb)).max(0.0)
    }
}

/// The length of `vector` when it has a direction: not all zeros, and finite.
pub fn length(vector: &[f32]) -> Option<f32> {
    let squares = dot(vector, vector);
    (squares > 0.0 && squares.is_finite()).then(|| squares.sqrt())
}

/// `vector` scaled to length 1; `None` when it has no direction (see [`length`]).
pub fn unit(vector: &[f32]) -> Option<Vec<f32>> {
    length(vector).map(|norm| vector.iter().map(|x| x / norm).collect())
}

/// Independent partial sums of a dot product (four AVX registers of eight).
const LANES: usize = 32;

/// The dot product of `a` and `b` (over the shorter length). Every code path adds the same
/// products into the same [`LANES`] partial sums and reduces them in the same order, so the
/// result does not depend on the CPU.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        return unsafe { dot_avx(a, b) };
    }
    dot_lanes(a, b)
}

/// The lane sums of [`dot`] without SIMD intrinsics (`a` and `b` of the same length).
fn dot_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    let whole = a.len() - a.len() % LANES;
    for (x, y) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
    {
        for lane in 0..LANES {
            sums[lane] += x[lane] * y[lane];
        }
    }
    finish(sums, &a[whole..], &b[whole..])
}

/// The lane sums of [`dot`] in AVX registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn dot_avx(a: &[f32], b: &[f32]) -> f32 {
    use std::arch::x86_64::{__m256, _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps};
    use std::arch::x86_64::{_mm256_setzero_ps, _mm256_storeu_ps};
    let whole = a.len() - a.len() % LANES;
    let mut acc: [__m256; 4] = [_mm256_setzero_ps(); 4];
    let mut at = 0;
    while at < whole {
        for (register, sum) in acc.iter_mut().enumerate() {
            let offset = at + register * 8;
            // SAFETY: `offset + 8 <= whole <= a.len() == b.len()`.
            let (x, y) = unsafe {
                (
                    _mm256_loadu_ps(a.as_ptr().add(offset)),
                    _mm256_loadu_ps(b.as_ptr().add(offset)),
                )
            };
            *sum = _mm256_add_ps(*sum, _mm256_mul_ps(x, y));
        }
        at += LANES;
    }
    let mut sums = [0.0f32; LANES];
    for (register, sum) in acc.iter().enumerate() {
        // SAFETY: `sums` has room for 8 values at `register * 8`.
        unsafe { _mm256_storeu_ps(sums.as_mut_ptr().add(register * 8), *sum) };
    }
    finish(sums, &a[whole..], &b[whole..])
}

/// Adds the products of the tail (shorter than [`LANES`]) into the first lanes, then sums the
/// lanes pairwise.
#[inline(always)]
fn finish(mut sums: [f32; LANES], a: &[f32], b: &[f32]) -> f32 {
    for (lane, (x, y)) in a.iter().zip(b).enumerate() {
        sums[lane] += x * y;
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for lane in 0..width {
            sums[lane] += sums[lane + width];
        }
    }
    sums[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
    }

    #[test]
    fn dot_matches_a_plain_sum_at_every_length() {
        for n in [0, 1, 7, 31, 32, 33, 64, 100, 384, 385, 1024] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 5.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 3.0).collect();
            let fast = dot(&a, &b) as f64;
            assert!((fast - naive(&a, &b)).abs() < 1e-3, "n = {n}");
            assert_eq!(dot(&a, &b), dot_lanes(&a, &b), "every path sums alike");
        }
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0]), 14.0);
    }

    #[test]
    fn unit_vectors_and_their_distance() {
        let a = unit(&[3.0, 4.0]).unwrap();
        assert!((a[0] - 0.6).abs() < 1e-6 && (a[1] - 0.8).abs() < 1e-6);
        assert!(unit(&[0.0, 0.0]).is_none());
        assert!(unit(&[f32::INFINITY, 1.0]).is_none());
        assert!(unit(&[f32::NAN, 1.0]).is_none());
        let b = unit(&[-3.0, -4.0]).unwrap();
        assert!(UnitCosine.eval(&a, &a).abs() < 1e-6);
        assert!((UnitCosine.eval(&a, &b) - 2.0).abs() < 1e-6);
        let c = unit(&[4.0, -3.0]).unwrap();
        assert!((UnitCosine.eval(&a, &c) - 1.0).abs() < 1e-6);
    }
}
