// See map_kernels.h. Each thread moves one 16-byte pack of channels of one output pixel (8 half
// or bfloat16 values, 4 floats) where every map's channel count and address allow it, else one
// value; the interpolation arithmetic is ATen's (UpSample.cuh: area_pixel_compute_scale,
// area_pixel_compute_source_index; UpSampleBilinear2d.cu's NHWC kernel).
#include "models/runtime/cuda/element_convert.cuh"
#include "models/runtime/cuda/map_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace ps::runtime::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
    T v[V];
};

struct PartIndexing {
    const void* data;
    int64_t height, width, channels, offset;
    float scale_h, scale_w;
    bool align_corners, copy;
};

struct ConcatIndexing {
    PartIndexing parts[kMaxMapParts];
    int count;
    int64_t height, width, channels;
};

// area_pixel_compute_scale for a size given without a scale factor.
float bilinear_scale(int64_t in, int64_t out, bool align_corners) {
    if (align_corners) return out > 1 ? static_cast<float>(in - 1) / (out - 1) : 0.f;
    return static_cast<float>(in) / out;
}

PartIndexing part_indexing(const MapPart& p, int64_t offset, int64_t height, int64_t width) {
    PartIndexing ix;
    ix.data = p.data;
    ix.height = p.height;
    ix.width = p.width;
    ix.channels = p.channels;
    ix.offset = offset;
    ix.scale_h = bilinear_scale(p.height, height, p.align_corners);
    ix.scale_w = bilinear_scale(p.width, width, p.align_corners);
    ix.align_corners = p.align_corners;
    ix.copy = p.height == height && p.width == width;
    return ix;
}

struct Tap {
    int64_t i0, i1;
    float lambda0, lambda1;
};

__device__ inline Tap bilinear_tap(float scale, int64_t dst, int64_t in_size, bool align_corners) {
    float src = align_corners ? scale * static_cast<float>(dst)
                              : scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
    if (!align_corners && src < 0.f) src = 0.f;
    Tap t;
    t.i0 = static_cast<int64_t>(src);
    t.i1 = t.i0 + (t.i0 < in_size - 1 ? 1 : 0);
    t.lambda1 = src - static_cast<float>(t.i0);
    t.lambda0 = 1.f - t.lambda1;
    return t;
}

// The channels [c, c + V) of part `p` at output pixel (n, y, x), interpolated in float32.
template <typename T, int V>
__device__ inline void sample(const PartIndexing& p, int64_t n, int64_t y, int64_t x, int64_t c,
                              float (&value)[V]) {
    const T* src = static_cast<const T*>(p.data);
    using P = Pack<T, V>;
    auto at = [&](int64_t yy, int64_t xx) {
        return *reinterpret_cast<const P*>(src + ((n * p.height + yy) * p.width + xx) * p.channels +
                                           c);
    };
    if (p.copy) {
        const P a = at(y, x);
#pragma unroll
        for (int k = 0; k < V; ++k) value[k] = to_float(a.v[k]);
        return;
    }
    const Tap ty = bilinear_tap(p.scale_h, y, p.height, p.align_corners);
    const Tap tx = bilinear_tap(p.scale_w, x, p.width, p.align_corners);
    const P a = at(ty.i0, tx.i0), b = at(ty.i0, tx.i1), d = at(ty.i1, tx.i0), e = at(ty.i1, tx.i1);
#pragma unroll
    for (int k = 0; k < V; ++k) {
        value[k] = ty.lambda0 * (tx.lambda0 * to_float(a.v[k]) + tx.lambda1 * to_float(b.v[k])) +
                   ty.lambda1 * (tx.lambda0 * to_float(d.v[k]) + tx.lambda1 * to_float(e.v[k]));
    }
}

template <typename T, int V>
__global__ void resize_concat_kernel(ConcatIndexing ix, T* __restrict__ out, int64_t total) {
    const int64_t units = ix.channels / V;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = (i % units) * V, pixel = i / units;
        const int64_t x = pixel % ix.width, y = (pixel / ix.width) % ix.height,
                      n = pixel / (ix.width * ix.height);
        int k = 0;
        while (k + 1 < ix.count && c >= ix.parts[k + 1].offset) ++k;
        float value[V];
        sample<T, V>(ix.parts[k], n, y, x, c - ix.parts[k].offset, value);
        Pack<T, V> packed;
#pragma unroll
        for (int j = 0; j < V; ++j) packed.v[j] = from_float<T>(value[j]);
        reinterpret_cast<Pack<T, V>*>(out)[i] = packed;
    }
}

template <typename T, int V>
__global__ void resize_add_kernel(PartIndexing part, const T* __restrict__ addend,
                                  T* __restrict__ out, int64_t height, int64_t width,
                                  int64_t total) {
    const int64_t units = part.channels / V;
    using P = Pack<T, V>;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = (i % units) * V, pixel = i / units;
        const int64_t x = pixel % width, y = (pixel / width) % height, n = pixel / (width * height);
        float value[V];
        sample<T, V>(part, n, y, x, c, value);
        const P other = reinterpret_cast<const P*>(addend)[i];
        P packed;
#pragma unroll
        for (int j = 0; j < V; ++j) {
            // The resize's own rounding first, as F.interpolate returns the element type.
            packed.v[j] = from_float<T>(to_float(from_float<T>(value[j])) + to_float(other.v[j]));
        }
        reinterpret_cast<P*>(out)[i] = packed;
    }
}

