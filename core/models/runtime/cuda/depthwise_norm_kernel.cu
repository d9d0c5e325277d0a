// One CTA a segment of 32 pixels of an output row: its 256 threads are 32 pixels x 8 channel
// groups, so that a warp reads 32 neighbouring pixels of one channel (coalesced in NCHW) for each
// tap; the rounded sums go to shared memory, then each warp normalises four pixels over all their
// channels (lane l holds channels l, l + 32, ...; the sums go round by shuffles) and writes each
// pixel's contiguous row.
#include "models/runtime/cuda/depthwise_norm_kernel.h"

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kPixels = 32, kGroups = 8, kThreads = kPixels * kGroups, kMaxChannels = 256;

template <typename T, int K>
__global__ void __launch_bounds__(kThreads) depthwise_norm_kernel(DepthwiseNormArgs a) {
    __shared__ T conv_s[kPixels][kMaxChannels + 8];  // +8: the norm's reads avoid bank conflicts
    const int C = static_cast<int>(a.channels), H = static_cast<int>(a.height),
              W = static_cast<int>(a.width);
    const int segments = (W + kPixels - 1) / kPixels;
    const int64_t b = blockIdx.x / (static_cast<int64_t>(H) * segments);
    const int oy = static_cast<int>((blockIdx.x / segments) % H);
    const int x0 = static_cast<int>(blockIdx.x % segments) * kPixels;
    const int px = threadIdx.x % kPixels, group = threadIdx.x / kPixels;
    const int ox = x0 + px;
    const T* image = static_cast<const T*>(a.x) + b * a.stride_b;
    const T* weight = static_cast<const T*>(a.weight);
    const T* bias = static_cast<const T*>(a.bias);
    constexpr int kPad = K / 2;
    if (ox < W) {
        for (int c = group; c < C; c += kGroups) {
            const T* plane = image + c * a.stride_c;
            const T* w = weight + c * K * K;
            float acc = to_float(bias[c]);
#pragma unroll
            for (int ky = 0; ky < K; ++ky) {
                const int iy = oy - kPad + ky;
                if (iy < 0 || iy >= H) continue;
#pragma unroll
                for (int kx = 0; kx < K; ++kx) {
                    const int ix = ox - kPad + kx;
                    if (ix < 0 || ix >= W) continue;
                    acc += to_float(w[ky * K + kx]) *
                           to_float(plane[iy * a.stride_h + ix * a.stride_w]);
                }
            }
            conv_s[px][c] = from_float<T>(acc);  // the convolution's output as its element type
        }
    }
    __syncthreads();

    // The norm: warp w takes pixels w, w + 8, ...; lane l holds channels l, l + 32, ...
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const T* norm_weight = static_cast<const T*>(a.norm_weight);
    const T* norm_bias = static_cast<const T*>(a.norm_bias);
    constexpr int kPerLane = kMaxChannels / 32;
    for (int p = warp; p < kPixels && x0 + p < W; p += kThreads / 32) {
        float v[kPerLane];
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
            const int c = lane + 32 * j;
            v[j] = c < C ? to_float(conv_s[p][c]) : 0.f;
            sum += v[j];
        }
#pragma unroll
        for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
        const float mean = sum / static_cast<float>(C);
        float squares = 0.f;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
            const int c = lane + 32 * j;
            const float d = c < C ? v[j] - mean : 0.f;
            squares += d * d;
        }
#pragma unroll
        for (int o = 16; o > 0; o /= 2) squares += __shfl_xor_sync(0xffffffffu, squares, o);
        const float rstd = rsqrtf(squares / static_cast<float>(C) + a.eps);
        T* out = static_cast<T*>(a.y) + ((b * H + oy) * W + x0 + p) * C;
#pragma unroll
        for (int j = 0; j < kPerLane; ++j) {
            const int c = lane + 32 * j;
            if (c < C)
                out[c] = from_float<T>((v[j] - mean) * rstd * to_float(norm_weight[c]) +
                                       to_float(norm_bias[c]));
        }
    }
}

template <typename T, int K>
cudaError_t launch(const DepthwiseNormArgs& a, cudaStream_t stream) {
    const int64_t segments = (a.width + kPixels - 1) / kPixels;
    depthwise_norm_kernel<T, K>
        <<<static_cast<unsigned>(a.batch * a.height * segments), kThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch(const DepthwiseNormArgs& a, cudaStream_t stream) {
    if (a.kernel == 3) return launch<T, 3>(a, stream);
    if (a.kernel == 5) return launch<T, 5>(a, stream);
    return launch<T, 7>(a, stream);
}

}  // namespace

bool depthwise_norm_supported(int64_t channels, int64_t kernel, ElementType type) {
    return channels > 0 && channels % 32 == 0 && channels <= kMaxChannels &&
           (kernel == 3 || kernel == 5 || kernel == 7) &&
           (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t depthwise_norm(const DepthwiseNormArgs& args, ElementType type, cudaStream_t stream) {
    if (!depthwise_norm_supported(args.channels, args.kernel, type) || args.batch < 0 ||
        args.height < 0 || args.width < 0)
        return cudaErrorInvalidValue;
    if (args.batch * args.height * args.width == 0) return cudaSuccess;
    if (type == ElementType::F16) return launch<__half>(args, stream);
    return launch<__nv_bfloat16>(args, stream);
}

}  // namespace ps::runtime::cuda
