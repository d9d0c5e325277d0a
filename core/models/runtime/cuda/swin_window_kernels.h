// Layout kernels around Swin-V1's window attention on the GPU: one pass from the normalised token
// map to the attention windows (zero padding to whole windows, the cyclic shift and the window
// partition of swin_v1.py at once), and one pass back that also adds the block's residual.
// Plain C++ interface (no ATen) so that nvcc compiles only this .cu file.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct SwinWindowGeometry {
    int64_t batch = 0, height = 0, width = 0, channels = 0;
    int64_t window = 0;  // w: windows of w x w tokens
    int64_t shift = 0;   // the cyclic shift (0: none)
    // The map padded at the bottom and right to multiples of w.
    int64_t padded_height() const { return (height + window - 1) / window * window; }
    int64_t padded_width() const { return (width + window - 1) / window * window; }
};

// tokens: batch x height x width x channels, contiguous. windows: (batch x windows) x (w x w) x
// channels, contiguous, in swin_v1.py's order: pad with zeros, roll by -shift on both axes,
// window_partition.
cudaError_t swin_partition_windows(const void* tokens, void* windows,
                                   const SwinWindowGeometry& geometry, ElementType type,
                                   cudaStream_t stream);

// out = residual + window_reverse(windows) rolled back by +shift and cropped to height x width,
// with the add computed in float32 and rounded once, as ATen's half-precision add does. windows
// as above; residual and out: batch x height x width x channels, contiguous.
cudaError_t swin_merge_windows_add(const void* windows, const void* residual, void* out,
                                   const SwinWindowGeometry& geometry, ElementType type,
                                   cudaStream_t stream);

}  // namespace ps::runtime::cuda
