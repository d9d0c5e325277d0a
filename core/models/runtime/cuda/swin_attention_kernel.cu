// One CTA per (window, head) of 4 warps: k and v into shared memory, then each warp takes
// 16-query blocks: the scores against every key with tensor cores (WMMA, float32 accumulation),
// scale, bias and softmax in float32 over the row, the probabilities rounded to the element type
// (as FlashAttention's P), and their product with v.
#include "models/runtime/cuda/swin_attention_kernel.h"

#include <mma.h>

#include <cmath>

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

constexpr int kHeadDim = 32;
constexpr int kWarps = 4;
constexpr int kMaxTokens = 256;

size_t shared_bytes(int tokens, size_t element) {
    return 2 * static_cast<size_t>(tokens) * kHeadDim * element         // k, v
           + static_cast<size_t>(kWarps) * 16 * tokens * sizeof(float)  // scores per warp
           + static_cast<size_t>(kWarps) * 16 * tokens * element;       // probabilities
}

__device__ inline float warp_max(float v) {
    for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ inline float warp_sum(float v) {
    for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T>
__global__ void __launch_bounds__(kWarps * 32)
    window_attention_kernel(SwinAttentionArgs a, float scale) {
    using namespace nvcuda;
    extern __shared__ __align__(128) unsigned char shared[];
    const int N = static_cast<int>(a.tokens), heads = static_cast<int>(a.heads);
    const int64_t window = blockIdx.x / heads;
    const int head = blockIdx.x % heads;
    T* k_s = reinterpret_cast<T*>(shared);
    T* v_s = k_s + N * kHeadDim;
    float* scores_all = reinterpret_cast<float*>(v_s + N * kHeadDim);
    T* probs_all = reinterpret_cast<T*>(scores_all + kWarps * 16 * N);

    // Each token's k and v of this head: 32 contiguous values, read as 16-byte packs (q is read
    // straight into the tensor cores' fragments: each warp reads only its rows).
    const int64_t token_stride = 3LL * heads * kHeadDim;
    const T* base = static_cast<const T*>(a.qkv) + window * N * token_stride + head * kHeadDim;
    constexpr int kPack = 16 / sizeof(T), kPacks = kHeadDim / kPack;
    for (int i = threadIdx.x; i < 2 * N * kPacks; i += blockDim.x) {
        const int part = i / (N * kPacks), rest = i % (N * kPacks);
        const int n = rest / kPacks, c = (rest % kPacks) * kPack;
        const int4 value = *reinterpret_cast<const int4*>(base + n * token_stride +
                                                          (part + 1) * heads * kHeadDim + c);
        *reinterpret_cast<int4*>(k_s + part * N * kHeadDim + n * kHeadDim + c) = value;
    }
    __syncthreads();

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    float* scores = scores_all + warp * 16 * N;
    T* probs = probs_all + warp * 16 * N;
    const T* bias = static_cast<const T*>(a.bias) +
                    ((window % a.bias_windows) * heads + head) * static_cast<int64_t>(N) * N;
    T* out = static_cast<T*>(a.out);
    const int blocks = N / 16;
    for (int rb = warp; rb < blocks; rb += kWarps) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> qa[kHeadDim / 16];
        for (int kk = 0; kk < kHeadDim / 16; ++kk)
            wmma::load_matrix_sync(qa[kk], base + rb * 16 * token_stride + kk * 16,
                                   static_cast<unsigned>(token_stride));
        for (int tn = 0; tn < blocks; ++tn) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.f);
            for (int kk = 0; kk < kHeadDim / 16; ++kk) {
                // k^T as a column-major 32 x N matrix: k's rows read as its columns.
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> kb;
                wmma::load_matrix_sync(kb, k_s + tn * 16 * kHeadDim + kk * 16, kHeadDim);
                wmma::mma_sync(acc, qa[kk], kb, acc);
            }
            wmma::store_matrix_sync(scores + tn * 16, acc, N, wmma::mem_row_major);
        }
        __syncwarp();
        // Scale and bias for the whole 16-row block first, in 16-byte packs of the bias (its
        // rows rb*16.. are contiguous): all loads in flight at once. Read row by row inside the
        // softmax, each load waited for before the next, they made the kernel latency-bound.
        const T* bias_block = bias + static_cast<int64_t>(rb) * 16 * N;
        for (int i = lane; i < 16 * N / kPack; i += 32) {
            const int4 packed = *reinterpret_cast<const int4*>(bias_block + i * kPack);
            const T* values = reinterpret_cast<const T*>(&packed);
#pragma unroll
            for (int j = 0; j < kPack; ++j)
                scores[i * kPack + j] = scores[i * kPack + j] * scale + to_float(values[j]);
        }
        __syncwarp();
        for (int r = 0; r < 16; ++r) {
            float* row = scores + r * N;
            float m = -INFINITY;
            for (int c = lane; c < N; c += 32) m = fmaxf(m, row[c]);
            m = warp_max(m);
            float sum = 0.f;
            for (int c = lane; c < N; c += 32) {
                const float e = __expf(row[c] - m);
                row[c] = e;
                sum += e;
            }
            const float inverse = 1.f / warp_sum(sum);
            for (int c = lane; c < N; c += 32) probs[r * N + c] = from_float<T>(row[c] * inverse);
        }
        __syncwarp();
        for (int tj = 0; tj < kHeadDim / 16; ++tj) {
            wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
            wmma::fill_fragment(acc, 0.f);
            for (int kk = 0; kk < blocks; ++kk) {
                wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> pa;
                wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> vb;
                wmma::load_matrix_sync(pa, probs + kk * 16, N);
                wmma::load_matrix_sync(vb, v_s + kk * 16 * kHeadDim + tj * 16, kHeadDim);
                wmma::mma_sync(acc, pa, vb, acc);
            }
            // The scores are spent: their rows hold the 16 x 32 output.
            wmma::store_matrix_sync(scores + tj * 16, acc, kHeadDim, wmma::mem_row_major);
        }
        __syncwarp();
        for (int i = lane; i < 16 * kHeadDim; i += 32) {
            const int r = i / kHeadDim, d = i % kHeadDim;
            const int64_t token = window * N + rb * 16 + r;
            out[(token * heads + head) * kHeadDim + d] = from_float<T>(scores[i]);
        }
        __syncwarp();
    }
}

