// See swin_window_kernels.h. One warp per token: its lanes take the token's channels in 16-byte
// packs (or single values where the channels or an address do not allow packs), reduce the sum
// and then the squared deviations by shuffles, and write the normalised values; the token's row
// stays in L1 between the three passes. The per-token arithmetic is the CPU twins'
// (swin_windows.cpp) in float32.
#include "models/runtime/cuda/element_convert.cuh"
#include "models/runtime/cuda/swin_window_indexing.h"
#include "models/runtime/cuda/swin_window_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

namespace ps::runtime::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWarp = 32;

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
    T v[V];
};

__device__ inline float warp_sum(float v) {
#pragma unroll
    for (int o = kWarp / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Arguments of both kernels: the token rows and the norm's parameters as packs.
template <typename T, int V>
struct NormRows {
    const Pack<T, V>* weight;
    const Pack<T, V>* bias;
    float eps;
    int64_t channels, units;  // units = channels / V per token
};

// Mean and 1 / sqrt(var + eps) of one token's values, `load(u, values)` giving the V values of
// unit u (one 16-byte load), each lane taking the units lane, lane + 32, ...; every lane gets
// the result.
template <int V, typename Load>
__device__ inline float2 token_moments(int lane, int64_t units, int64_t channels, float eps,
                                       Load load) {
    float sum = 0.f;
    for (int64_t u = lane; u < units; u += kWarp) {
        float values[V];
        load(u, values);
#pragma unroll
        for (int j = 0; j < V; ++j) sum += values[j];
    }
    const float mean = warp_sum(sum) / static_cast<float>(channels);
    float squares = 0.f;
    for (int64_t u = lane; u < units; u += kWarp) {
        float values[V];
        load(u, values);
#pragma unroll
        for (int j = 0; j < V; ++j) {
            const float d = values[j] - mean;
            squares += d * d;
        }
    }
    const float variance = warp_sum(squares) / static_cast<float>(channels);
    return make_float2(mean, rsqrtf(variance + eps));
}

// Unit u of the normalised token from its values.
template <typename T, int V>
__device__ inline Pack<T, V> normalised(const NormRows<T, V>& n, float2 moments,
                                        const float (&values)[V], int64_t u) {
    const Pack<T, V> weight = n.weight[u], bias = n.bias[u];
    Pack<T, V> out;
#pragma unroll
    for (int j = 0; j < V; ++j) {
        out.v[j] = from_float<T>((values[j] - moments.x) * moments.y * to_float(weight.v[j]) +
                                 to_float(bias.v[j]));
    }
    return out;
}

template <typename T, int V>
__global__ void partition_norm_kernel(const Pack<T, V>* __restrict__ tokens,
                                      Pack<T, V>* __restrict__ windows, NormRows<T, V> n,
                                      SwinWindowIndexing ix, int64_t total_tokens) {
    const int lane = threadIdx.x % kWarp;
    const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
    for (int64_t token = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp;
         token < total_tokens; token += warps) {
        Pack<T, V>* out = windows + token * n.units;
        const int64_t source = window_source_token(ix, token);  // the same for the whole warp
        if (source < 0) {
            Pack<T, V> zero;
#pragma unroll
            for (int j = 0; j < V; ++j) zero.v[j] = from_float<T>(0.f);
            for (int64_t u = lane; u < n.units; u += kWarp) out[u] = zero;
            continue;
        }
        const Pack<T, V>* in = tokens + source * n.units;
        const auto load = [&](int64_t u, float(&values)[V]) {
            const Pack<T, V> p = in[u];
#pragma unroll
            for (int j = 0; j < V; ++j) values[j] = to_float(p.v[j]);
        };
        const float2 moments = token_moments<V>(lane, n.units, n.channels, n.eps, load);
        for (int64_t u = lane; u < n.units; u += kWarp) {
            float values[V];
            load(u, values);
            out[u] = normalised(n, moments, values, u);
        }
    }
}

template <typename T, int V>
__global__ void merge_add_norm_kernel(const Pack<T, V>* __restrict__ windows,
                                      const Pack<T, V>* __restrict__ residual,
                                      Pack<T, V>* __restrict__ out, Pack<T, V>* __restrict__ normed,
                                      const Pack<T, V>* __restrict__ out_bias, NormRows<T, V> n,
                                      SwinWindowIndexing ix, int64_t total_tokens) {
    const int lane = threadIdx.x % kWarp;
    const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / kWarp);
    for (int64_t token = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) / kWarp;
         token < total_tokens; token += warps) {
        const Pack<T, V>* row = windows + merged_window_row(ix, token) * n.units;
        const Pack<T, V>* res = residual + token * n.units;
        // The sum as ATen's add rounds it to the element type; the norm reads the rounded sums.
        const auto load = [&](int64_t u, float(&values)[V]) {
            const Pack<T, V> a = res[u], b = row[u];
#pragma unroll
            for (int j = 0; j < V; ++j)
                values[j] = to_float(from_float<T>(to_float(a.v[j]) + to_float(b.v[j])));
        };
        const float2 moments = token_moments<V>(lane, n.units, n.channels, n.eps, load);
        Pack<T, V>* sums = out + token * n.units;
        Pack<T, V>* norms = normed + token * n.units;
        for (int64_t u = lane; u < n.units; u += kWarp) {
            float values[V];
            load(u, values);
            norms[u] = normalised(n, moments, values, u);
            if (out_bias != nullptr) {
                const Pack<T, V> b = out_bias[u];
#pragma unroll
                for (int j = 0; j < V; ++j) values[j] += to_float(b.v[j]);
            }
            Pack<T, V> s;
#pragma unroll
            for (int j = 0; j < V; ++j) s.v[j] = from_float<T>(values[j]);
            sums[u] = s;
        }
    }
}

