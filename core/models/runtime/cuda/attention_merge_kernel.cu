// One thread a 16-byte pack of a token's output: the token's log-sum-exps (a few, cached), the
// weights, then the packs of every part.
#include "models/runtime/cuda/attention_merge_kernel.h"

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kPack = 8;
constexpr int kMaxParts = 32;

template <typename T>
__global__ void attention_merge_kernel(AttentionMergeArgs a) {
    const int64_t packs_per_token = a.dim / kPack;
    const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (index >= a.tokens * packs_per_token) return;
    const int64_t n = index / packs_per_token, d = (index % packs_per_token) * kPack;
    const int parts = static_cast<int>(a.count);
    float top = a.extra_lse != nullptr ? a.extra_lse[n] : -INFINITY;
    for (int p = 0; p < parts; ++p) top = fmaxf(top, a.lse[p * a.tokens + n]);
    float acc[kPack] = {};
    float total = 0.f;
    for (int p = 0; p < parts; ++p) {
        const float w = __expf(a.lse[p * a.tokens + n] - top);
        total += w;
        const int4 raw = *reinterpret_cast<const int4*>(static_cast<const T*>(a.parts) +
                                                        p * a.stride_part + n * a.stride_token + d);
        const T* v = reinterpret_cast<const T*>(&raw);
#pragma unroll
        for (int j = 0; j < kPack; ++j) acc[j] += w * to_float(v[j]);
    }
    if (a.extra != nullptr) {
        const float w = __expf(a.extra_lse[n] - top);
        total += w;
        const float4* e = reinterpret_cast<const float4*>(a.extra + n * a.dim + d);
        const float4 e0 = e[0], e1 = e[1];
        const float values[kPack] = {e0.x, e0.y, e0.z, e0.w, e1.x, e1.y, e1.z, e1.w};
#pragma unroll
        for (int j = 0; j < kPack; ++j) acc[j] += w * values[j];
    }
    const float inverse = 1.f / total;
    int4 packed;
    T* o = reinterpret_cast<T*>(&packed);
#pragma unroll
    for (int j = 0; j < kPack; ++j) o[j] = from_float<T>(acc[j] * inverse);
    *reinterpret_cast<int4*>(static_cast<T*>(a.out) + n * a.dim + d) = packed;
}

template <typename T>
cudaError_t launch(const AttentionMergeArgs& a, cudaStream_t stream) {
    constexpr int kThreads = 256;
    const int64_t threads = a.tokens * (a.dim / kPack);
    if (threads == 0) return cudaSuccess;
    attention_merge_kernel<T>
        <<<static_cast<unsigned>((threads + kThreads - 1) / kThreads), kThreads, 0, stream>>>(a);
    return cudaGetLastError();
}

}  // namespace

bool attention_merge_supported(int64_t count, int64_t dim, ElementType type) {
    return count >= 1 && count <= kMaxParts && dim > 0 && dim % kPack == 0 &&
           (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t attention_merge(const AttentionMergeArgs& args, ElementType type, cudaStream_t stream) {
    if (!attention_merge_supported(args.count, args.dim, type) || args.tokens < 0 ||
        args.stride_part % kPack != 0 || args.stride_token % kPack != 0 ||
        (args.extra == nullptr) != (args.extra_lse == nullptr))
        return cudaErrorInvalidValue;
    if (type == ElementType::F16) return launch<__half>(args, stream);
    return launch<__nv_bfloat16>(args, stream);
}

}  // namespace ps::runtime::cuda