template <typename T>
cudaError_t launch(const SwinAttentionArgs& a, cudaStream_t stream) {
    const size_t bytes = shared_bytes(static_cast<int>(a.tokens), sizeof(T));
    // Above the default 48 KB of dynamic shared memory (83 KB for 144 tokens): asked once.
    static const cudaError_t allowed = cudaFuncSetAttribute(
        window_attention_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize,
        static_cast<int>(shared_bytes(kMaxTokens, sizeof(T))));
    if (allowed != cudaSuccess) return allowed;
    const float scale = 1.f / std::sqrt(static_cast<float>(kHeadDim));
    window_attention_kernel<T>
        <<<static_cast<unsigned>(a.windows * a.heads), kWarps * 32, bytes, stream>>>(a, scale);
    return cudaGetLastError();
}

}  // namespace

bool swin_attention_supported(int64_t tokens, int64_t head_dim, ElementType type) {
    return head_dim == kHeadDim && tokens > 0 && tokens % 16 == 0 && tokens <= kMaxTokens &&
           (type == ElementType::F16 || type == ElementType::BF16);
}

cudaError_t swin_window_attention(const SwinAttentionArgs& args, ElementType type,
                                  cudaStream_t stream) {
    if (!swin_attention_supported(args.tokens, args.head_dim, type) || args.windows <= 0 ||
        args.heads <= 0 || args.bias_windows <= 0)
        return cudaErrorInvalidValue;
    if (type == ElementType::F16) return launch<__half>(args, stream);
    return launch<__nv_bfloat16>(args, stream);
}

}  // namespace ps::runtime::cuda
