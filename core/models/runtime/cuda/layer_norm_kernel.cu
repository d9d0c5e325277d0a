#include "models/runtime/cuda/layer_norm_kernel.h"

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kPack = 8;          // 16 bytes of a half-precision type
constexpr int kPacksPerLane = 4;  // up to 32 x 4 x 8 = 1024 channels
constexpr int kRowsPerBlock = 8;  // one warp each

__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T>
__global__ void __launch_bounds__(kRowsPerBlock * 32)
    layer_norm_rows_kernel(const T* __restrict__ x, const T* __restrict__ weight,
                           const T* __restrict__ bias, T* __restrict__ y, int64_t rows,
                           int channels, float eps) {
    const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / 32;
    if (row >= rows) return;
    const int lane = threadIdx.x % 32, packs = channels / kPack;
    const T* in = x + row * channels;
    float v[kPacksPerLane][kPack];
    float sum = 0.f;
#pragma unroll
    for (int p = 0; p < kPacksPerLane; ++p) {
        const int pack = lane + p * 32;
        if (pack >= packs) continue;
        const int4 raw = *reinterpret_cast<const int4*>(in + pack * kPack);
        const T* values = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int j = 0; j < kPack; ++j) {
            v[p][j] = to_float(values[j]);
            sum += v[p][j];
        }
    }
    const float mean = warp_sum(sum) / static_cast<float>(channels);
    float squares = 0.f;
#pragma unroll
    for (int p = 0; p < kPacksPerLane; ++p) {
        if (lane + p * 32 >= packs) continue;
#pragma unroll
        for (int j = 0; j < kPack; ++j) {
            const float d = v[p][j] - mean;
            squares += d * d;
        }
    }
    const float rstd = rsqrtf(warp_sum(squares) / static_cast<float>(channels) + eps);
    T* out = y + row * channels;
#pragma unroll
    for (int p = 0; p < kPacksPerLane; ++p) {
        const int pack = lane + p * 32;
        if (pack >= packs) continue;
        const int4 w_raw = *reinterpret_cast<const int4*>(weight + pack * kPack);
        const int4 b_raw = *reinterpret_cast<const int4*>(bias + pack * kPack);
        const T* w = reinterpret_cast<const T*>(&w_raw);
        const T* b = reinterpret_cast<const T*>(&b_raw);
        int4 result;
        T* r = reinterpret_cast<T*>(&result);
#pragma unroll
        for (int j = 0; j < kPack; ++j)
            r[j] = from_float<T>((v[p][j] - mean) * rstd * to_float(w[j]) + to_float(b[j]));
        *reinterpret_cast<int4*>(out + pack * kPack) = result;
    }
}

template <typename T>
cudaError_t launch(const void* x, const void* weight, const void* bias, void* y, int64_t rows,
                   int64_t channels, float eps, cudaStream_t stream) {
    const auto blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
    layer_norm_rows_kernel<T><<<blocks, kRowsPerBlock * 32, 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(weight), static_cast<const T*>(bias),
        static_cast<T*>(y), rows, static_cast<int>(channels), eps);
    return cudaGetLastError();
}

}  // namespace

bool layer_norm_rows_supported(int64_t channels, ElementType type) {
    return channels > 0 && channels % kPack == 0 && channels <= 32 * kPacksPerLane * kPack &&
           (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t layer_norm_rows(const void* x, const void* weight, const void* bias, void* y,
                            int64_t rows, int64_t channels, float eps, ElementType type,
                            cudaStream_t stream) {
    if (!layer_norm_rows_supported(channels, type) || rows < 0) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    if (type == ElementType::F16)
        return launch<__half>(x, weight, bias, y, rows, channels, eps, stream);
    return launch<__nv_bfloat16>(x, weight, bias, y, rows, channels, eps, stream);
}

}  // namespace ps::runtime::cuda
