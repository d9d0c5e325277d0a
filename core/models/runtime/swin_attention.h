// Swin-V1's window attention through our fused kernel (cuda/swin_attention_kernel.h) on the GPU in
// half precision, where it takes the sizes (heads of 32 channels, windows of up to 256 tokens in
// multiples of 16); elsewhere the caller's scaled_dot_product_attention.
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// qkv: windows x tokens x (3 x heads x head_dim), contiguous (the qkv projection). bias:
// bias_windows x heads x tokens x tokens or heads x tokens x tokens, added to the scaled scores;
// window w reads bias w % bias_windows. Returns windows x tokens x (heads x head_dim), the heads
// side by side as the output projection reads them; undefined where the kernel does not apply
// (CPU, float32, other sizes, a build without our kernels, or set_swin_attention_kernel(false)).
at::Tensor swin_fused_window_attention(const at::Tensor& qkv, const at::Tensor& bias,
                                       int64_t heads);

// Process-wide, set by the engine (GpuSwitches::swin_attention, PHOTOSYNTH_SWIN_ATTENTION=1); off
// by default. Its first version, measured on an H100 (BiRefNet, 1024², bf16, 2026-12-07): 233 us
// a block against cuDNN's ~64 us, the forward 22.4 against 14.2 ms; it read the bias row by row
// inside the softmax (each load waited for) and held q in shared memory too (two CTAs an SM). The
// bias now goes in one pass of 16-byte loads per 16-row block and q straight into the fragments
// (three CTAs an SM): not yet timed or run on the GPU.
void set_swin_attention_kernel(bool enabled);
bool swin_attention_kernel_enabled();

}  // namespace ps::runtime
