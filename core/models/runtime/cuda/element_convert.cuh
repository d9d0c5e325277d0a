// Device-side conversions between the element types of our kernels (float, half, bfloat16) and
// the float32 they compute in, and the launchers' switch over them; shared by every .cu file
// (runtime and families).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

__device__ inline float to_float(float v) {
    return v;
}
__device__ inline float to_float(__half v) {
    return __half2float(v);
}
__device__ inline float to_float(__nv_bfloat16 v) {
    return __bfloat162float(v);
}

// Round to nearest even, as ATen's conversions do.
template <typename T>
__device__ inline T from_float(float v);
template <>
__device__ inline float from_float<float>(float v) {
    return v;
}
template <>
__device__ inline __half from_float<__half>(float v) {
    return __float2half_rn(v);
}
template <>
__device__ inline __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}

// `f(T{})` for the element type's T (float, __half, __nv_bfloat16): one switch for every
// launcher.
template <typename F>
cudaError_t by_type(ElementType type, F f) {
    switch (type) {
        case ElementType::F32:
            return f(float{});
        case ElementType::F16:
            return f(__half{});
        case ElementType::BF16:
            return f(__nv_bfloat16{});
    }
    return cudaErrorInvalidValue;
}

}  // namespace ps::runtime::cuda