int blocks_for(int64_t tokens) {
    const int64_t per_block = kThreads / kWarp;
    const int64_t blocks = (tokens + per_block - 1) / per_block;
    return static_cast<int>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

bool aligned16(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

SwinWindowIndexing indexing_of(const SwinWindowGeometry& g) {
    return swin_window_indexing(g.height, g.width, g.window, g.shift);
}

// `launch(pack, rows)`: packs of 16 bytes where the channels and every pointer allow, else 1.
template <typename T, typename Launch>
cudaError_t with_rows(const SwinWindowGeometry& g, const SwinTokenNorm& norm, bool aligned,
                      Launch launch) {
    constexpr int pack = 16 / sizeof(T);
    const auto rows = [&](auto v) {
        constexpr int V = decltype(v)::value;
        NormRows<T, V> n;
        n.weight = static_cast<const Pack<T, V>*>(norm.weight);
        n.bias = static_cast<const Pack<T, V>*>(norm.bias);
        n.eps = norm.eps;
        n.channels = g.channels;
        n.units = g.channels / V;
        return n;
    };
    if (aligned && g.channels % pack == 0 && aligned16(norm.weight) && aligned16(norm.bias))
        launch(rows(std::integral_constant<int, pack>{}));
    else
        launch(rows(std::integral_constant<int, 1>{}));
    return cudaGetLastError();
}

}  // namespace

cudaError_t swin_partition_windows_norm(const void* tokens, const SwinTokenNorm& norm,
                                        void* windows, const SwinWindowGeometry& geometry,
                                        ElementType type, cudaStream_t stream) {
    const SwinWindowIndexing ix = indexing_of(geometry);
    const int64_t total = geometry.batch * ix.windows_per_image * ix.window * ix.window;
    if (total == 0 || geometry.channels == 0) return cudaSuccess;
    const bool aligned = aligned16(tokens) && aligned16(windows);
    return by_type(type, [&](auto tag) {
        using T = decltype(tag);
        return with_rows<T>(geometry, norm, aligned, [&](auto n) {
            using P = typename std::remove_pointer<decltype(n.weight)>::type;
            using Packed = typename std::remove_const<P>::type;
            partition_norm_kernel<<<blocks_for(total), kThreads, 0, stream>>>(
                static_cast<const Packed*>(tokens), static_cast<Packed*>(windows), n, ix, total);
        });
    });
}

cudaError_t swin_merge_windows_add_norm(const void* windows, const void* residual,
                                        const SwinTokenNorm& norm, void* out, void* normed,
                                        const SwinWindowGeometry& geometry, ElementType type,
                                        cudaStream_t stream, const void* out_bias) {
    const SwinWindowIndexing ix = indexing_of(geometry);
    const int64_t total = geometry.batch * geometry.height * geometry.width;
    if (total == 0 || geometry.channels == 0) return cudaSuccess;
    const bool aligned = aligned16(windows) && aligned16(residual) && aligned16(out) &&
                         aligned16(normed) && (out_bias == nullptr || aligned16(out_bias));
    return by_type(type, [&](auto tag) {
        using T = decltype(tag);
        return with_rows<T>(geometry, norm, aligned, [&](auto n) {
            using P = typename std::remove_pointer<decltype(n.weight)>::type;
            using Packed = typename std::remove_const<P>::type;
            merge_add_norm_kernel<<<blocks_for(total), kThreads, 0, stream>>>(
                static_cast<const Packed*>(windows), static_cast<const Packed*>(residual),
                static_cast<Packed*>(out), static_cast<Packed*>(normed),
                static_cast<const Packed*>(out_bias), n, ix, total);
        });
    });
}

}  // namespace ps::runtime::cuda
