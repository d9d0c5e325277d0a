// The index arithmetic of the pixel-major deformable im2col (channels-last input, columns
// [pixels, (taps, channels)]), shared by the CUDA kernel (deform_im2col.cu) and its CPU twin
// (deform_columns.cpp), so that the CPU tests check the very indexing the GPU runs. Plain C++
// that nvcc compiles for host and device and the host compiler compiles alone.
#pragma once

#include <math.h>

#include <cstdint>

#include "models/runtime/cuda/host_device.h"

namespace ps::runtime::cuda {

// One image's geometry and one chunk of its output pixels. 32-bit indices: the caller checks
// that the image, its offsets and mask, and the chunk's columns each have fewer than 2^31
// elements (deform_pixel_geometry_fits).
struct DeformPixelGeometry {
    int channels = 0, height = 0, width = 0;  // input: height x width x channels, contiguous
    int kernel_h = 1, kernel_w = 1, pad_h = 0, pad_w = 0, stride_h = 1, stride_w = 1;
    int dilation_h = 1, dilation_w = 1, out_w = 1, offset_groups = 1;
    // Element strides over (channel, row, column) of this image's offset
    // ((offset_groups x K x 2) channels: dy, dx per tap) and mask ((offset_groups x K) channels):
    // any layout, NCHW, channels-last or a channel slice of a larger map.
    int offset_stride_c = 0, offset_stride_h = 0, offset_stride_w = 0;
    int mask_stride_c = 0, mask_stride_h = 0, mask_stride_w = 0;
    int begin = 0, count = 0;  // the output pixels [begin, begin + count), row-major
    int pack = 1;              // channels per unit of work; divides channels / offset_groups
    // 0: the mask as read (plus its bias, where given); else the mask is this times the sigmoid
    // of that (BiRefNet's 2 * sigmoid of its modulator convolution's output).
    float mask_sigmoid_scale = 0.f;
    PS_HOST_DEVICE int taps() const { return kernel_h * kernel_w; }
    // Units of work in the chunk: (pixel, tap, pack of channels).
    PS_HOST_DEVICE int units() const { return count * taps() * (channels / pack); }
};

// The channels per unit: a 16-byte pack of `element_bytes` values where every offset group's
// channels divide into packs and the pointers are 16-byte aligned, else 1.
inline int deform_pixel_pack(int channels, int offset_groups, int element_bytes, bool aligned) {
    const int pack = 16 / element_bytes;
    return aligned && (channels / offset_groups) % pack == 0 ? pack : 1;
}

// Unit i: channels [channel, channel + pack) of tap k at output pixel begin + l, written at
// columns[column...]: row l, column k * channels + channel of the count x (K * channels) matrix.
struct DeformUnit {
    int column = 0, channel = 0;
    int dy_index = 0, dx_index = 0, mask_index = 0;  // into this image's offset and mask
    int offset_channel = 0, mask_channel = 0;        // dy's channel and the mask's (biases)
    int base_y = 0, base_x = 0;                      // the tap's undeformed sampling point
};

PS_HOST_DEVICE inline DeformUnit deform_unit(const DeformPixelGeometry& g, int i) {
    const int per_tap = g.channels / g.pack, taps = g.taps();
    const int u = i % per_tap, rest = i / per_tap;
    const int k = rest % taps, l = rest / taps;
    const int pixel = g.begin + l;
    const int ho = pixel / g.out_w, wo = pixel % g.out_w;
    DeformUnit unit;
    unit.channel = u * g.pack;
    unit.column = i * g.pack;  // ((l * taps + k) * per_tap + u) * pack
    const int group = unit.channel / (g.channels / g.offset_groups);
    unit.mask_channel = group * taps + k;
    unit.offset_channel = 2 * unit.mask_channel;
    unit.dy_index =
        unit.offset_channel * g.offset_stride_c + ho * g.offset_stride_h + wo * g.offset_stride_w;
    unit.dx_index = unit.dy_index + g.offset_stride_c;
    unit.mask_index =
        unit.mask_channel * g.mask_stride_c + ho * g.mask_stride_h + wo * g.mask_stride_w;
    unit.base_y = ho * g.stride_h - g.pad_h + (k / g.kernel_w) * g.dilation_h;
    unit.base_x = wo * g.stride_w - g.pad_w + (k % g.kernel_w) * g.dilation_w;
    return unit;
}

PS_HOST_DEVICE inline float floor_value(float v) {
    return floorf(v);
}
PS_HOST_DEVICE inline double floor_value(double v) {
    return floor(v);
}

PS_HOST_DEVICE inline float exp_value(float v) {
    return expf(v);
}
PS_HOST_DEVICE inline double exp_value(double v) {
    return exp(v);
}

// A unit's modulation from the mask value as read and its channel's bias (0 without one).
template <typename F>
PS_HOST_DEVICE inline F modulation_of(F mask, F bias, float sigmoid_scale) {
    const F v = mask + bias;
    return sigmoid_scale != 0.f ? F(sigmoid_scale) / (F(1) + exp_value(-v)) : v;
}

// torchvision's bilinear_interpolate at (y, x): nothing beyond one pixel outside the image,
// each of the four corners only if inside. The sample is the sum over the counted corners of
// weight times the value at input element pixel * channels + channel, in corner order.
template <typename F>
struct BilinearCorners {
    int pixel[4] = {0, 0, 0, 0};  // y * width + x
    F weight[4] = {0, 0, 0, 0};
    bool counted[4] = {false, false, false, false};
};

template <typename F>
PS_HOST_DEVICE inline BilinearCorners<F> bilinear_corners(F y, F x, int height, int width) {
    BilinearCorners<F> b;
    if (y <= F(-1) || y >= F(height) || x <= F(-1) || x >= F(width)) return b;
    const int y0 = static_cast<int>(floor_value(y)), x0 = static_cast<int>(floor_value(x));
    const int y1 = y0 + 1, x1 = x0 + 1;
    const F ly = y - F(y0), lx = x - F(x0), hy = F(1) - ly, hx = F(1) - lx;
    const int ys[4] = {y0, y0, y1, y1}, xs[4] = {x0, x1, x0, x1};
    const F ws[4] = {hy * hx, hy * lx, ly * hx, ly * lx};
    for (int q = 0; q < 4; ++q) {
        b.counted[q] = ys[q] >= 0 && ys[q] <= height - 1 && xs[q] >= 0 && xs[q] <= width - 1;
        b.pixel[q] = b.counted[q] ? ys[q] * width + xs[q] : 0;
        b.weight[q] = ws[q];
    }
    return b;
}

}  // namespace ps::runtime::cuda
