// The few layer kinds SAM and TinyViT use, as plain structs of checkpoint tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "models/runtime/weights.h"

namespace ps::runtime {

struct Linear {
    at::Tensor weight, bias;  // bias may be undefined
    at::Tensor weight_t;      // weight.t(), a view made at load (undefined: made per call)
    static Linear load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                       bool with_bias = true);
    at::Tensor operator()(const at::Tensor& x) const;
    // The same product as one addmm over x's leading dimensions flattened (a view when x is
    // contiguous), for inputs of any rank: at::linear takes matmul + add_ for a 4-D or
    // non-contiguous input and transposes the weight on every call, some ten dispatched operator
    // calls where this makes three; each costs microseconds of CPU time on the GPU. The bias is
    // added inside the product instead of after it (float rounding only).
    at::Tensor flat(const at::Tensor& x) const;
    // GELU(flat(x)). On a CUDA device in half precision (LibTorch 2) with gemm_epilogues() on,
    // in the product's epilogue (cuBLASLt's GELU: the tanh approximation, within 3e-4 of the
    // exact erf form, far under a bfloat16 step): one pass over the hidden activations instead
    // of three. Elsewhere the exact at::gelu.
    at::Tensor gelu_flat(const at::Tensor& x) const;
    // residual + flat(x). Where gemm_epilogues() applies, `residual` already holds this layer's
    // bias (`bias_in_residual`: the producer added it) and the product accumulates onto it
    // (addmm with beta 1): no separate pass for the residual add.
    at::Tensor flat_onto(const at::Tensor& x, const at::Tensor& residual,
                         bool bias_in_residual) const;
    int64_t out_features() const { return weight.size(0); }
    at::Tensor weight_transposed() const;  // weight_t, or weight.t() where it is stale
};

// Half precision (bfloat16, float16) on a CUDA device with LibTorch 2: where the models take the
// fused GPU kernels (scaled_dot_product_attention, GEMM epilogues); float32 keeps the reference's
// explicit products.
bool half_on_gpu(const at::Tensor& x);

// relu(conv2d(x, weight, bias, ...)): with `fused`, cuDNN's convolution + bias + ReLU in one kernel
// on CUDA where LibTorch offers it (>= 2) and there is a bias; otherwise the convolution and an
// in-place ReLU (nn.ReLU(inplace=True)). Every family's conv + ReLU pairs go through it.
at::Tensor conv2d_relu(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                       at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation,
                       int64_t groups, bool fused);

// Whether products on `x` fold their activation and residual into the GEMM (Linear::gelu_flat,
// flat_onto): CUDA, half precision, LibTorch 2, and set_gemm_epilogues(true) (the default;
// GpuSwitches::gemm_epilogues, PHOTOSYNTH_GEMM_EPILOGUES=0 for the exact separate passes).
bool gemm_epilogues(const at::Tensor& x);
void set_gemm_epilogues(bool enabled);

// nn.LayerNorm over the last dimension.
struct LayerNorm {
    at::Tensor weight, bias;
    double eps = 1e-5;
    static LayerNorm load(const Weights& w, const std::string& prefix, int64_t dim, double eps);
    at::Tensor operator()(const at::Tensor& x) const;
};

// segment-anything's LayerNorm2d over the channels of NCHW, written out as the reference does
// (mean, mean of squared deviation, divide by sqrt) so rounding matches.
struct LayerNorm2d {
    at::Tensor weight, bias;
    double eps = 1e-6;
    static LayerNorm2d load(const Weights& w, const std::string& prefix, int64_t channels);
    at::Tensor operator()(const at::Tensor& x) const;
    // The same normalisation as one at::layer_norm over the channels of x viewed channels last
    // (N x H x W x C, returned so): one kernel plus the layout's copy where the composition above
    // makes nine, each a kernel launch on the GPU. Float rounding differs from the reference's.
    at::Tensor channels_last(const at::Tensor& x) const;
};

