// SAM architecture read off a checkpoint's tensor shapes (nothing is assumed from the file name).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace at {
class Tensor;
}

namespace ps::sam {

enum class EncoderKind { ViT, TinyViT };

struct VitConfig {
    int64_t embed_dim = 0, depth = 0, num_heads = 0, patch_size = 0, mlp_dim = 0;
    int64_t grid = 0;  // patches per side (img_size / patch_size)
    bool qkv_bias = true, use_rel_pos = true;
    std::vector<int64_t> window_size_per_block;  // 0 for global attention
    std::vector<int> global_blocks;
};

struct TinyVitConfig {
    std::vector<int64_t> embed_dims, depths, num_heads, window_sizes;
    int64_t mbconv_hidden = 0;  // layer 0's MBConv hidden width (embed_dims[0] * expand ratio)
    std::vector<int64_t> mlp_hidden;  // per attention stage
    int64_t local_conv_size = 3;
    std::vector<int64_t> merge_strides;  // per PatchMerging
};

struct SamConfig {
    EncoderKind encoder = EncoderKind::ViT;
    std::string arch;  // "vit_b", "vit_l", "vit_h", "mobile_sam", or "custom ..." description
    int64_t image_size = 1024;
    VitConfig vit;
    TinyVitConfig tiny_vit;
    int64_t neck_in = 0, prompt_dim = 256, embedding_grid = 64;
    int64_t mask_in_chans = 16;
    int64_t decoder_depth = 2, decoder_mlp_dim = 2048, decoder_heads = 8;
    int64_t attention_downsample = 2, num_mask_tokens = 4;
    int64_t iou_head_depth = 3, iou_head_hidden = 256;
    // MobileSAM quirk reproduced by default: the official build_sam_vit_t() calls eval() before
    // load_state_dict(), and TinyViT caches its attention-bias table (`ab`) in eval(), so the
    // reference predictor runs with the zero biases of a fresh model and ignores the checkpoint's
    // attention_biases (verified against the golden outputs: 0.015 max difference otherwise).
    // True uses the checkpoint's biases, as a model put through eval() again after loading does.
    bool tiny_vit_attention_biases = false;
    // Explicit attention (CPU, and fp32 on CUDA) runs a few heads at a time so that one
    // attention matrix stays under this many bytes: a global block of ViT-B at 1024² is
    // 12 x 4096 x 4096 floats (805 MB), and with its rel-pos sum and softmax it set the
    // encoder's peak memory. Results are identical; only the peak changes.
    int64_t attention_chunk_bytes = int64_t(128) << 20;
    // Our windowed-attention CUDA kernels where usable (window_kernels_usable); false runs
    // LibTorch's ops, to compare (SamOptions::gpu.vit_kernels, PHOTOSYNTH_VIT_KERNELS=0).
    bool window_kernels = true;
    int64_t parameter_count = 0;
    std::string dtype;  // dtype of the floating tensors as stored, e.g. "float32"

    std::string describe() const;  // one line, for `info` and logs
};

// Infers the configuration, or explains what the file looks like if it is not SAM
// ("u2netp.pth: looks like a U²-Net checkpoint (stage1.rebnconvin...), not Segment Anything").
Result<SamConfig> infer_sam_config(const std::map<std::string, at::Tensor>& tensors,
                                   const std::string& file_label);

}  // namespace ps::sam
