// Attention over parts of its keys merged into the attention over all of them
// (cuda/attention_merge_kernel.h) on the GPU in half precision: SAM 2's memory attention split per
// memory frame. On by default; the engine sets it (GpuSwitches::attention_merge_kernel,
// PHOTOSYNTH_ATTENTION_MERGE_KERNEL=0 turns it off).
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// parts: P x N x D in half precision (D contiguous), lse: P x N float32, their log-sum-exps;
// extra, extra_lse: one more part, N x D and N float32, or both undefined. Returns N x D of the
// parts' type: sum_p softmax_p(lse) part_p in float32, rounded once; undefined where the kernel
// does not apply (switched off, CPU, other types or layouts, a build without our kernels).
at::Tensor merge_attention_parts(const at::Tensor& parts, const at::Tensor& lse,
                                 const at::Tensor& extra, const at::Tensor& extra_lse);

// Process-wide, set by the engine (and tests).
void set_attention_merge_kernel(bool enabled);

}  // namespace ps::runtime
