// The weights, bias and norm parameters go to shared memory as float32 (every thread reads the
// same one at a time: broadcasts); each thread gathers its 3 x 3 input pixels' channels and keeps
// its output channels' sums in registers.
#include "models/runtime/cuda/conv_norm_gelu_kernel.h"

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kKernel = 3, kTaps = kKernel * kKernel, kThreads = 128;

template <typename T, int In, int Out>
__global__ void __launch_bounds__(kThreads) conv_norm_gelu_kernel(ConvNormGeluArgs a) {
    __shared__ float w_s[Out * In * kTaps];
    __shared__ float p_s[3 * Out];  // conv bias, norm weight, norm bias
    const T* weight = static_cast<const T*>(a.weight);
    for (int i = threadIdx.x; i < Out * In * kTaps; i += blockDim.x) w_s[i] = to_float(weight[i]);
    for (int i = threadIdx.x; i < Out; i += blockDim.x) {
        p_s[i] = to_float(static_cast<const T*>(a.bias)[i]);
        p_s[Out + i] = to_float(static_cast<const T*>(a.norm_weight)[i]);
        p_s[2 * Out + i] = to_float(static_cast<const T*>(a.norm_bias)[i]);
    }
    __syncthreads();
    const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const int64_t pixels = a.out_height * a.out_width;
    if (index >= a.batch * pixels) return;
    const int64_t b = index / pixels, p = index % pixels;
    const int oy = static_cast<int>(p / a.out_width), ox = static_cast<int>(p % a.out_width);
    const int H = static_cast<int>(a.height), W = static_cast<int>(a.width);
    const T* image = static_cast<const T*>(a.x) + b * H * W * In;

    // The sums in registers: the channel loops are unrolled, the taps stay a loop (unrolled too,
    // the 16 -> 64 stage took nvcc minutes an architecture).
    float acc[Out];
#pragma unroll
    for (int o = 0; o < Out; ++o) {
        acc[o] = p_s[o];
    }
#pragma unroll 1
    for (int ky = 0; ky < kKernel; ++ky) {
        const int iy = oy * static_cast<int>(a.stride) - static_cast<int>(a.padding) + ky;
        if (iy < 0 || iy >= H) continue;
#pragma unroll 1
        for (int kx = 0; kx < kKernel; ++kx) {
            const int ix = ox * static_cast<int>(a.stride) - static_cast<int>(a.padding) + kx;
            if (ix < 0 || ix >= W) continue;
            const T* pixel = image + (static_cast<int64_t>(iy) * W + ix) * In;
            float v[In];
#pragma unroll
            for (int c = 0; c < In; ++c) v[c] = to_float(pixel[c]);
#pragma unroll
            for (int o = 0; o < Out; ++o) {
                const float* w = w_s + o * In * kTaps + ky * kKernel + kx;
#pragma unroll
                for (int c = 0; c < In; ++c) acc[o] += w[c * kTaps] * v[c];
            }
        }
    }
    // The convolution's output as its element type, then the norm's statistics over it.
    float mean = 0.f;
#pragma unroll
    for (int o = 0; o < Out; ++o) {
        acc[o] = to_float(from_float<T>(acc[o]));
        mean += acc[o];
    }
    mean /= static_cast<float>(Out);
    float squares = 0.f;
#pragma unroll
    for (int o = 0; o < Out; ++o) squares += (acc[o] - mean) * (acc[o] - mean);
    const float rstd = rsqrtf(squares / static_cast<float>(Out) + a.eps);
    T* out = static_cast<T*>(a.y) + index * Out;
#pragma unroll
    for (int o = 0; o < Out; o += 4) {
        uint2 packed;
        T* r = reinterpret_cast<T*>(&packed);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const float normed = to_float(from_float<T>(
                (acc[o + j] - mean) * rstd * p_s[Out + o + j] + p_s[2 * Out + o + j]));
            r[j] = from_float<T>(0.5f * normed * (1.f + erff(normed * 0.70710678118654752f)));
        }
        *reinterpret_cast<uint2*>(out + o) = packed;
    }
}

template <typename T, int In, int Out>
cudaError_t launch(const ConvNormGeluArgs& a, cudaStream_t stream) {
    const int64_t threads = a.batch * a.out_height * a.out_width;
    conv_norm_gelu_kernel<T, In, Out>
        <<<static_cast<unsigned>((threads + kThreads - 1) / kThreads), kThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch(const ConvNormGeluArgs& a, cudaStream_t stream) {
    if (a.in_channels == 1) return launch<T, 1, 4>(a, stream);
    if (a.in_channels == 4) return launch<T, 4, 16>(a, stream);
    return launch<T, 16, 64>(a, stream);
}

}  // namespace

bool conv_norm_gelu_supported(int64_t in_channels, int64_t out_channels, ElementType type) {
    const bool stage = (in_channels == 1 && out_channels == 4) ||
                       (in_channels == 4 && out_channels == 16) ||
                       (in_channels == 16 && out_channels == 64);
    return stage && (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t conv_norm_gelu(const ConvNormGeluArgs& args, ElementType type, cudaStream_t stream) {
    if (!conv_norm_gelu_supported(args.in_channels, args.out_channels, type) || args.batch < 0 ||
        args.stride <= 0 || args.padding < 0 || args.out_height < 0 || args.out_width < 0)
        return cudaErrorInvalidValue;
    if (args.batch * args.out_height * args.out_width == 0) return cudaSuccess;
    if (type == ElementType::F16) return launch<__half>(args, stream);
    return launch<__nv_bfloat16>(args, stream);
}

}  // namespace ps::runtime::cuda