template <typename T, int V>
__global__ void max_pool_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t height,
                                int64_t width, int64_t channels, int64_t total) {
    const int64_t units = channels / V, out_h = (height + 1) / 2, out_w = (width + 1) / 2;
    using P = Pack<T, V>;
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = (i % units) * V, pixel = i / units;
        const int64_t ox = pixel % out_w, oy = (pixel / out_w) % out_h, n = pixel / (out_w * out_h);
        float best[V];
#pragma unroll
        for (int j = 0; j < V; ++j) best[j] = -INFINITY;
        for (int64_t y = 2 * oy; y < 2 * oy + 2 && y < height; ++y) {
            for (int64_t x = 2 * ox; x < 2 * ox + 2 && x < width; ++x) {
                const P a =
                    *reinterpret_cast<const P*>(in + ((n * height + y) * width + x) * channels + c);
#pragma unroll
                for (int j = 0; j < V; ++j) {
                    const float v = to_float(a.v[j]);
                    if (v > best[j] || isnan(v)) best[j] = v;  // ATen's order: NaN wins
                }
            }
        }
        P packed;
#pragma unroll
        for (int j = 0; j < V; ++j) packed.v[j] = from_float<T>(best[j]);
        reinterpret_cast<P*>(out)[i] = packed;
    }
}

int blocks_for(int64_t total) {
    const int64_t blocks = (total + kThreads - 1) / kThreads;
    return static_cast<int>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

bool aligned16(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

// Elements per 16-byte pack of `type`.
int pack_width(ElementType type) {
    return type == ElementType::F32 ? 4 : 8;
}

// `launch(V, total)`: V values per thread (a 16-byte pack when `packed`, else 1), `total`
// threads for `pixels` x `channels` values.
template <typename T, typename Launch>
cudaError_t launch_packs(bool packed, int64_t pixels, int64_t channels, Launch launch) {
    constexpr int pack = 16 / sizeof(T);
    if (packed)
        launch(std::integral_constant<int, pack>{}, pixels * (channels / pack));
    else
        launch(std::integral_constant<int, 1>{}, pixels * channels);
    return cudaGetLastError();
}

}  // namespace

cudaError_t resize_concat(const MapPart* parts, int count, int64_t batch, int64_t height,
                          int64_t width, void* out, ElementType type, cudaStream_t stream) {
    if (count < 1 || count > kMaxMapParts) return cudaErrorInvalidValue;
    ConcatIndexing ix{};
    ix.count = count;
    ix.height = height;
    ix.width = width;
    bool packed = aligned16(out);
    for (int k = 0; k < count; ++k) {
        ix.parts[k] = part_indexing(parts[k], ix.channels, height, width);
        ix.channels += parts[k].channels;
        packed = packed && parts[k].channels % pack_width(type) == 0 && aligned16(parts[k].data);
    }
    if (batch * height * width * ix.channels == 0) return cudaSuccess;
    return by_type(type, [&](auto tag) {
        using T = decltype(tag);
        return launch_packs<T>(packed, batch * height * width, ix.channels, [&](auto v, int64_t n) {
            resize_concat_kernel<T, decltype(v)::value>
                <<<blocks_for(n), kThreads, 0, stream>>>(ix, static_cast<T*>(out), n);
        });
    });
}

cudaError_t resize_add(const MapPart& part, const void* addend, int64_t batch, int64_t height,
                       int64_t width, void* out, ElementType type, cudaStream_t stream) {
    const PartIndexing ix = part_indexing(part, 0, height, width);
    if (batch * height * width * part.channels == 0) return cudaSuccess;
    const bool packed = part.channels % pack_width(type) == 0 && aligned16(part.data) &&
                        aligned16(addend) && aligned16(out);
    return by_type(type, [&](auto tag) {
        using T = decltype(tag);
        return launch_packs<T>(
            packed, batch * height * width, part.channels, [&](auto v, int64_t n) {
                resize_add_kernel<T, decltype(v)::value><<<blocks_for(n), kThreads, 0, stream>>>(
                    ix, static_cast<const T*>(addend), static_cast<T*>(out), height, width, n);
            });
    });
}

cudaError_t max_pool_2x2_ceil(const void* in, void* out, int64_t batch, int64_t height,
                              int64_t width, int64_t channels, ElementType type,
                              cudaStream_t stream) {
    if (batch * height * width * channels == 0) return cudaSuccess;
    const bool packed = channels % pack_width(type) == 0 && aligned16(in) && aligned16(out);
    const int64_t pixels = batch * ((height + 1) / 2) * ((width + 1) / 2);
    return by_type(type, [&](auto tag) {
        using T = decltype(tag);
        return launch_packs<T>(packed, pixels, channels, [&](auto v, int64_t n) {
            max_pool_kernel<T, decltype(v)::value><<<blocks_for(n), kThreads, 0, stream>>>(
                static_cast<const T*>(in), static_cast<T*>(out), height, width, channels, n);
        });
    });
}

}  // namespace ps::runtime::cuda
