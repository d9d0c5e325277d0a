// See deform_im2col.h. torchvision's deformable_im2col (deform_conv2d_kernel.cu) semantics; our
// own kernels. NCHW: one thread per (channel, output pixel), looping over the taps, so that the
// offsets and the mask of a pixel are read once per channel and consecutive threads write
// consecutive columns. Channels-last: one thread per (output pixel, tap, pack of channels), so
// that consecutive threads read consecutive channels of one sample's corners and write one row.
#include "models/runtime/cuda/deform_im2col.h"
#include "models/runtime/cuda/element_convert.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cstdint>

namespace ps::runtime::cuda {
namespace {

// torchvision's bilinear_interpolate.
template <typename T>
__device__ inline float bilinear(const T* plane, int height, int width, float y, float x) {
    if (y <= -1.f || y >= height || x <= -1.f || x >= width) return 0.f;
    const int y0 = static_cast<int>(floorf(y)), x0 = static_cast<int>(floorf(x));
    const int y1 = y0 + 1, x1 = x0 + 1;
    const float ly = y - y0, lx = x - x0, hy = 1.f - ly, hx = 1.f - lx;
    float v00 = 0.f, v01 = 0.f, v10 = 0.f, v11 = 0.f;
    if (y0 >= 0 && x0 >= 0) v00 = to_float(plane[y0 * width + x0]);
    if (y0 >= 0 && x1 <= width - 1) v01 = to_float(plane[y0 * width + x1]);
    if (y1 <= height - 1 && x0 >= 0) v10 = to_float(plane[y1 * width + x0]);
    if (y1 <= height - 1 && x1 <= width - 1) v11 = to_float(plane[y1 * width + x1]);
    return hy * hx * v00 + hy * lx * v01 + ly * hx * v10 + ly * lx * v11;
}

struct Geometry {
    int channels, height, width, kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w, dilation_h,
        dilation_w, out_h, out_w, channels_per_group;
    int64_t pixels, begin, count;  // pixels = out_h * out_w
};

template <typename T>
__global__ void deform_im2col_kernel(const T* __restrict__ input, const T* __restrict__ offset,
                                     const T* __restrict__ mask, T* __restrict__ columns,
                                     Geometry g) {
    const int taps = g.kernel_h * g.kernel_w;
    const int64_t total = static_cast<int64_t>(g.channels) * g.count;
    for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
         index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t local = index % g.count;  // column in this chunk
        const int c = static_cast<int>(index / g.count);
        const int64_t pixel = g.begin + local;
        const int wo = static_cast<int>(pixel % g.out_w), ho = static_cast<int>(pixel / g.out_w);
        const int group = c / g.channels_per_group;
        const T* plane = input + static_cast<int64_t>(c) * g.height * g.width;
        const T* off = offset + static_cast<int64_t>(group) * 2 * taps * g.pixels + pixel;
        const T* mod =
            mask ? mask + static_cast<int64_t>(group) * taps * g.pixels + pixel : nullptr;
        T* out = columns + static_cast<int64_t>(c) * taps * g.count + local;
        for (int i = 0; i < g.kernel_h; ++i) {
            for (int j = 0; j < g.kernel_w; ++j) {
                const int k = i * g.kernel_w + j;
                const float dy = to_float(off[(2 * k) * g.pixels]);
                const float dx = to_float(off[(2 * k + 1) * g.pixels]);
                const float y = ho * g.stride_h - g.pad_h + i * g.dilation_h + dy;
                const float x = wo * g.stride_w - g.pad_w + j * g.dilation_w + dx;
                float value = bilinear(plane, g.height, g.width, y, x);
                if (mod) value *= to_float(mod[k * g.pixels]);
                out[k * g.count] = from_float<T>(value);
            }
        }
    }
}

template <typename T>
cudaError_t launch(const DeformIm2colArgs& a, cudaStream_t stream) {
    Geometry g;
    g.channels = static_cast<int>(a.channels);
    g.height = static_cast<int>(a.height);
    g.width = static_cast<int>(a.width);
    g.kernel_h = static_cast<int>(a.kernel_h);
    g.kernel_w = static_cast<int>(a.kernel_w);
    g.pad_h = static_cast<int>(a.pad_h);
    g.pad_w = static_cast<int>(a.pad_w);
    g.stride_h = static_cast<int>(a.stride_h);
    g.stride_w = static_cast<int>(a.stride_w);
    g.dilation_h = static_cast<int>(a.dilation_h);
    g.dilation_w = static_cast<int>(a.dilation_w);
    g.out_h = static_cast<int>(a.out_h);
    g.out_w = static_cast<int>(a.out_w);
    g.channels_per_group = static_cast<int>(a.channels / a.offset_groups);
    g.pixels = a.out_h * a.out_w;
    g.begin = a.begin;
    g.count = a.count;
    const int64_t total = a.channels * a.count;
    if (total == 0) return cudaSuccess;
    const int threads = 256;
    const int64_t blocks = std::min<int64_t>((total + threads - 1) / threads, int64_t{1} << 20);
    deform_im2col_kernel<T><<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
        static_cast<const T*>(a.input), static_cast<const T*>(a.offset),
        static_cast<const T*>(a.mask), static_cast<T*>(a.columns), g);
    return cudaGetLastError();
}

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
    T v[V];
};

