// Where and in which precision a network runs: the vocabulary every model family, the engine,
// the app and the CLI share. No ATen here: widely included.
#pragma once

#include <string>

#include "common/result.h"

namespace ps::runtime {

enum class Device { Auto, Cpu, Cuda };
enum class Precision { Fp32, Fp16, Bf16 };

Result<Device> parse_device(const std::string& text);        // "auto", "cpu", "cuda"
Result<Precision> parse_precision(const std::string& text);  // "fp32", "fp16", "bf16"
std::string to_string(Precision precision);
std::string to_string(Device device);  // "auto", "cpu", "cuda": what parse_device reads
bool cuda_available();

// Our GPU fast paths, all on by default; each can be turned off to compare with plain LibTorch
// or to work around a library that lacks a kernel. Plain values in the models' options: the
// engine fills them from EngineSettings (PHOTOSYNTH_CUDA_GRAPHS=0 and so on).
struct GpuSwitches {
    bool cuda_graphs = true;      // PHOTOSYNTH_CUDA_GRAPHS: forward passes replayed from graphs
    bool cudnn_benchmark = true;  // PHOTOSYNTH_CUDNN_BENCHMARK: cuDNN autotuning (half only)
    bool vit_kernels = true;      // PHOTOSYNTH_VIT_KERNELS: our ViT window-attention kernels
    bool cudnn_conv_relu = true;  // PHOTOSYNTH_CUDNN_CONV_RELU: U²-Net's fused conv + ReLU
    // PHOTOSYNTH_CHANNELS_LAST: convolutional matting nets in channels-last (NHWC) layout in half
    // precision on CUDA (place_conv_tensors).
    bool channels_last = true;
    // PHOTOSYNTH_ENCODE_AHEAD: SAM 2 propagation encodes the next frame on a second CUDA stream
    // while this one is tracked.
    bool encode_ahead = true;
    // PHOTOSYNTH_ENCODE_AHEAD_FIRST=1: the next frame's encoder queued before this frame's
    // tracking instead of after it, so that the GPU starts it while the host is still queueing
    // the tracking. Off by default until measured.
    bool encode_ahead_first = false;
    // PHOTOSYNTH_GEMM_EPILOGUES: Swin and Hiera MLPs' GELU and residual add inside their matrix
    // products in half precision (runtime::gemm_epilogues); process-wide, set by the engine.
    bool gemm_epilogues = true;
    // PHOTOSYNTH_SPLIT_ATTENTION: SAM 2's memory attention splits one object's keys per memory
    // frame (sam2::set_split_attention); process-wide, set by the engine.
    bool split_attention = true;
    // PHOTOSYNTH_SWIN_ATTENTION: Swin-V1's window attention in our fused kernel on the GPU in
    // half precision (runtime::set_swin_attention_kernel); process-wide, set by the engine.
    bool swin_attention = true;
    // PHOTOSYNTH_LAYER_NORM_KERNEL: LayerNorm (one warp a row) and LayerNorm2d (one thread a pixel)
    // in our kernels on the GPU in half precision (runtime::set_layer_norm_kernel); process-wide,
    // set by the engine.
    bool layer_norm_kernel = true;
    // PHOTOSYNTH_CONV_NORM_KERNELS=1: SAM 2's memory-encoder convolutions with their LayerNorm2d
    // (the mask downsampler's narrow stages with GELU, the fuser's depthwise ones) in kernels of
    // ours on the GPU in half precision (runtime::set_conv_norm_kernels). Off by default: their
    // CUDA rows pass, but a tracked Hiera-T frame took 0.1-0.3 ms longer with them (H100, the
    // same call, 2026-12-07).
    bool conv_norm_kernels = false;
    // PHOTOSYNTH_HIERA_WINDOW_ATTENTION: Hiera's windows of up to 64 tokens through our
    // window-attention kernel (runtime::set_hiera_window_attention; Swin's own switch above must
    // be on too); process-wide, set by the engine.
    bool hiera_window_attention = true;
    // PHOTOSYNTH_ATTENTION_MERGE_KERNEL: the split memory attention's parts merged in one kernel
    // of ours (runtime::set_attention_merge_kernel); process-wide, set by the engine.
    bool attention_merge_kernel = true;
    // PHOTOSYNTH_DEFORM_SHARED_SAMPLING=1: the deformable im2col's threads of one sample's channel
    // packs share its sampling point by shuffles (runtime::set_deform_shared_sampling);
    // process-wide, set by the engine. Off by default until measured.
    bool deform_shared_sampling = false;
};

}  // namespace ps::runtime
