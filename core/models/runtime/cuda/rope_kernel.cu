// One thread a 16-byte pack (4 pairs) of a row: the pack, its 4 (cos, sin) pairs as two 16-byte
// loads, one 16-byte store.
#include "models/runtime/cuda/rope_kernel.h"

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kPack = 8;

template <typename T>
__global__ void rope_rows_kernel(RopeRowsArgs a, int64_t packs) {
    const int64_t per_row = a.dim / kPack;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < packs;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t pack = i % per_row, row = i / per_row;
        const int64_t t = row % a.tokens, bh = row / a.tokens;
        const int64_t h = bh % a.heads, b = bh / a.heads;
        const T* in = static_cast<const T*>(a.x) + b * a.stride_b + h * a.stride_h +
                      t * a.stride_t + pack * kPack;
        int4 raw = *reinterpret_cast<const int4*>(in);
        if (t < a.rotated) {
            const T* v = reinterpret_cast<const T*>(&raw);
            const float4* f = reinterpret_cast<const float4*>(static_cast<const float2*>(a.freqs) +
                                                              (t % a.grid) * (a.dim / 2)) +
                              pack * 2;
            const float4 f01 = f[0], f23 = f[1];
            const float c[4] = {f01.x, f01.z, f23.x, f23.z}, s[4] = {f01.y, f01.w, f23.y, f23.w};
            int4 out;
            T* o = reinterpret_cast<T*>(&out);
#pragma unroll
            for (int p = 0; p < 4; ++p) {
                const float re = to_float(v[2 * p]), im = to_float(v[2 * p + 1]);
                o[2 * p] = from_float<T>(re * c[p] - im * s[p]);
                o[2 * p + 1] = from_float<T>(re * s[p] + im * c[p]);
            }
            raw = out;
        }
        *reinterpret_cast<int4*>(static_cast<T*>(a.y) + row * a.dim + pack * kPack) = raw;
    }
}

template <typename T>
cudaError_t launch(const RopeRowsArgs& a, cudaStream_t stream) {
    const int64_t packs = a.batch * a.heads * a.tokens * (a.dim / kPack);
    if (packs == 0) return cudaSuccess;
    constexpr int kThreads = 256;
    const int64_t blocks = std::min<int64_t>((packs + kThreads - 1) / kThreads, 65535LL * 16);
    rope_rows_kernel<T><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(a, packs);
    return cudaGetLastError();
}

}  // namespace

bool rope_rows_supported(int64_t dim, ElementType type) {
    return dim > 0 && dim % kPack == 0 && (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t rope_rows(const RopeRowsArgs& args, ElementType type, cudaStream_t stream) {
    if (!rope_rows_supported(args.dim, type) || args.grid <= 0 || args.rotated < 0 ||
        args.rotated > args.tokens || args.stride_b % kPack != 0 || args.stride_h % kPack != 0 ||
        args.stride_t % kPack != 0)
        return cudaErrorInvalidValue;
    if (type == ElementType::F16) return launch<__half>(args, stream);
    return launch<__nv_bfloat16>(args, stream);
}

}  // namespace ps::runtime::cuda
