// Swin-V1's window attention, FlashAttention-2's way for windows that fit in registers: one CTA
// per (window, head), one warp per 16 queries. k and v of the head go to shared memory (v
// transposed, so that both products read 32-bit pairs); each warp's scores against all the
// window's keys stay in the tensor cores' accumulator registers (mma.sync m16n8k16, float32), get
// scale, bias and the row softmax there (a row spans the four lanes of a quad), and become the
// A operand of the product with v as half-precision pairs without touching shared memory. The
// rows' sums divide the output at the end. Windows of fewer tokens than the kernel's tile (7 x 7
// = 49 in a 64 tile) read zeros past their end and mask those keys out. Hiera's windows (SAM 2)
// take the same path without a bias: heads of 56, 72 or 96 channels, padded with zeros to the
// products' 16-channel steps, in windows of up to 64 tokens (tiles of 16, 32 or 64).
#include "models/runtime/cuda/swin_attention_kernel.h"

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "models/runtime/cuda/element_convert.cuh"

namespace ps::runtime::cuda {
namespace {

// A pair of values as the 32-bit register the tensor cores read (the lower index in the low half).
template <typename T>
__device__ inline uint32_t pack(float lo, float hi);
template <>
__device__ inline uint32_t pack<__half>(float lo, float hi) {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
}
template <>
__device__ inline uint32_t pack<__nv_bfloat16>(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&v);
}

// d += a b for one 16 x 8 tile, k = 16 (row-major a, column-major b). The instruction names the
// element type, so one spelling each; the operands are the same.
#define PS_MMA_16816(type)                                                      \
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32." type "." type         \
                 ".f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n" \
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])               \
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1))
template <typename T>
__device__ inline void mma(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    if constexpr (std::is_same_v<T, __half>)
        PS_MMA_16816("f16");
    else
        PS_MMA_16816("bf16");
}
#undef PS_MMA_16816

template <typename T>
__device__ inline uint32_t load_pair(const T* p) {
    return *reinterpret_cast<const uint32_t*>(p);
}

template <typename T>
__device__ inline float2 pair_to_float2(const T* p) {
    T v[2];
    *reinterpret_cast<uint32_t*>(v) = load_pair(p);
    return make_float2(to_float(v[0]), to_float(v[1]));
}

// Tile: the window's tokens rounded up to a multiple of 16 (16, 32, 49 -> 64, 144). HeadDim: the
// head's channels rounded up to a multiple of 16 (56 -> 64, 72 -> 80); the channels past the
// head's own read as zeros, which add nothing to the scores and are not written.
template <typename T, int Tile, int HeadDim>
__global__ void __launch_bounds__(Tile * 2)
    window_attention_kernel(SwinAttentionArgs a, float scale) {
    constexpr int kKeyStride = HeadDim + 8;  // halves a k row in shared memory: no bank conflicts
    constexpr int kTiles = Tile / 8;         // 8-key column tiles of a row block's scores
    constexpr int kValueStride = Tile + 8;   // halves a transposed v row: no bank conflicts
    __shared__ __align__(16) T k_s[Tile * kKeyStride];
    __shared__ __align__(16) T vt_s[HeadDim * kValueStride];
    const int N = static_cast<int>(a.tokens), heads = static_cast<int>(a.heads);
    const int D = static_cast<int>(a.head_dim);
    const int64_t window = blockIdx.x / heads;
    const int head = blockIdx.x % heads;
    const int64_t token_stride = 3LL * heads * D;
    const T* base = static_cast<const T*>(a.qkv) + window * N * token_stride + head * D;

    // k and v of this head in 16-byte packs (D is a multiple of 8); zeros past the window's end
    // and past the head's channels.
    constexpr int kPack = 16 / sizeof(T), kPacks = HeadDim / kPack;
    for (int i = threadIdx.x; i < Tile * kPacks; i += blockDim.x) {
        const int n = i / kPacks, c = (i % kPacks) * kPack;
        int4 k = make_int4(0, 0, 0, 0), v = k;
        if (n < N && c < D) {
            const T* token = base + n * token_stride + c;
            k = *reinterpret_cast<const int4*>(token + heads * D);
            v = *reinterpret_cast<const int4*>(token + 2 * heads * D);
        }
        *reinterpret_cast<int4*>(k_s + n * kKeyStride + c) = k;
        const T* values = reinterpret_cast<const T*>(&v);
#pragma unroll
        for (int j = 0; j < kPack; ++j) vt_s[(c + j) * kValueStride + n] = values[j];
    }
    __syncthreads();

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = lane / 4, t = lane % 4;       // the fragment's row group and column pair
    const int r0 = warp * 16 + g, r1 = r0 + 8;  // this lane's two query rows
    // q straight into A fragments: rows r0 and r1, dims t*2 (+8) of each 16-wide step.
    uint32_t q[HeadDim / 16][4];
#pragma unroll
    for (int s = 0; s < HeadDim / 16; ++s) {
        const int d = s * 16 + t * 2;
        q[s][0] = r0 < N && d < D ? load_pair(base + r0 * token_stride + d) : 0u;
        q[s][1] = r1 < N && d < D ? load_pair(base + r1 * token_stride + d) : 0u;
        q[s][2] = r0 < N && d + 8 < D ? load_pair(base + r0 * token_stride + d + 8) : 0u;
        q[s][3] = r1 < N && d + 8 < D ? load_pair(base + r1 * token_stride + d + 8) : 0u;
    }

    // Scores: [tile][0,1] row r0, keys tile*8 + t*2 (+1); [tile][2,3] row r1.
    float s[kTiles][4];
#pragma unroll
    for (int n = 0; n < kTiles; ++n) {
        s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
        const T* key = k_s + (n * 8 + g) * kKeyStride + t * 2;
#pragma unroll
        for (int step = 0; step < HeadDim / 16; ++step)
            mma<T>(s[n], q[step], load_pair(key + step * 16), load_pair(key + step * 16 + 8));
    }

    // Scale, bias (its rows r0 and r1, read as pairs; Hiera's windows have none), masked keys
    // past the end; row maxima.
    const T* bias =
        a.bias ? static_cast<const T*>(a.bias) +
                     ((window % a.bias_windows) * heads + head) * static_cast<int64_t>(N) * N
               : nullptr;
    const bool row0 = r0 < N, row1 = r1 < N;
    float m0 = -INFINITY, m1 = -INFINITY;
#pragma unroll
    for (int n = 0; n < kTiles; ++n) {
        const int c = n * 8 + t * 2;
        float b[4] = {0.f, 0.f, 0.f, 0.f};
        if (bias && N % 2 == 0 && c < N) {  // aligned pairs (c is even)
            const float2 b0 = row0 ? pair_to_float2(bias + r0 * N + c) : float2{};
            const float2 b1 = row1 ? pair_to_float2(bias + r1 * N + c) : float2{};
            b[0] = b0.x, b[1] = b0.y, b[2] = b1.x, b[3] = b1.y;
        } else if (bias) {
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                b[j] = row0 && c + j < N ? to_float(bias[r0 * N + c + j]) : 0.f;
                b[2 + j] = row1 && c + j < N ? to_float(bias[r1 * N + c + j]) : 0.f;
            }
        }
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const bool key = c + j < N;
            s[n][j] = key && row0 ? s[n][j] * scale + b[j] : -INFINITY;
            s[n][2 + j] = key && row1 ? s[n][2 + j] * scale + b[2 + j] : -INFINITY;
            m0 = fmaxf(m0, s[n][j]);
            m1 = fmaxf(m1, s[n][2 + j]);
        }
    }
    // A row lives in the four lanes of a quad.
