// See vit_window_kernels.h. Both kernels replace chains of ATen pad/permute/cat/einsum copies
// (about half of a ViT-H bf16 forward on an H100 was such copies) with one pass each.
#include "models/runtime/cuda/element_convert.cuh"
#include "models/sam/cuda/vit_window_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <mma.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace ps::sam::cuda {
namespace {

using runtime::cuda::from_float;
using runtime::cuda::to_float;

inline int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

// Where a token of a window lies in the unpadded grid.
// 32-bit arithmetic: 64-bit division costs tens of instructions on the GPU.
struct TokenPlace {
    int window, token, row, col;  // row/col inside the window
    int b, y, x;                  // in the grid; y >= height or x >= width for padding
};

__device__ inline TokenPlace place_in_window(int window, int token, int span_h, int span_w,
                                             int windows_h, int windows_w) {
    TokenPlace p;
    p.window = window;
    p.token = token;
    p.row = token / span_w;
    p.col = token % span_w;
    const int per_image = windows_h * windows_w;
    p.b = window / per_image;
    const int in_image = window % per_image;
    p.y = (in_image / windows_w) * span_h + p.row;
    p.x = (in_image % windows_w) * span_w + p.col;
    return p;
}

constexpr int kSplitThreads = 256;
constexpr int kTile = 16;  // WMMA tile edge

// The heads x (span_h + span_w) relative-position dots of one token on the tensor cores: A = the
// token's q rows (head h at h * head_dim, rows past the last head read k values and are never
// used), B = the rel_h[row] / rel_w[col] slices (tile rows past the span are the tables' zero
// padding), float accumulation as the reference's einsum. One 16-column tile per warp turn.
template <typename T>
__device__ void rel_dots_tensor_cores(const T* q, const T* table_h, const T* table_w, int hd,
                                      int tiles_h, int tiles, float* result, int result_ld) {
    using namespace nvcuda;
    for (int tile = threadIdx.x / 32; tile < tiles; tile += blockDim.x / 32) {
        const bool vertical = tile < tiles_h;
        const T* table =
            vertical ? table_h + tile * kTile * hd : table_w + (tile - tiles_h) * kTile * hd;
        wmma::fragment<wmma::accumulator, kTile, kTile, kTile, float> acc;
        wmma::fill_fragment(acc, 0.f);
        for (int kk = 0; kk < hd; kk += kTile) {
            wmma::fragment<wmma::matrix_a, kTile, kTile, kTile, T, wmma::row_major> a;
            wmma::fragment<wmma::matrix_b, kTile, kTile, kTile, T, wmma::col_major> b;
            wmma::load_matrix_sync(a, q + kk, hd);
            wmma::load_matrix_sync(b, table + kk, hd);
            wmma::mma_sync(acc, a, b, acc);
        }
        wmma::store_matrix_sync(result + tile * kTile, acc, result_ld, wmma::mem_row_major);
    }
}

// The same on the CUDA cores, through shared memory (float, odd shapes, tests).
template <typename T>
__device__ void rel_dots_generic(const T* q, const T* table_h, const T* table_w, int heads, int hd,
                                 int sh, int sw, int rows_h, float* scratch, float* result,
                                 int result_ld) {
    float* qs = scratch;
    float* rel = qs + heads * hd;  // rel_h rows then rel_w rows
    for (int e = threadIdx.x; e < heads * hd; e += blockDim.x) qs[e] = q ? to_float(q[e]) : 0.f;
    for (int e = threadIdx.x; e < sh * hd; e += blockDim.x) rel[e] = to_float(table_h[e]);
    for (int e = threadIdx.x; e < sw * hd; e += blockDim.x) rel[sh * hd + e] = to_float(table_w[e]);
    __syncthreads();
    for (int e = threadIdx.x; e < heads * (sh + sw); e += blockDim.x) {
        const int head = e / (sh + sw), k = e - head * (sh + sw);
        float acc = 0.f;
        for (int c = 0; c < hd; ++c) acc += qs[head * hd + c] * rel[k * hd + c];
        result[head * result_ld + (k < sh ? k : rows_h + k - sh)] = acc;
    }
}

// One block per (window, token): (1) the relative-position dots into shared memory, (2) the
// token's rows of q', k' and v written in order (coalesced).
template <typename T, bool kTensorCores>
__global__ void split_qkv_kernel(SplitQkvArgs a, int windows_h, int windows_w) {
    extern __shared__ float shared[];
    const int hd = static_cast<int>(a.head_dim), heads = static_cast<int>(a.heads);
    const int C = heads * hd, P = static_cast<int>(a.ext_dim);
    const int sh = static_cast<int>(a.span_h), sw = static_cast<int>(a.span_w);
    const int rows_h = static_cast<int>(a.table_rows_h), rows_w = static_cast<int>(a.table_rows_w);
    const int tokens = sh * sw, result_ld = rows_h + rows_w;
    float* result = shared;  // max(heads, 16) x result_ld: rel_h dots, then rel_w dots

    const TokenPlace p =
        place_in_window(blockIdx.x / tokens, blockIdx.x % tokens, sh, sw, windows_h, windows_w);
    const bool real = p.y < a.height && p.x < a.width;
    const T* src = real ? static_cast<const T*>(a.qkv) +
                              ((p.b * a.height + p.y) * a.width + p.x) * 3 * static_cast<int64_t>(C)
                        : static_cast<const T*>(a.bias);
    const T* table_h = static_cast<const T*>(a.rel_h) + p.row * rows_h * hd;
    const T* table_w = static_cast<const T*>(a.rel_w) + p.col * rows_w * hd;
    if constexpr (kTensorCores) {
        if (src) {
            rel_dots_tensor_cores(src, table_h, table_w, hd, rows_h / kTile,
                                  (rows_h + rows_w) / kTile, result, result_ld);
        } else {
            for (int e = threadIdx.x; e < kTile * result_ld; e += blockDim.x) result[e] = 0.f;
        }
    } else {
        rel_dots_generic(src, table_h, table_w, heads, hd, sh, sw, rows_h,
                         result + heads * result_ld, result, result_ld);
    }
    __syncthreads();

    const int64_t first_row = static_cast<int64_t>(p.window) * heads * tokens + p.token;
    T* q_out = static_cast<T*>(a.q_ext) + first_row * P;
    T* k_out = static_cast<T*>(a.k_ext) + first_row * P;
    T* v_out = static_cast<T*>(a.v) + first_row * hd;
    const int64_t head_stride_ext = static_cast<int64_t>(tokens) * P;
    const int64_t head_stride_v = static_cast<int64_t>(tokens) * hd;
    // Element d of q' and k' for one head (the part that is not a plain copy of q or k).
    const auto extension = [&](int head, int d, float& qv, float& kv) {
        qv = kv = 0.f;
        if (d < hd + sh) {
            qv = result[head * result_ld + d - hd];
            kv = d - hd == p.row ? 1.f : 0.f;
        } else if (d < hd + sh + sw) {
            qv = result[head * result_ld + rows_h + d - hd - sh];
            kv = d - hd - sh == p.col ? 1.f : 0.f;
        }
    };
    if constexpr (kTensorCores) {
        // 16-byte units (8 halves): few, wide, independent loads and stores per thread instead of
        // one round trip per element; P and head_dim are multiples of 8 here.
        constexpr int kVec = 8;
        const int units = P / kVec, v_units = hd / kVec;
        for (int e = threadIdx.x; e < heads * (units + v_units); e += blockDim.x) {
            const bool is_v = e >= heads * units;
            const int row = is_v ? (e - heads * units) / v_units : e / units;
            const int d0 = (is_v ? e - heads * units - row * v_units : e - row * units) * kVec;
            if (is_v) {
                uint4 value = make_uint4(0, 0, 0, 0);
                if (src) value = *reinterpret_cast<const uint4*>(src + 2 * C + row * hd + d0);
                *reinterpret_cast<uint4*>(v_out + row * head_stride_v + d0) = value;
                continue;
            }
            alignas(16) T qv[kVec];
            uint4 kvec = make_uint4(0, 0, 0, 0);
            if (d0 < hd) {
                alignas(16) T q_in[kVec];
                *reinterpret_cast<uint4*>(q_in) =
                    src ? *reinterpret_cast<const uint4*>(src + row * hd + d0)
                        : make_uint4(0, 0, 0, 0);
                if (src) kvec = *reinterpret_cast<const uint4*>(src + C + row * hd + d0);
                for (int i = 0; i < kVec; ++i) qv[i] = from_float<T>(to_float(q_in[i]) * a.scale);
            } else {
                alignas(16) T kv[kVec];
                for (int i = 0; i < kVec; ++i) {
                    float qf, kf;
                    extension(row, d0 + i, qf, kf);
                    qv[i] = from_float<T>(qf);
                    kv[i] = from_float<T>(kf);
                }
                kvec = *reinterpret_cast<const uint4*>(kv);
            }
            *reinterpret_cast<uint4*>(q_out + row * head_stride_ext + d0) =
                *reinterpret_cast<const uint4*>(qv);
            *reinterpret_cast<uint4*>(k_out + row * head_stride_ext + d0) = kvec;
        }
    } else {
        for (int e = threadIdx.x; e < heads * P; e += blockDim.x) {
            const int head = e / P, d = e - head * P;
            float qv, kv;
            if (d < hd) {
                qv = src ? to_float(src[head * hd + d]) * a.scale : 0.f;
                kv = src ? to_float(src[C + head * hd + d]) : 0.f;
            } else {
                extension(head, d, qv, kv);
            }
            q_out[head * head_stride_ext + d] = from_float<T>(qv);
            k_out[head * head_stride_ext + d] = from_float<T>(kv);
        }
        for (int e = threadIdx.x; e < C; e += blockDim.x) {
            const int head = e / hd, d = e - head * hd;
            v_out[head * head_stride_v + d] = src ? src[2 * C + e] : from_float<T>(0.f);
        }
    }
}

// One thread per VEC consecutive channels of one output token (VEC divides head_dim).
template <typename T, int VEC>
__global__ void merge_heads_kernel(MergeArgs a, int windows_h, int windows_w, int chunks) {
    const int chunk = blockIdx.x * blockDim.x + threadIdx.x;
    if (chunk >= chunks) return;
    const int hd = static_cast<int>(a.head_dim), C = static_cast<int>(a.heads) * hd;
    const int width = static_cast<int>(a.width), height = static_cast<int>(a.height);
    const int sh = static_cast<int>(a.span_h), sw = static_cast<int>(a.span_w);
    const int flat = chunk * VEC, token = flat / C, c = flat - token * C;
    const int x = token % width, y = (token / width) % height, b = token / (width * height);
    const int window = (b * windows_h + y / sh) * windows_w + x / sw;
    const int t = (y % sh) * sw + x % sw;
    const int head = c / hd, d = c - head * hd;
    const T* src = static_cast<const T*>(a.attn) +
                   (static_cast<int64_t>(window) * a.heads + head) * a.stride_row +
                   static_cast<int64_t>(t) * a.stride_token + d;
    T* dst = static_cast<T*>(a.out) + flat;
    if constexpr (VEC * sizeof(T) == 16) {
        *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(src);
    } else {
        for (int v = 0; v < VEC; ++v) dst[v] = src[v];
    }
}

bool aligned32(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 32 == 0;
}

template <typename T, bool kTensorCores>
cudaError_t launch_split_kernel(const SplitQkvArgs& a, size_t shared, cudaStream_t stream) {
    const int64_t windows_h = ceil_div(a.height, a.span_h), windows_w = ceil_div(a.width, a.span_w);
    const int64_t blocks = a.batch * windows_h * windows_w * a.span_h * a.span_w;
    cudaError_t status =
        cudaFuncSetAttribute(split_qkv_kernel<T, kTensorCores>,
                             cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
    if (status != cudaSuccess) return status;
    split_qkv_kernel<T, kTensorCores>
        <<<static_cast<unsigned>(blocks), kSplitThreads, shared, stream>>>(
            a, static_cast<int>(windows_h), static_cast<int>(windows_w));
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_split(const SplitQkvArgs& a, cudaStream_t stream) {
    const int64_t result_ld = a.table_rows_h + a.table_rows_w;
    if constexpr (!std::is_same_v<T, float>) {
        // WMMA wants 16-row tiles (heads <= 16 and three heads' worth of row to read), 16-wide
        // steps along head_dim and 32-byte aligned tiles.
        const bool fits = a.heads <= kTile && 3 * a.heads >= kTile && a.head_dim % kTile == 0 &&
                          a.table_rows_h % kTile == 0 && a.table_rows_w % kTile == 0 &&
                          aligned32(a.qkv) && (!a.bias || aligned32(a.bias)) &&
                          aligned32(a.rel_h) && aligned32(a.rel_w) && a.ext_dim % 8 == 0 &&
                          aligned32(a.q_ext) && aligned32(a.k_ext) && aligned32(a.v);
        if (fits) return launch_split_kernel<T, true>(a, sizeof(float) * kTile * result_ld, stream);
    }
    const size_t shared = sizeof(float) * (a.heads * result_ld + a.heads * a.head_dim +
                                           (a.span_h + a.span_w) * a.head_dim);
    return launch_split_kernel<T, false>(a, shared, stream);
}

template <typename T, int VEC>
cudaError_t launch_merge_vec(const MergeArgs& a, cudaStream_t stream) {
    const int64_t windows_h = ceil_div(a.height, a.span_h), windows_w = ceil_div(a.width, a.span_w);
    const int64_t chunks = a.batch * a.height * a.width * a.heads * a.head_dim / VEC;
    constexpr int threads = 256;
    if (a.batch * a.height * a.width * a.heads * a.head_dim >= (int64_t(1) << 31)) {
        return cudaErrorInvalidValue;  // 32-bit indexing above
    }
    merge_heads_kernel<T, VEC>
        <<<static_cast<unsigned>(ceil_div(chunks, threads)), threads, 0, stream>>>(
            a, static_cast<int>(windows_h), static_cast<int>(windows_w), static_cast<int>(chunks));
    return cudaGetLastError();
}

template <typename T>
cudaError_t launch_merge(const MergeArgs& a, cudaStream_t stream) {
    constexpr int vec = 16 / sizeof(T);
    const bool aligned = a.head_dim % vec == 0 && a.stride_row % vec == 0 &&
                         a.stride_token % vec == 0 &&
                         reinterpret_cast<uintptr_t>(a.attn) % 16 == 0 &&
                         reinterpret_cast<uintptr_t>(a.out) % 16 == 0;
    return aligned ? launch_merge_vec<T, vec>(a, stream) : launch_merge_vec<T, 1>(a, stream);
}

}  // namespace

cudaError_t split_qkv_rel_pos(const SplitQkvArgs& args, ElementType type, cudaStream_t stream) {
    switch (type) {
        case ElementType::F32:
            return launch_split<float>(args, stream);
        case ElementType::F16:
            return launch_split<__half>(args, stream);
        default:
            return launch_split<__nv_bfloat16>(args, stream);
    }
}

cudaError_t merge_window_heads(const MergeArgs& args, ElementType type, cudaStream_t stream) {
    switch (type) {
        case ElementType::F32:
            return launch_merge<float>(args, stream);
        case ElementType::F16:
            return launch_merge<__half>(args, stream);
        default:
            return launch_merge<__nv_bfloat16>(args, stream);
    }
}

}  // namespace ps::sam::cuda
