// Two passes over the pixel's channels for the mean and the variance (neighbouring threads read
// neighbouring pixels of a channel: coalesced in NCHW), a third that writes its channels in packs
// of 4 (8 bytes) to the pixel's contiguous row.
#include "models/runtime/cuda/channel_norm_kernel.h"

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kPack = 4;

template <typename T>
__global__ void channel_norm_kernel(ChannelNormArgs a) {
    const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (index >= a.batch * a.pixels) return;
    const int64_t b = index / a.pixels, p = index % a.pixels;
    const T* in = static_cast<const T*>(a.x) + b * a.stride_b + p * a.stride_p;
    const T* weight = static_cast<const T*>(a.weight);
    const T* bias = static_cast<const T*>(a.bias);
    const int C = static_cast<int>(a.channels);
    float sum = 0.f;
    for (int c = 0; c < C; ++c) sum += to_float(in[c * a.stride_c]);
    const float mean = sum / static_cast<float>(C);
    float squares = 0.f;
    for (int c = 0; c < C; ++c) {
        const float d = to_float(in[c * a.stride_c]) - mean;
        squares += d * d;
    }
    const float rstd = rsqrtf(squares / static_cast<float>(C) + a.eps);
    T* out = static_cast<T*>(a.y) + index * C;
    for (int c = 0; c < C; c += kPack) {
        uint2 packed;
        T* r = reinterpret_cast<T*>(&packed);
#pragma unroll
        for (int j = 0; j < kPack; ++j)
            r[j] = from_float<T>((to_float(in[(c + j) * a.stride_c]) - mean) * rstd *
                                     to_float(weight[c + j]) +
                                 to_float(bias[c + j]));
        *reinterpret_cast<uint2*>(out + c) = packed;
    }
}

template <typename T>
cudaError_t launch(const ChannelNormArgs& a, cudaStream_t stream) {
    constexpr int kThreads = 128;
    const int64_t threads = a.batch * a.pixels;
    channel_norm_kernel<T>
        <<<static_cast<unsigned>((threads + kThreads - 1) / kThreads), kThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace

bool channel_norm_supported(int64_t channels, ElementType type) {
    return channels > 0 && channels % kPack == 0 && channels <= 1024 &&
           (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t channel_norm(const ChannelNormArgs& args, ElementType type, cudaStream_t stream) {
    if (!channel_norm_supported(args.channels, type) || args.batch < 0 || args.pixels < 0)
        return cudaErrorInvalidValue;
    if (args.batch * args.pixels == 0) return cudaSuccess;
    if (type == ElementType::F16) return launch<__half>(args, stream);
    return launch<__nv_bfloat16>(args, stream);
}

}  // namespace ps::runtime::cuda