#pragma unroll
    for (int o = 1; o < 4; o *= 2) {
        m0 = fmaxf(m0, __shfl_xor_sync(0xffffffffu, m0, o));
        m1 = fmaxf(m1, __shfl_xor_sync(0xffffffffu, m1, o));
    }
    // Rows past the end are all -inf: exponentiate against 0 there (their output is not written).
    if (m0 == -INFINITY) m0 = 0.f;
    if (m1 == -INFINITY) m1 = 0.f;
    float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
    for (int n = 0; n < kTiles; ++n) {
        s[n][0] = __expf(s[n][0] - m0);
        s[n][1] = __expf(s[n][1] - m0);
        s[n][2] = __expf(s[n][2] - m1);
        s[n][3] = __expf(s[n][3] - m1);
        sum0 += s[n][0] + s[n][1];
        sum1 += s[n][2] + s[n][3];
    }
#pragma unroll
    for (int o = 1; o < 4; o *= 2) {
        sum0 += __shfl_xor_sync(0xffffffffu, sum0, o);
        sum1 += __shfl_xor_sync(0xffffffffu, sum1, o);
    }

    // The probabilities (unnormalised, rounded to T) times v: two score tiles make one A fragment.
    float o[HeadDim / 8][4] = {};
#pragma unroll
    for (int step = 0; step < Tile / 16; ++step) {
        const uint32_t p[4] = {pack<T>(s[2 * step][0], s[2 * step][1]),
                               pack<T>(s[2 * step][2], s[2 * step][3]),
                               pack<T>(s[2 * step + 1][0], s[2 * step + 1][1]),
                               pack<T>(s[2 * step + 1][2], s[2 * step + 1][3])};
#pragma unroll
        for (int n = 0; n < HeadDim / 8; ++n) {
            const T* column = vt_s + (n * 8 + g) * kValueStride + step * 16 + t * 2;
            mma<T>(o[n], p, load_pair(column), load_pair(column + 8));
        }
    }

    // The heads side by side: out[token][head][d], pairs of d.
    T* out = static_cast<T*>(a.out);
    const float inverse0 = 1.f / sum0, inverse1 = 1.f / sum1;
