// See swin_window_kernels.h. The index arithmetic of swin_v1.py's F.pad, torch.roll,
// window_partition and window_reverse, done per element instead of by four copies of the map.
#include "models/runtime/cuda/element_convert.cuh"
#include "models/runtime/cuda/swin_window_kernels.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace ps::runtime::cuda {
namespace {

constexpr int kThreads = 256;

struct Indexing {
    int64_t height, width, channels, window, shift, padded_h, padded_w, windows_x,
        windows_per_image;
};

Indexing indexing_of(const SwinWindowGeometry& g) {
    Indexing ix;
    ix.height = g.height;
    ix.width = g.width;
    ix.channels = g.channels;
    ix.window = g.window;
    ix.shift = g.shift;
    ix.padded_h = g.padded_height();
    ix.padded_w = g.padded_width();
    ix.windows_x = ix.padded_w / g.window;
    ix.windows_per_image = (ix.padded_h / g.window) * ix.windows_x;
    return ix;
}

// Units of `Unit` (raw bits: a copy needs no arithmetic); `units` of them per token.
template <typename Unit>
__global__ void partition_kernel(const Unit* __restrict__ tokens, Unit* __restrict__ windows,
                                 Indexing ix, int64_t units, int64_t total) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t u = i % units, token = i / units;
        const int64_t n = token % (ix.window * ix.window), window = token / (ix.window * ix.window);
        const int64_t b = window / ix.windows_per_image, w = window % ix.windows_per_image;
        // Position in the padded, shifted map; roll(-shift) reads (p + shift) mod padded size.
        const int64_t py = (w / ix.windows_x) * ix.window + n / ix.window;
        const int64_t px = (w % ix.windows_x) * ix.window + n % ix.window;
        const int64_t sy = (py + ix.shift) % ix.padded_h, sx = (px + ix.shift) % ix.padded_w;
        Unit value{};
        if (sy < ix.height && sx < ix.width)
            value = tokens[((b * ix.height + sy) * ix.width + sx) * units + u];
        windows[i] = value;
    }
}

template <typename T>
__global__ void merge_add_kernel(const T* __restrict__ windows, const T* __restrict__ residual,
                                 T* __restrict__ out, Indexing ix, int64_t total) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total;
         i += int64_t(gridDim.x) * blockDim.x) {
        const int64_t c = i % ix.channels, pixel = i / ix.channels;
        const int64_t x = pixel % ix.width, y = (pixel / ix.width) % ix.height,
                      b = pixel / (ix.width * ix.height);
        // roll(+shift) reads (p - shift) mod padded size of the reversed windows.
        const int64_t py = (y - ix.shift + ix.padded_h) % ix.padded_h;
        const int64_t px = (x - ix.shift + ix.padded_w) % ix.padded_w;
        const int64_t window =
            b * ix.windows_per_image + (py / ix.window) * ix.windows_x + px / ix.window;
        const int64_t n = (py % ix.window) * ix.window + px % ix.window;
        const float sum = to_float(residual[i]) +
                          to_float(windows[(window * ix.window * ix.window + n) * ix.channels + c]);
        out[i] = from_float<T>(sum);
    }
}

int blocks_for(int64_t total) {
    const int64_t blocks = (total + kThreads - 1) / kThreads;
    return static_cast<int>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

}  // namespace

cudaError_t swin_partition_windows(const void* tokens, void* windows,
                                   const SwinWindowGeometry& geometry, ElementType type,
                                   cudaStream_t stream) {
    const Indexing ix = indexing_of(geometry);
    const int64_t element_bytes = type == ElementType::F32 ? 4 : 2;
    const int64_t row_bytes = geometry.channels * element_bytes;
    const int64_t tokens_out = geometry.batch * ix.windows_per_image * ix.window * ix.window;
    // 16-byte units where the rows allow it (channels are multiples of 8 in every published
    // Swin), else single elements.
    if (row_bytes % 16 == 0 && reinterpret_cast<uintptr_t>(tokens) % 16 == 0 &&
        reinterpret_cast<uintptr_t>(windows) % 16 == 0) {
        const int64_t units = row_bytes / 16, total = tokens_out * units;
        if (total == 0) return cudaSuccess;
        partition_kernel<uint4><<<blocks_for(total), kThreads, 0, stream>>>(
            static_cast<const uint4*>(tokens), static_cast<uint4*>(windows), ix, units, total);
    } else if (element_bytes == 4) {
        const int64_t total = tokens_out * geometry.channels;
        if (total == 0) return cudaSuccess;
        partition_kernel<uint32_t><<<blocks_for(total), kThreads, 0, stream>>>(
            static_cast<const uint32_t*>(tokens), static_cast<uint32_t*>(windows), ix,
            geometry.channels, total);
    } else {
        const int64_t total = tokens_out * geometry.channels;
        if (total == 0) return cudaSuccess;
        partition_kernel<uint16_t><<<blocks_for(total), kThreads, 0, stream>>>(
            static_cast<const uint16_t*>(tokens), static_cast<uint16_t*>(windows), ix,
            geometry.channels, total);
    }
    return cudaGetLastError();
}

cudaError_t swin_merge_windows_add(const void* windows, const void* residual, void* out,
                                   const SwinWindowGeometry& geometry, ElementType type,
                                   cudaStream_t stream) {
    const Indexing ix = indexing_of(geometry);
    const int64_t total = geometry.batch * geometry.height * geometry.width * geometry.channels;
    if (total == 0) return cudaSuccess;
    switch (type) {
        case ElementType::F32:
            merge_add_kernel<float><<<blocks_for(total), kThreads, 0, stream>>>(
                static_cast<const float*>(windows), static_cast<const float*>(residual),
                static_cast<float*>(out), ix, total);
            break;
        case ElementType::F16:
            merge_add_kernel<__half><<<blocks_for(total), kThreads, 0, stream>>>(
                static_cast<const __half*>(windows), static_cast<const __half*>(residual),
                static_cast<__half*>(out), ix, total);
            break;
        case ElementType::BF16:
            merge_add_kernel<__nv_bfloat16><<<blocks_for(total), kThreads, 0, stream>>>(
                static_cast<const __nv_bfloat16*>(windows),
                static_cast<const __nv_bfloat16*>(residual), static_cast<__nv_bfloat16*>(out), ix,
                total);
            break;
    }
    return cudaGetLastError();
}

}  // namespace ps::runtime::cuda
