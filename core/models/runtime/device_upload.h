// Small host tensors (a frame's bytes, a few positions) onto a device without a host
// synchronisation, and device tensors to the host likewise. A blocking copy to or from a CUDA
// device waits for every kernel queued on the stream before it returns: on a tracked frame each
// such copy stalled the host until the GPU had caught up, and the next kernels were queued only
// then.
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// `host` (any CPU tensor) on `device`. On CUDA through pinned memory and an asynchronous copy
// (LibTorch's caching host allocator keeps the pinned block until the copy has run); elsewhere
// an ordinary copy.
at::Tensor upload(const at::Tensor& host, const at::Device& device);

// `tensor` on the host as `dtype`. From CUDA into pinned memory without waiting: the values are
// there once the stream has run that far, so the host must not read them before a later
// synchronising step (copies back to the device on the same stream are ordered after it).
// Elsewhere an ordinary conversion.
at::Tensor download_async(const at::Tensor& tensor, at::ScalarType dtype);

}  // namespace ps::runtime