#pragma unroll
    for (int n = 0; n < HeadDim / 8; ++n) {
        const int d = n * 8 + t * 2;
        if (d >= D) break;
        if (row0)
            *reinterpret_cast<uint32_t*>(out + ((window * N + r0) * heads + head) * D + d) =
                pack<T>(o[n][0] * inverse0, o[n][1] * inverse0);
        if (row1)
            *reinterpret_cast<uint32_t*>(out + ((window * N + r1) * heads + head) * D + d) =
                pack<T>(o[n][2] * inverse1, o[n][3] * inverse1);
    }
}

template <typename T, int Tile, int HeadDim>
cudaError_t launch(const SwinAttentionArgs& a, cudaStream_t stream) {
    const float scale = 1.f / std::sqrt(static_cast<float>(a.head_dim));
    window_attention_kernel<T, Tile, HeadDim>
        <<<static_cast<unsigned>(a.windows * a.heads), Tile * 2, 0, stream>>>(a, scale);
    return cudaGetLastError();
}

// The smallest tile that holds the window: Hiera-T's 4 x 4 windows in one warp where a 64 tile
// would spend three quarters of its work on padding.
template <typename T, int HeadDim>
cudaError_t launch_smallest_tile(const SwinAttentionArgs& a, cudaStream_t stream) {
    if (a.tokens <= 16) return launch<T, 16, HeadDim>(a, stream);
    if (a.tokens <= 32) return launch<T, 32, HeadDim>(a, stream);
    return launch<T, 64, HeadDim>(a, stream);
}

template <typename T>
cudaError_t launch(const SwinAttentionArgs& a, cudaStream_t stream) {
    // Swin's 49-token windows in the 64 tile, its 144-token ones in their own.
    if (a.head_dim == 32)
        return a.tokens <= 64 ? launch<T, 64, 32>(a, stream) : launch<T, 144, 32>(a, stream);
    if (a.head_dim <= 64) return launch_smallest_tile<T, 64>(a, stream);  // Hiera-B+'s 56
    if (a.head_dim <= 80) return launch_smallest_tile<T, 80>(a, stream);  // Hiera-L's 72
    return launch_smallest_tile<T, 96>(a, stream);                        // Hiera-T's, -S's 96
}

}  // namespace

bool swin_attention_supported(int64_t tokens, int64_t head_dim, ElementType type) {
    const bool half = type == ElementType::F16 || type == ElementType::BF16;
    // Swin's 32-channel heads up to 144 tokens; wider heads (Hiera's) up to 64, where the
    // scores and the output still fit the registers.
    if (head_dim == 32) return half && tokens > 0 && tokens <= 144;
    return half && tokens > 0 && tokens <= 64 && head_dim % 8 == 0 && head_dim > 32 &&
           head_dim <= 96;
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
