// The modulated deformable im2col of runtime::deform_conv2d on the GPU: one pass that samples
// every (channel, tap, output pixel) bilinearly and writes the column matrix a GEMM then meets
// with the weight. Two layouts: NCHW input into (channels x taps) x pixels columns, and
// channels-last input into pixels x (taps x channels) columns, whose GEMM with the weight is the
// channels-last output itself. Plain C++ interface (no ATen) so that nvcc compiles only the .cu.
#pragma once

#include <cstdint>

#include <cuda_runtime_api.h>

#include "models/runtime/cuda/deform_pixel_indexing.h"
#include "models/runtime/cuda/element_type.h"

namespace ps::runtime::cuda {

struct DeformIm2colArgs {
    const void* input = nullptr;   // C x H x W, contiguous (one image)
    const void* offset = nullptr;  // (offset_groups x K x 2) x Ho x Wo: (dy, dx) per tap
    const void* mask = nullptr;    // (offset_groups x K) x Ho x Wo, or null (all ones)
    void* columns = nullptr;       // (C x K) x count: row c * K + k, column l - begin
    int64_t channels = 0, height = 0, width = 0;
    int64_t kernel_h = 0, kernel_w = 0;
    int64_t pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
    int64_t out_h = 0, out_w = 0;
    int64_t offset_groups = 1;
    int64_t begin = 0, count = 0;  // the output pixels [begin, begin + count) of out_h x out_w
};

// Samples in float32 whatever the element type (torchvision's bilinear_interpolate: 0 beyond
// one pixel outside the image, each corner only if inside), writes columns in the element type.
cudaError_t deform_im2col(const DeformIm2colArgs& args, ElementType type, cudaStream_t stream);

struct DeformPixelArgs {
    const void* input = nullptr;        // height x width x channels, contiguous (one image)
    const void* offset = nullptr;       // at the geometry's strides, this image's
    const void* mask = nullptr;         // likewise, or null (all ones)
    const void* offset_bias = nullptr;  // per offset channel, added to the offsets, or null
    const void* mask_bias = nullptr;    // per mask channel, added to the mask, or null
    void* columns = nullptr;            // count x (taps x channels), contiguous
    DeformPixelGeometry geometry;  // geometry.pack: 1, or 16 bytes of the element type when the
                                   // channels per offset group allow and every pointer is aligned
    // With 16-byte packs: the threads of one sample's packs share its sampling point by shuffles
    // instead of each working it out (runtime::set_deform_shared_sampling).
    bool shared_sampling = false;
};

// The same sampling for channels-last input: one thread per unit of deform_pixel_indexing.h,
// reading `pack` neighbouring channels at each corner (16-byte loads) and writing them to one
// row of the columns.
cudaError_t deform_im2col_pixels(const DeformPixelArgs& args, ElementType type,
                                 cudaStream_t stream);

}  // namespace ps::runtime::cuda
