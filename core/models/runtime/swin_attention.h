// Window attention through our fused kernel (cuda/swin_attention_kernel.h) on the GPU in half
// precision, where it takes the sizes: Swin-V1's (heads of 32 channels, windows of up to 144
// tokens, a relative-position bias) and Hiera's (SAM 2: heads of 56 to 96 channels, windows of up
// to 64 tokens, no bias); elsewhere the caller's scaled_dot_product_attention.
#pragma once

#include <ATen/core/Tensor.h>

namespace ps::runtime {

// qkv: windows x tokens x (3 x heads x head_dim), contiguous (the qkv projection). bias:
// bias_windows x heads x tokens x tokens or heads x tokens x tokens, added to the scaled scores;
// window w reads bias w % bias_windows; undefined for none. Returns windows x tokens x (heads x
// head_dim), the heads side by side as the output projection reads them; undefined where the kernel
// does not apply (CPU, float32, other sizes, a build without our kernels, or
// set_swin_attention_kernel(false)).
at::Tensor fused_window_attention(const at::Tensor& qkv, const at::Tensor& bias, int64_t heads);

// Process-wide, on by default; set by the engine (GpuSwitches::swin_attention,
// PHOTOSYNTH_SWIN_ATTENTION=0 turns it off, for Hiera's windows too). Against cuDNN's fused
// attention on an H100 (1024², bf16, same call, 2026-12-07): BiRefNet's forward 13.57 against 14.27
// ms, BiRefNet_lite's 6.69 against 8.03 ms (its 49-token windows, which cuDNN's 64 x 128 tiles fit
// worst).
void set_swin_attention_kernel(bool enabled);
bool swin_attention_kernel_enabled();

// Whether Hiera (SAM 2) sends its windows to fused_window_attention: process-wide, on by default,
// set by the engine (GpuSwitches::hiera_window_attention, PHOTOSYNTH_HIERA_WINDOW_ATTENTION=0 turns
// it off).
void set_hiera_window_attention(bool enabled);
bool hiera_window_attention_enabled();

}  // namespace ps::runtime