struct Conv2d {
    at::Tensor weight, bias;  // bias may be undefined
    int64_t stride = 1, padding = 0, groups = 1;
    // relu() through cuDNN's fused convolution + bias + ReLU (conv2d_relu): one kernel where
    // ATen's convolution adds the bias in a pass of its own and the ReLU takes another. Off
    // unless a family turns it on (GpuSwitches::cudnn_conv_relu).
    bool fused_relu = false;
    static Conv2d load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                       int64_t kernel, int64_t stride, int64_t padding, int64_t groups,
                       bool with_bias);
    at::Tensor operator()(const at::Tensor& x) const;
    at::Tensor relu(const at::Tensor& x) const;  // relu(conv(x))
};

// ConvTranspose2d with kernel = stride (SAM's mask upscaling). On the CPU in reduced precision
// it runs in fp32: LibTorch 1.13's bf16 CPU kernel is wrong (the reference run did the same).
struct ConvTranspose2d {
    at::Tensor weight, bias;
    int64_t stride = 2;
    // The same weights for the CPU's GEMM form: in x (k * k * out), columns ordered (a, b, out),
    // and the bias repeated to match; float32.
    at::Tensor gemm_weight, gemm_bias;
    static ConvTranspose2d load(const Weights& w, const std::string& prefix, int64_t in,
                                int64_t out, int64_t kernel);
    at::Tensor operator()(const at::Tensor& x) const;
    // CPU, channels last: `pixels` is (H * W) x in, row-major over (y, x); returns
    // (H*k * W*k) x out in the same layout. Kernel = stride means the output blocks do not
    // overlap, so the layer is one GEMM plus a copy whose inner runs are k * out values long.
    at::Tensor forward_pixels(const at::Tensor& pixels, int64_t H, int64_t W) const;
};

// An eval-mode BatchNorm (gamma, beta, running mean and variance) after a convolution.
struct BatchNormStats {
    at::Tensor weight, bias, running_mean, running_var;
    double eps = 1e-5;
};

// The convolution whose output equals batch_norm(conv(x, weight, bias)):
// weight * s and (bias - mean) * s + beta per output channel, s = gamma / sqrt(var + eps).
// Computed in float64 from the given tensors and returned in the weight's dtype, device and
// memory format; `bias` may be undefined (zero).
struct FoldedConv {
    at::Tensor weight, bias;
};
FoldedConv fold_batch_norm(const at::Tensor& weight, const at::Tensor& bias,
                           const BatchNormStats& norm);

// The convolution whose output equals conv1x1(conv(x, weight, bias), pointwise, pointwise_bias):
// a 1 x 1 convolution (pointwise: out x mid x 1 x 1) after any convolution (weight: mid x in x kh
// x kw) is one convolution of the first's geometry, out x in x kh x kw, since nothing nonlinear
// and no padding lies between them. Computed in float64 and returned like fold_batch_norm; either
// bias may be undefined.
FoldedConv fold_pointwise(const at::Tensor& weight, const at::Tensor& bias,
                          const at::Tensor& pointwise, const at::Tensor& pointwise_bias);

// TinyViT's Conv2d_BN: a bias-free convolution followed by an eval-mode BatchNorm, which is
// folded into the convolution at load (one kernel instead of a convolution and a batch_norm's
// two; the rounding differs from the reference's by ~1 ulp of fp32).
struct ConvBatchNorm {
    Conv2d conv;  // the BatchNorm folded in: has a bias
    static ConvBatchNorm load(const Weights& w, const std::string& prefix, int64_t in, int64_t out,
                              int64_t kernel, int64_t stride, int64_t padding, int64_t groups);
    at::Tensor operator()(const at::Tensor& x) const { return conv(x); }
};

// The decoder's MLP: Linear layers with ReLU between them (`layers.N`).
struct Mlp {
    std::vector<Linear> layers;
    static Mlp load(const Weights& w, const std::string& prefix, int64_t in, int64_t hidden,
                    int64_t out, int num_layers);
    at::Tensor operator()(const at::Tensor& x) const;
    // Through Linear::flat, the ReLUs in place on the products' outputs.
    at::Tensor flat(const at::Tensor& x) const;
};

}  // namespace ps::runtime