// Where a unit samples: its corners and its modulation (the CPU twin's sample_unit, float32).
struct SamplePoint {
    BilinearCorners<float> corners;
    float modulation = 1.f;
};

template <typename T>
__device__ inline SamplePoint sample_point(const DeformUnit& unit, const DeformPixelGeometry& g,
                                           const T* offset, const T* mask, const T* offset_bias,
                                           const T* mask_bias) {
    const float dy_bias = offset_bias ? to_float(offset_bias[unit.offset_channel]) : 0.f;
    const float dx_bias = offset_bias ? to_float(offset_bias[unit.offset_channel + 1]) : 0.f;
    const float y = static_cast<float>(unit.base_y) + (to_float(offset[unit.dy_index]) + dy_bias);
    const float x = static_cast<float>(unit.base_x) + (to_float(offset[unit.dx_index]) + dx_bias);
    SamplePoint s;
    s.corners = bilinear_corners(y, x, g.height, g.width);
    if (mask) {
        s.modulation = modulation_of(to_float(mask[unit.mask_index]),
                                     mask_bias ? to_float(mask_bias[unit.mask_channel]) : 0.f,
                                     g.mask_sigmoid_scale);
    }
    return s;
}

// The V channels from `channel` of the sample, times its modulation, written at `out`.
template <typename T, int V>
__device__ inline void blend_pack(const T* __restrict__ input, const DeformPixelGeometry& g,
                                  const SamplePoint& s, int channel, T* __restrict__ out) {
    using P = Pack<T, V>;
    float value[V];
#pragma unroll
    for (int j = 0; j < V; ++j) value[j] = 0.f;
#pragma unroll
    for (int q = 0; q < 4; ++q) {
        if (!s.corners.counted[q]) continue;
        const P p = *reinterpret_cast<const P*>(
            input + static_cast<int64_t>(s.corners.pixel[q]) * g.channels + channel);
#pragma unroll
        for (int j = 0; j < V; ++j) value[j] += s.corners.weight[q] * to_float(p.v[j]);
    }
    P result;
#pragma unroll
    for (int j = 0; j < V; ++j) result.v[j] = from_float<T>(value[j] * s.modulation);
    *reinterpret_cast<P*>(out) = result;
}

// One thread a unit (pixel, tap, pack of channels), each working out its sampling point.
template <typename T, int V>
__global__ void deform_im2col_pixels_kernel(const T* __restrict__ input,
                                            const T* __restrict__ offset,
                                            const T* __restrict__ mask,
                                            const T* __restrict__ offset_bias,
                                            const T* __restrict__ mask_bias,
                                            T* __restrict__ columns, DeformPixelGeometry g) {
    const int total = g.units();
    for (int64_t index = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; index < total;
         index += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const DeformUnit unit = deform_unit(g, static_cast<int>(index));
        const SamplePoint s = sample_point(unit, g, offset, mask, offset_bias, mask_bias);
        blend_pack<T, V>(input, g, s, unit.channel, columns + unit.column);
    }
}

