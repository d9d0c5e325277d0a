// Batched matrix products on the CPU with the threads across the products instead of inside each.
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// at::matmul for a [..., n, k] and b [..., k, m] (batch dimensions broadcast). On the CPU, when
// there are at least as many products as ATen threads, each thread multiplies whole matrices
// with a single-threaded BLAS call; with fewer products, their rows are split among the threads.
// Why: LibTorch 1.13's CPU bmm without MKL calls BLAS once per matrix, and OpenBLAS forks and
// joins its OpenMP threads inside every call. On the 2-core machine a Hiera-T window attention
// (1024 products of 64x96 by 96x64) took 5.3 s that way and 28 ms on one thread, and a large
// product stalls at each of its inner barriers whenever another process holds the second core.
// Each product is the same BLAS kernel on the same operands, so only the blocking of the rows
// can change the float rounding. Elsewhere (CUDA, a single small product) at::matmul, and
// everywhere with PHOTOSYNTH_THREADED_MATMUL=0.
at::Tensor threaded_matmul(const at::Tensor& a, const at::Tensor& b);

}  // namespace ps::runtime
