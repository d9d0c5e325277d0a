// What every wrapper around one of our CUDA kernels needs: the stream ATen queues on for a
// tensor's device, and a launch's status turned into an exception naming what failed. Include
// only under PHOTOSYNTH_WITH_CUDA_KERNELS (a CUDA LibTorch).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace ps::runtime {

inline cudaStream_t stream_of(const at::Tensor& x) {
    return c10::cuda::getCurrentCUDAStream(x.device().index()).stream();
}

inline void check_launch(cudaError_t status, const std::string& what) {
    if (status != cudaSuccess) throw std::runtime_error(what + ": " + cudaGetErrorString(status));
}

}  // namespace ps::runtime
