// Layout kernels around Swin-V1's window attention on the GPU, each with the LayerNorm next to it
// fused in: one pass from the token map to the attention windows (norm1, zero padding to whole
// windows, the cyclic shift and the window partition of swin_v1.py at once), and one pass back
// that adds the block's residual and applies norm2 to the sum. Plain C++ interface (no ATen) so
// that nvcc compiles only this .cu file; the index arithmetic is cuda/swin_window_indexing.h's,
// shared with the CPU twins (swin_windows.h).
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct SwinWindowGeometry {
    int64_t batch = 0, height = 0, width = 0, channels = 0;
    int64_t window = 0;  // w: windows of w x w tokens
    int64_t shift = 0;   // the cyclic shift (0: none)
};

// nn.LayerNorm over one token's channels as ATen computes it in any element type: float32 mean
// and variance (the mean squared deviation), (x - mean) / sqrt(var + eps) * weight + bias,
// rounded once. weight, bias: `channels` values of the element type.
struct SwinTokenNorm {
    const void* weight = nullptr;
    const void* bias = nullptr;
    float eps = 1e-5f;
};

// tokens: batch x height x width x channels, contiguous. windows: (batch x windows) x (w x w) x
// channels, contiguous, in swin_v1.py's order: layer_norm, pad with zeros, roll by -shift on
// both axes, window_partition.
cudaError_t swin_partition_windows_norm(const void* tokens, const SwinTokenNorm& norm,
                                        void* windows, const SwinWindowGeometry& geometry,
                                        ElementType type, cudaStream_t stream);

// out = residual + window_reverse(windows) rolled back by +shift and cropped to height x width,
// the add computed in float32 and rounded once (ATen's half-precision add); normed =
// layer_norm(out) of those rounded sums. windows as above; residual, out and normed: batch x
// height x width x channels, contiguous. `out_bias` (channels values, or null): added to `out`
// after the norm has read the sums (rounded again), so that the next product can accumulate
// onto out with that bias in it (Linear::flat_onto).
cudaError_t swin_merge_windows_add_norm(const void* windows, const void* residual,
                                        const SwinTokenNorm& norm, void* out, void* normed,
                                        const SwinWindowGeometry& geometry, ElementType type,
                                        cudaStream_t stream, const void* out_bias = nullptr);

}  // namespace ps::runtime::cuda