// The same units, but the `lanes` threads of one sample (its packs: a power of two up to 32,
// aligned in the warp) share its sampling point: the first works it out, the others take it by
// shuffles (10 of them) instead of repeating the index divisions, the offsets' reads and the
// bilinear weights. Loads and stores as above. Opt-in (runtime::set_deform_shared_sampling).
template <typename T, int V>
__global__ void deform_im2col_shared_kernel(
    const T* __restrict__ input, const T* __restrict__ offset, const T* __restrict__ mask,
    const T* __restrict__ offset_bias, const T* __restrict__ mask_bias, T* __restrict__ columns,
    DeformPixelGeometry g, int lanes) {
    constexpr unsigned kWarp = 0xffffffffu;
    const int total = g.units(), per_tap = g.channels / V, lane = threadIdx.x & 31;
    // Whole warps go round the loop together (every lane takes part in the shuffles); a unit
    // past the end is worked out by nobody and written by nobody.
    for (int64_t base = blockIdx.x * static_cast<int64_t>(blockDim.x) + (threadIdx.x & ~31);
         base < total; base += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t index = base + lane;
        const bool active = index < total;
        SamplePoint s;
        if (active && (lane & (lanes - 1)) == 0) {
            const DeformUnit unit = deform_unit(g, static_cast<int>(index));
            s = sample_point(unit, g, offset, mask, offset_bias, mask_bias);
        }
        unsigned counted = 0;
#pragma unroll
        for (int q = 0; q < 4; ++q) counted |= s.corners.counted[q] ? 1u << q : 0u;
        counted = __shfl_sync(kWarp, counted, 0, lanes);
#pragma unroll
        for (int q = 0; q < 4; ++q) {
            s.corners.pixel[q] = __shfl_sync(kWarp, s.corners.pixel[q], 0, lanes);
            s.corners.weight[q] = __shfl_sync(kWarp, s.corners.weight[q], 0, lanes);
            s.corners.counted[q] = (counted >> q) & 1u;
        }
        s.modulation = __shfl_sync(kWarp, s.modulation, 0, lanes);
        if (active) {
            blend_pack<T, V>(input, g, s, static_cast<int>(index % per_tap) * V,
                             columns + index * V);
        }
    }
}

bool aligned16(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

template <typename T>
cudaError_t launch_pixels(const DeformPixelArgs& a, cudaStream_t stream) {
    constexpr int kPack = 16 / sizeof(T);
    const DeformPixelGeometry& g = a.geometry;
    const int64_t total = g.units();
    if (total == 0) return cudaSuccess;
    const int threads = 256;
    const unsigned blocks =
        static_cast<unsigned>(std::min<int64_t>((total + threads - 1) / threads, int64_t{1} << 20));
    const T* input = static_cast<const T*>(a.input);
    const T* offset = static_cast<const T*>(a.offset);
    const T* mask = static_cast<const T*>(a.mask);
    const T* offset_bias = static_cast<const T*>(a.offset_bias);
    const T* mask_bias = static_cast<const T*>(a.mask_bias);
    T* columns = static_cast<T*>(a.columns);
    if (g.pack == kPack) {
        if (!aligned16(input) || !aligned16(columns) || (g.channels / g.offset_groups) % kPack != 0)
            return cudaErrorInvalidValue;
        // A sample's packs, adjacent lanes from a multiple of their count (threads: whole warps).
        const int lanes = g.channels / g.offset_groups / kPack;
        if (a.shared_sampling && lanes <= 32 && (lanes & (lanes - 1)) == 0) {
            deform_im2col_shared_kernel<T, kPack><<<blocks, threads, 0, stream>>>(
                input, offset, mask, offset_bias, mask_bias, columns, g, lanes);
        } else {
            deform_im2col_pixels_kernel<T, kPack><<<blocks, threads, 0, stream>>>(
                input, offset, mask, offset_bias, mask_bias, columns, g);
        }
    } else if (g.pack == 1) {
        deform_im2col_pixels_kernel<T, 1><<<blocks, threads, 0, stream>>>(
            input, offset, mask, offset_bias, mask_bias, columns, g);
    } else {
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

}  // namespace

cudaError_t deform_im2col_pixels(const DeformPixelArgs& args, ElementType type,
                                 cudaStream_t stream) {
    return by_type(type, [&](auto tag) { return launch_pixels<decltype(tag)>(args, stream); });
}

cudaError_t deform_im2col(const DeformIm2colArgs& args, ElementType type, cudaStream_t stream) {
    return by_type(type, [&](auto tag) { return launch<decltype(tag)>(args, stream); });
}

}  // namespace ps::runtime::cuda
