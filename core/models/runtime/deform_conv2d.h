// Modulated deformable convolution (DCNv2, Zhu et al. 2019) with the semantics of
// torchvision.ops.deform_conv2d (LibTorch has none): an im2col of bilinear samples and one matrix
// product per chunk of output pixels. Channels-last maps of one group go through the pixel-major
// im2col (a CUDA kernel, or its CPU twin) and come back channels-last; NCHW maps on CUDA through
// the NCHW kernel; anything else through ATen gathers.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ps::runtime {

struct DeformConvGeometry {
    int64_t stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0;
    int64_t dilation_h = 1, dilation_w = 1;
    // max(0, output) (BiRefNet's branches): inside the GEMM's epilogue with the bias on the
    // channels-last path (cuBLASLt on the GPU), a pass of its own elsewhere.
    bool relu = false;
};

// The offsets and mask as the convolution that predicts them leaves them, before its bias
// (BiRefNet's DeformableConv2d): the offsets are offset + offset_bias (2 * offset_groups * K
// values), the mask mask_sigmoid_scale * sigmoid(mask + mask_bias) (offset_groups * K values; a
// scale of 0 keeps it linear, mask + mask_bias). The pixel-major im2col applies them as it reads
// each sample's offsets, instead of a bias pass, a sigmoid and a product over both maps; the other
// paths in ATen passes first. Either bias may be undefined (0).
struct DeformPredictedOffsets {
    at::Tensor offset_bias, mask_bias;
    double mask_sigmoid_scale = 0;
};

// input  B x C x H x W; weight Cout x C/groups x kh x kw (groups = C / weight.size(1));
// offset B x (2 * offset_groups * kh * kw) x Ho x Wo, per offset group and kernel tap k = i * kw +
// j
//        the pair (dy, dx) at channels 2k, 2k + 1;
// mask   B x (offset_groups * kh * kw) x Ho x Wo or undefined (all ones); bias Cout or undefined.
// Tap k of output (ho, wo) samples input channel c (offset group c / (C / offset_groups)) at
// (ho * stride_h - pad_h + i * dilation_h + dy, wo * stride_w - pad_w + j * dilation_w + dx):
// bilinearly, 0 when the point lies at or beyond one pixel outside the image (y <= -1, y >= H,
// likewise x), each corner counting only if inside; the sample times the mask is the column
// that meets the weight. Reduced-precision inputs are computed in float32 (as torchvision's
// autocast rule runs it) and returned in the input's dtype. Throws std::invalid_argument on
// inconsistent shapes.
at::Tensor deform_conv2d(const at::Tensor& input, const at::Tensor& offset,
                         const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& mask,
                         const DeformConvGeometry& geometry,
                         const DeformPredictedOffsets& predicted = {});

// Opt-in (GpuSwitches::deform_shared_sampling, set by the engine; process-wide): on the GPU, the
// threads of one sample's channel packs share its sampling point instead of each working it out.
void set_deform_shared_sampling(bool enabled);

}  // namespace ps::runtime
