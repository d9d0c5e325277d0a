// torchvision's deform_conv2d (deform_conv2d_kernel.cpp: bilinear_interpolate, deformable_im2col,
// then a GEMM with the weight). Three ways: channels-last maps (one group) through the
// pixel-major im2col (our CUDA kernel, or its CPU twin), whose GEMM writes the channels-last
// output directly; NCHW maps on CUDA through the NCHW im2col kernel; anything else in ATen ops.
// Every way lays columns out pixel-major (pixel, tap, channel) but the NCHW kernel's, and
// permutes the weight to (Cout, tap, channel) to meet them (a view for a channels-last weight).
#include "models/runtime/deform_conv2d.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "models/runtime/deform_columns.h"

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/deform_im2col.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {

std::atomic<bool> shared_sampling{false};  // GpuSwitches::deform_shared_sampling

// About 8 M gathered values per chunk (32 MB in float32): BiRefNet's 7 x 7 taps over 64 channels
// at 256 x 256 pixels would otherwise be an 800 MB column matrix.
constexpr int64_t kChunkValues = int64_t{8} << 20;

void check(bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("deform_conv2d: " + what);
}

// The sizes every path needs, checked once: the output's, the taps and the offset groups.
struct Shapes {
    int64_t B, C, H, W, Cout, Cg, kh, kw, K, Ho, Wo, offset_groups;
};

Shapes shapes_of(const at::Tensor& input, const at::Tensor& offset, const at::Tensor& weight,
                 const at::Tensor& mask, const DeformConvGeometry& g) {
    check(input.dim() == 4 && weight.dim() == 4 && offset.dim() == 4,
          "input, weight and offset must be 4-d");
    Shapes s;
    s.B = input.size(0), s.C = input.size(1), s.H = input.size(2), s.W = input.size(3);
    s.Cout = weight.size(0), s.Cg = weight.size(1), s.kh = weight.size(2), s.kw = weight.size(3);
    s.K = s.kh * s.kw;
    check(s.Cg > 0 && s.C % s.Cg == 0 && s.Cout % (s.C / s.Cg) == 0,
          "weight does not divide the channels");
    s.Ho = (s.H + 2 * g.pad_h - g.dilation_h * (s.kh - 1) - 1) / g.stride_h + 1;
    s.Wo = (s.W + 2 * g.pad_w - g.dilation_w * (s.kw - 1) - 1) / g.stride_w + 1;
    check(offset.size(0) == s.B && offset.size(2) == s.Ho && offset.size(3) == s.Wo &&
              offset.size(1) % (2 * s.K) == 0,
          "offset must be B x 2*offset_groups*kh*kw x Ho x Wo");
    s.offset_groups = offset.size(1) / (2 * s.K);
    check(s.offset_groups > 0 && s.C % s.offset_groups == 0,
          "offset groups do not divide the channels");
    if (mask.defined()) {
        check(mask.dim() == 4 && mask.size(0) == s.B && mask.size(1) == s.offset_groups * s.K &&
                  mask.size(2) == s.Ho && mask.size(3) == s.Wo,
              "mask must be B x offset_groups*kh*kw x Ho x Wo");
    }
    return s;
}

void check_predicted(const Shapes& s, const at::Tensor& mask, const DeformPredictedOffsets& p) {
    check(!p.offset_bias.defined() || p.offset_bias.numel() == 2 * s.offset_groups * s.K,
          "offset_bias must hold 2*offset_groups*kh*kw values");
    check(
        !p.mask_bias.defined() || (mask.defined() && p.mask_bias.numel() == s.offset_groups * s.K),
        "mask_bias needs a mask and offset_groups*kh*kw values");
    check(p.mask_sigmoid_scale == 0 || mask.defined(), "a mask sigmoid needs a mask");
}

// The offsets and mask with the predicted-offset transform applied, for the paths whose sampling
// does not apply it itself.
std::pair<at::Tensor, at::Tensor> apply_predicted(const at::Tensor& offset, const at::Tensor& mask,
                                                  const DeformPredictedOffsets& p) {
    const auto per_channel = [](const at::Tensor& bias, const at::Tensor& like) {
        return bias.to(like.scalar_type()).view({1, -1, 1, 1});
    };
    const at::Tensor shifted =
        p.offset_bias.defined() ? offset + per_channel(p.offset_bias, offset) : offset;
    if (!mask.defined()) return {shifted, mask};
    const at::Tensor linear = p.mask_bias.defined() ? mask + per_channel(p.mask_bias, mask) : mask;
    if (p.mask_sigmoid_scale == 0) return {shifted, linear};
    return {shifted, at::sigmoid(linear).mul_(p.mask_sigmoid_scale)};
}

// A bias's values in the compute type, contiguous (the kernels index them by channel), or
// undefined.
at::Tensor bias_values(const at::Tensor& bias, at::ScalarType type) {
    return bias.defined() ? bias.to(type).contiguous() : at::Tensor();
}

template <typename F>
const F* data_or_null(const at::Tensor& t) {
    return t.defined() ? t.data_ptr<F>() : nullptr;
}

// The (L x K x C_g) columns of one image and one offset group for output pixels [begin, end).
// pixels: H*W x C_g (channels last); dy, dx, modulation: L x K slices of this chunk.
at::Tensor sample_columns(const at::Tensor& pixels, int64_t H, int64_t W, const at::Tensor& y,
                          const at::Tensor& x, const at::Tensor& modulation) {
    const at::Tensor valid = (y > -1) & (y < H) & (x > -1) & (x < W);
    const at::Tensor y0 = at::floor(y), x0 = at::floor(x);
    const at::Tensor ly = y - y0, lx = x - x0;
    const at::Tensor hy = 1 - ly, hx = 1 - lx;
    const int64_t L = y.size(0), K = y.size(1), C = pixels.size(1);
    at::Tensor value;
    const at::Tensor corners[4][3] = {
        {y0, x0, hy * hx}, {y0, x0 + 1, hy * lx}, {y0 + 1, x0, ly * hx}, {y0 + 1, x0 + 1, ly * lx}};
    for (const auto& corner : corners) {
        const at::Tensor &cy = corner[0], &cx = corner[1];
        const at::Tensor inside = valid & (cy >= 0) & (cy <= H - 1) & (cx >= 0) & (cx <= W - 1);
        const at::Tensor index =
            (cy.clamp(0, H - 1) * W + cx.clamp(0, W - 1)).to(at::kLong).reshape({-1});
        const at::Tensor weight = (corner[2] * inside.to(corner[2].scalar_type())).reshape({-1, 1});
        const at::Tensor term = pixels.index_select(0, index).mul_(weight);
        value = value.defined() ? value.add_(term) : term;
    }
    // torchvision: columns = mask * bilinear value.
    if (modulation.defined()) value.mul_(modulation.reshape({-1, 1}));
    return value.view({L, K, C});
}

// The pixel-major im2col's geometry for one image and chunk (set per chunk), or false where some
// index would not fit its 32-bit arithmetic. offset and mask: B x ... at any strides.
bool pixel_geometry(const Shapes& s, const DeformConvGeometry& g, const at::Tensor& offset,
                    const at::Tensor& mask, int64_t chunk, cuda::DeformPixelGeometry& out) {
    constexpr int64_t limit = std::numeric_limits<int32_t>::max();
    // The largest element index reached in one image of t, plus one.
    const auto extent = [](const at::Tensor& t) {
        int64_t last = 0;
        for (int64_t d = 1; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
        return last + 1;
    };
    if (s.H * s.W * s.C >= limit || s.Ho * s.Wo >= limit || chunk * s.K * s.C >= limit ||
        extent(offset) >= limit || (mask.defined() && extent(mask) >= limit)) {
        return false;
    }
    const auto i32 = [](int64_t v) { return static_cast<int>(v); };
    out.channels = i32(s.C), out.height = i32(s.H), out.width = i32(s.W);
    out.kernel_h = i32(s.kh), out.kernel_w = i32(s.kw);
    out.pad_h = i32(g.pad_h), out.pad_w = i32(g.pad_w);
    out.stride_h = i32(g.stride_h), out.stride_w = i32(g.stride_w);
    out.dilation_h = i32(g.dilation_h), out.dilation_w = i32(g.dilation_w);
    out.out_w = i32(s.Wo), out.offset_groups = i32(s.offset_groups);
    out.offset_stride_c = i32(offset.stride(1)), out.offset_stride_h = i32(offset.stride(2));
    out.offset_stride_w = i32(offset.stride(3));
    if (mask.defined()) {
        out.mask_stride_c = i32(mask.stride(1)), out.mask_stride_h = i32(mask.stride(2));
        out.mask_stride_w = i32(mask.stride(3));
    }
    return true;
}

// Channels-last input of one group: per chunk of `chunk` output pixels (a multiple of 8: the
// output rows' start stays 16-byte aligned for cuBLAS), `im2col(b, geometry, columns)` writes
// count x (taps x channels) columns and one GEMM with the weight as (taps x channels) x Cout
// (plus the bias) writes those pixels' rows of the B x (Ho x Wo) x Cout output, which is the
// channels-last result: no NCHW copy of the input or the output. input: contiguous channels-last;
// every tensor in the compute type. relu: in the GEMM's epilogue with the bias.
template <typename Im2col>
at::Tensor pixel_major_conv(const at::Tensor& input, const at::Tensor& weight,
                            const at::Tensor& bias, const Shapes& s, int64_t chunk, Im2col im2col,
                            cuda::DeformPixelGeometry geometry, bool relu) {
    const int64_t L = s.Ho * s.Wo, KC = s.K * s.C;
    // (taps x channels) x Cout: a view of a channels-last weight.
    const at::Tensor weight_t = weight.permute({0, 2, 3, 1}).reshape({s.Cout, KC}).t();
    const at::Tensor buffer = at::empty({chunk * KC}, input.options());
    at::Tensor out = at::empty({s.B, L, s.Cout}, input.options());
    for (int64_t b = 0; b < s.B; ++b) {
        for (int64_t begin = 0; begin < L; begin += chunk) {
            const int64_t n = std::min(chunk, L - begin);
            geometry.begin = static_cast<int>(begin);
            geometry.count = static_cast<int>(n);
            im2col(b, geometry, buffer.data_ptr());
            const at::Tensor columns = buffer.narrow(0, 0, n * KC).view({n, KC});
            at::Tensor rows = out[b].narrow(0, begin, n);
            if (bias.defined() && relu)
                at::_addmm_activation_out(rows, bias, columns, weight_t, 1, 1, /*use_gelu=*/false);
            else if (bias.defined())
                at::addmm_out(rows, bias, columns, weight_t);
            else
                at::mm_out(rows, columns, weight_t);
        }
    }
    if (relu && !bias.defined()) out.relu_();
    return out.view({s.B, s.Ho, s.Wo, s.Cout}).permute({0, 3, 1, 2});
}

int64_t pixel_chunk(const Shapes& s, int64_t max_values) {
    const int64_t L = s.Ho * s.Wo;
    return std::min(L, std::max<int64_t>(8, max_values / std::max<int64_t>(1, s.K * s.C) / 8 * 8));
}

bool pixel_major_applies(const at::Tensor& input, const at::Tensor& weight) {
    return input.dim() == 4 && weight.dim() == 4 && weight.size(1) == input.size(1) &&
           input.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
}

bool aligned16(const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

// The CPU twin of the CUDA kernel's path, in float32 for reduced precision (as the ATen path).
// Undefined where the geometry exceeds the 32-bit indices.
template <typename F>
at::Tensor pixel_major_conv_cpu(const at::Tensor& input_, const at::Tensor& offset_,
                                const at::Tensor& weight_, const at::Tensor& bias_,
                                const at::Tensor& mask_, const Shapes& s,
                                const DeformConvGeometry& g, const DeformPredictedOffsets& p) {
    const at::ScalarType compute = c10::CppTypeToScalarType<F>::value;
    const at::Tensor input = input_.to(compute).contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor offset = offset_.to(compute);
    const at::Tensor mask = mask_.defined() ? mask_.to(compute) : at::Tensor();
    const int64_t chunk = pixel_chunk(s, kChunkValues);
    cuda::DeformPixelGeometry geometry;
    if (!pixel_geometry(s, g, offset, mask, chunk, geometry)) return at::Tensor();
    geometry.pack =
        cuda::deform_pixel_pack(static_cast<int>(s.C), static_cast<int>(s.offset_groups), sizeof(F),
                                aligned16(input.data_ptr()));
    geometry.mask_sigmoid_scale = static_cast<float>(p.mask_sigmoid_scale);
    const at::Tensor offset_bias = bias_values(p.offset_bias, compute);
    const at::Tensor mask_bias = bias_values(p.mask_bias, compute);
    const auto im2col = [&](int64_t b, const cuda::DeformPixelGeometry& gb, void* columns) {
        deform_im2col_pixels_cpu<F>(input[b].data_ptr<F>(), offset[b].data_ptr<F>(),
                                    mask.defined() ? mask[b].data_ptr<F>() : nullptr,
                                    data_or_null<F>(offset_bias), data_or_null<F>(mask_bias),
                                    static_cast<F*>(columns), gb);
    };
    const at::Tensor bias = bias_.defined() ? bias_.to(compute) : at::Tensor();
    return pixel_major_conv(input, weight_.to(compute), bias, s, chunk, im2col, geometry, g.relu)
        .to(input_.scalar_type());
}

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
// Columns of at most this many elements per GEMM (128 MB in bf16): BiRefNet's 7 x 7 taps over
// hundreds of channels at 256 x 256 pixels would otherwise take gigabytes.
constexpr int64_t kCudaColumnValues = int64_t{64} << 20;

bool cuda_kernel_applies(const at::Tensor& input, const at::Tensor& weight) {
    const at::ScalarType type = input.scalar_type();
    return input.is_cuda() && input.dim() == 4 && weight.dim() == 4 &&
           weight.size(1) == input.size(1) &&  // one group
           (type == at::kFloat || type == at::kHalf || type == at::kBFloat16);
}

// On the GPU: our im2col kernel writes the columns in the input's precision (sampling in
// float32), and one GEMM per chunk of output pixels meets them with the weight (cuBLAS,
// float32 accumulation): the ATen gathers below ran ~60 % of a BiRefNet forward in bf16 on an
// H100. No host synchronisation, so CUDA graphs capture it.
at::Tensor deform_conv2d_cuda(const at::Tensor& input_, const at::Tensor& offset_,
                              const at::Tensor& weight_, const at::Tensor& bias_,
                              const at::Tensor& mask_, const Shapes& s,
                              const DeformConvGeometry& g) {
    const int64_t B = s.B, C = s.C, H = s.H, W = s.W, Cout = s.Cout, kh = s.kh, kw = s.kw, K = s.K,
                  Ho = s.Ho, Wo = s.Wo, offset_groups = s.offset_groups;
    const at::ScalarType type = input_.scalar_type();
    // NCHW: the kernel's thread order (pixel fastest) reads neighbouring pixels of a plane,
    // coalesced. Channels-last maps read in place (pixels C values apart) made it 4x slower
    // (BiRefNet_lite on an H200: 6.3 ms against 1.7 ms on these copies).
    const at::Tensor input = input_.contiguous();
    const at::Tensor offset = offset_.to(type).contiguous();
    const at::Tensor mask = mask_.defined() ? mask_.to(type).contiguous() : at::Tensor();
    // Cout x (C * K), rows in the columns' (channel, tap) order: the weight's own layout.
    const at::Tensor weight_t = weight_.to(type).contiguous().view({Cout, C * K}).t();
    const int64_t L = Ho * Wo;
    // Whole multiples of 8 pixels per chunk: the columns' leading dimension is the chunk, and
    // cuBLAS falls back to its slow unaligned kernels (align1) for any other.
    const int64_t chunk = std::min(L, std::max<int64_t>(8, kCudaColumnValues / (C * K) / 8 * 8));
    const at::Tensor buffer = at::empty({C * K * chunk}, input.options());
    at::Tensor out = at::empty({B, L, Cout}, input.options());
    const cudaStream_t stream = stream_of(input);
    cuda::DeformIm2colArgs args;
    args.channels = C;
    args.height = H;
    args.width = W;
    args.kernel_h = kh;
    args.kernel_w = kw;
    args.pad_h = g.pad_h;
    args.pad_w = g.pad_w;
    args.stride_h = g.stride_h;
    args.stride_w = g.stride_w;
    args.dilation_h = g.dilation_h;
    args.dilation_w = g.dilation_w;
    args.out_h = Ho;
    args.out_w = Wo;
    args.offset_groups = offset_groups;
    args.columns = buffer.data_ptr();
    for (int64_t b = 0; b < B; ++b) {
        args.input = input[b].data_ptr();
        args.offset = offset[b].data_ptr();
        args.mask = mask.defined() ? mask[b].data_ptr() : nullptr;
        for (int64_t begin = 0; begin < L; begin += chunk) {
            const int64_t n = std::min(chunk, L - begin);
            args.begin = begin;
            args.count = n;
            check_launch(cuda::deform_im2col(args, cuda_element_type(type), stream),
                         "deform_conv2d");
            const at::Tensor columns = buffer.narrow(0, 0, C * K * n).view({C * K, n});
            at::Tensor rows = out[b].narrow(0, begin, n);
            at::mm_out(rows, columns.t(), weight_t);
        }
    }
    if (bias_.defined()) out.add_(bias_.to(type));
    // B x Cout x Ho x Wo in channels-last memory, as the GEMM wrote it: a contiguous NCHW copy
    // here was undone by the next convolution (NHWC weights in half precision on CUDA).
    return out.view({B, Ho, Wo, Cout}).permute({0, 3, 1, 2});
}

// Channels-last maps on the GPU: the pixel-major im2col kernel reads each sample's channels as
// 16-byte packs and the GEMM writes the channels-last output, where the NCHW kernel needed NCHW
// copies of the input, offsets and mask and handed back an output the next layers copied.
// Undefined where the geometry exceeds the kernel's 32-bit indices.
at::Tensor deform_conv2d_pixels_cuda(const at::Tensor& input_, const at::Tensor& offset_,
                                     const at::Tensor& weight, const at::Tensor& bias,
                                     const at::Tensor& mask_, const Shapes& s,
                                     const DeformConvGeometry& g, const DeformPredictedOffsets& p) {
    const at::ScalarType type = input_.scalar_type();
    const at::Tensor input = input_.contiguous(at::MemoryFormat::ChannelsLast);
    const at::Tensor offset = offset_.to(type);  // read in place at its strides
    const at::Tensor mask = mask_.defined() ? mask_.to(type) : at::Tensor();
    const int64_t chunk = pixel_chunk(s, kCudaColumnValues);
    cuda::DeformPixelGeometry geometry;
    if (!pixel_geometry(s, g, offset, mask, chunk, geometry)) return at::Tensor();
    geometry.pack = cuda::deform_pixel_pack(
        static_cast<int>(s.C), static_cast<int>(s.offset_groups),
        static_cast<int>(input.element_size()), aligned16(input.data_ptr()));
    geometry.mask_sigmoid_scale = static_cast<float>(p.mask_sigmoid_scale);
    const at::Tensor offset_bias = bias_values(p.offset_bias, type);
    const at::Tensor mask_bias = bias_values(p.mask_bias, type);
    const cudaStream_t stream = stream_of(input);
    const auto im2col = [&](int64_t b, const cuda::DeformPixelGeometry& gb, void* columns) {
        cuda::DeformPixelArgs args;
        args.input = input[b].data_ptr();
        args.offset = offset[b].data_ptr();
        args.mask = mask.defined() ? mask[b].data_ptr() : nullptr;
        args.offset_bias = offset_bias.defined() ? offset_bias.data_ptr() : nullptr;
        args.mask_bias = mask_bias.defined() ? mask_bias.data_ptr() : nullptr;
        args.shared_sampling = shared_sampling.load();
        args.columns = columns;
        args.geometry = gb;
        check_launch(cuda::deform_im2col_pixels(args, cuda_element_type(type), stream),
                     "deform_conv2d");
    };
    return pixel_major_conv(input, weight.to(type), bias.defined() ? bias.to(type) : at::Tensor(),
                            s, chunk, im2col, geometry, g.relu);
}
#endif

// NCHW maps (or channels-last ones the pixel-major path declined): on CUDA the NCHW im2col kernel,
// elsewhere ATen gathers. Without the ReLU.
at::Tensor deform_conv2d_nchw(const at::Tensor& input_, const at::Tensor& offset_,
                              const at::Tensor& weight_, const at::Tensor& bias_,
                              const at::Tensor& mask_, const Shapes& s,
                              const DeformConvGeometry& g) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (cuda_kernel_applies(input_, weight_))
        return deform_conv2d_cuda(input_, offset_, weight_, bias_, mask_, s, g);
#endif
    const int64_t B = s.B, C = s.C, H = s.H, W = s.W, Cout = s.Cout, Cg = s.Cg, kh = s.kh,
                  kw = s.kw, K = s.K, Ho = s.Ho, Wo = s.Wo, offset_groups = s.offset_groups;
    const int64_t groups = C / Cg;
    const bool reduced = input_.scalar_type() != at::kFloat && input_.scalar_type() != at::kDouble;
    const at::ScalarType compute = reduced ? at::kFloat : input_.scalar_type();
    const at::Tensor input = input_.to(compute), offset = offset_.to(compute);
    const at::Tensor weight = weight_.to(compute);
    const at::Tensor mask = mask_.defined() ? mask_.to(compute) : at::Tensor();
    const int64_t L = Ho * Wo, C_og = C / offset_groups;
    const at::TensorOptions options = input.options();
    // Each tap's undeformed sampling point, L x K.
    const at::Tensor rows = at::arange(Ho, options).mul_(g.stride_h).sub_(g.pad_h);
    const at::Tensor cols = at::arange(Wo, options).mul_(g.stride_w).sub_(g.pad_w);
    const at::Tensor tap_i = at::arange(kh, options).mul_(g.dilation_h).repeat_interleave(kw);
    const at::Tensor tap_j = at::arange(kw, options).mul_(g.dilation_w).repeat({kh});
    const at::Tensor base_y =
        (rows.view({Ho, 1}).expand({Ho, Wo}).reshape({L, 1}) + tap_i.view({1, K})).contiguous();
    const at::Tensor base_x =
        (cols.view({1, Wo}).expand({Ho, Wo}).reshape({L, 1}) + tap_j.view({1, K})).contiguous();
    // Cout x (K * C/groups) per group, matching the (tap, channel) column order.
    std::vector<at::Tensor> group_weights;
    const int64_t out_per_group = Cout / groups;
    for (int64_t gi = 0; gi < groups; ++gi) {
        group_weights.push_back(weight.slice(0, gi * out_per_group, (gi + 1) * out_per_group)
                                    .permute({0, 2, 3, 1})
                                    .reshape({out_per_group, K * Cg})
                                    .t());
    }
    const at::Tensor bias = bias_.defined() ? bias_.to(compute) : at::Tensor();
    const int64_t chunk = std::max<int64_t>(1, kChunkValues / std::max<int64_t>(1, K * C));

    std::vector<at::Tensor> images;
    for (int64_t b = 0; b < B; ++b) {
        // H*W x C, channels last, one block per offset group.
        const at::Tensor pixels = input[b].permute({1, 2, 0}).reshape({H * W, C});
        std::vector<at::Tensor> og_pixels;
        for (int64_t o = 0; o < offset_groups; ++o) {
            og_pixels.push_back(pixels.slice(1, o * C_og, (o + 1) * C_og).contiguous());
        }
        // offset (2K per group) x L -> per group L x K for dy and dx.
        const at::Tensor off = offset[b].reshape({offset_groups, K, 2, L});
        const at::Tensor mod =
            mask.defined() ? mask[b].reshape({offset_groups, K, L}) : at::Tensor();
        at::Tensor out = at::empty({L, Cout}, options);
        for (int64_t begin = 0; begin < L; begin += chunk) {
            const int64_t end = std::min(L, begin + chunk), n = end - begin;
            std::vector<at::Tensor> sampled;
            for (int64_t o = 0; o < offset_groups; ++o) {
                const at::Tensor dy = off[o].select(1, 0).slice(1, begin, end).t();
                const at::Tensor dx = off[o].select(1, 1).slice(1, begin, end).t();
                const at::Tensor m = mod.defined() ? mod[o].slice(1, begin, end).t() : at::Tensor();
                sampled.push_back(sample_columns(og_pixels[o], H, W,
                                                 base_y.slice(0, begin, end) + dy,
                                                 base_x.slice(0, begin, end) + dx, m));
            }
            const at::Tensor columns = offset_groups == 1 ? sampled[0] : at::cat(sampled, 2);
            at::Tensor out_chunk = out.slice(0, begin, end);
            for (int64_t gi = 0; gi < groups; ++gi) {
                const at::Tensor group_columns =
                    groups == 1 ? columns.view({n, K * C})
                                : columns.slice(2, gi * Cg, (gi + 1) * Cg).reshape({n, K * Cg});
                if (groups == 1) {
                    at::mm_out(out_chunk, group_columns, group_weights[gi]);
                } else {
                    out_chunk.slice(1, gi * out_per_group, (gi + 1) * out_per_group)
                        .copy_(at::mm(group_columns, group_weights[gi]));
                }
            }
        }
        if (bias.defined()) out.add_(bias);
        images.push_back(out.t().reshape({Cout, Ho, Wo}));
    }
    return at::stack(images).to(input_.scalar_type());
}

}  // namespace

void set_deform_shared_sampling(bool enabled) {
    shared_sampling = enabled;
}

at::Tensor deform_conv2d(const at::Tensor& input, const at::Tensor& offset,
                         const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& mask,
                         const DeformConvGeometry& g, const DeformPredictedOffsets& p) {
    const Shapes s = shapes_of(input, offset, weight, mask, g);
    check_predicted(s, mask, p);
    if (pixel_major_applies(input, weight)) {
        at::Tensor out;
        if (input.device().is_cpu()) {
            out = input.scalar_type() == at::kDouble
                      ? pixel_major_conv_cpu<double>(input, offset, weight, bias, mask, s, g, p)
                      : pixel_major_conv_cpu<float>(input, offset, weight, bias, mask, s, g, p);
        }
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
        else if (cuda_kernel_applies(input, weight)) {
            out = deform_conv2d_pixels_cuda(input, offset, weight, bias, mask, s, g, p);
        }
#endif
        if (out.defined()) return out;  // the ReLU inside
    }
    const auto [shifted, modulation] = apply_predicted(offset, mask, p);
    at::Tensor out = deform_conv2d_nchw(input, shifted, weight, bias, modulation, s, g);
    return g.relu ? at::relu_(out) : out;
}

}  // namespace ps::runtime
