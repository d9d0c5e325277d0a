// SAM 2's image path assembled from checkpoint tensors: Hiera + FPN neck (SAM2Base.forward_image
// with the decoder's conv_s0 / conv_s1), no_mem_embed on the lowest-resolution level (the image
// predictor's set_image), the prompt encoder and the mask decoder.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/runtime/graph_cache.h"
#include "models/sam2/fpn_neck.h"
#include "models/sam2/hiera.h"
#include "models/sam2/sam2_config.h"
#include "models/sam2/sam2_mask_decoder.h"
#include "models/sam2/sam2_prompt_encoder.h"

namespace ps::sam2 {

struct Sam2ImageFeatures {
    at::Tensor image_embed;            // 1 x C x G x G, no_mem_embed added
    std::vector<at::Tensor> high_res;  // {1 x C/8 x 4G x 4G, 1 x C/4 x 2G x 2G}
    at::Tensor pix_feat;               // the lowest level before no_mem_embed (video tracking)
    std::vector<at::Tensor> trunk;     // the Hiera stage outputs (kept only when asked)
    std::vector<at::Tensor> fpn;       // the neck's levels after the scalp (idem)
};

class Sam2Network {
  public:
    Sam2Network(const std::map<std::string, at::Tensor>& tensors, const Sam2Config& config,
                const std::string& file_label);
    // input: 1 x 3 x S x S, normalised (sam2_transforms.h). On CUDA, without intermediates,
    // replayed from a CUDA graph (runtime::GraphCache), so that the encoder's ~1,500 operator
    // calls (Hiera-T) take no host time (measured on an H100 the GPU's own work dominates:
    // a tracked Hiera-T frame 8.83 ms without graphs, 8.35 with).
    Sam2ImageFeatures encode(const at::Tensor& input, bool keep_intermediates = false) const;
    // coords: N x 2 in the input frame; labels 0/1 points, 2/3 box corners (box first).
    Sam2DecodedMasks decode(const Sam2ImageFeatures& features, const at::Tensor& coords,
                            const std::vector<int>& labels, const at::Tensor& mask_input,
                            bool multimask) const;
    // The mask decoder on an already encoded prompt (a batch of image embeddings, B x C x G x G,
    // may share a prompt and high-resolution features of batch 1).
    Sam2DecodedMasks decode(const Sam2ImageFeatures& features, const Sam2EncodedPrompt& prompt,
                            bool multimask) const;

    const Sam2Config& config() const { return config_; }
    const Hiera& trunk() const { return trunk_; }
    const Sam2PromptEncoder& prompt_encoder() const { return prompt_encoder_; }
    at::Device device() const { return no_mem_embed_.device(); }
    at::ScalarType dtype() const { return no_mem_embed_.scalar_type(); }
    // GpuSwitches::cuda_graphs for the encoder here and the modules built on this network.
    void set_cuda_graphs(bool enabled);
    bool cuda_graphs() const { return cuda_graphs_; }
    // GpuSwitches::encode_ahead for video sessions on this network.
    void set_encode_ahead(bool enabled) { encode_ahead_ = enabled; }
    bool encode_ahead() const { return encode_ahead_; }
    // GpuSwitches::encode_ahead_first likewise.
    void set_encode_ahead_first(bool enabled) { encode_ahead_first_ = enabled; }
    bool encode_ahead_first() const { return encode_ahead_first_; }

  private:
    Sam2Config config_;
    runtime::Weights weights_;
    Hiera trunk_;
    FpnNeck neck_;
    Sam2PromptEncoder prompt_encoder_;
    Sam2MaskDecoder mask_decoder_;
    at::Tensor no_mem_embed_;
    bool cuda_graphs_ = true;
    bool encode_ahead_ = true;
    bool encode_ahead_first_ = false;
    std::shared_ptr<runtime::GraphCache> encoder_graphs_;
    Sam2ImageFeatures encode_directly(const at::Tensor& input, bool keep_intermediates) const;
};

}  // namespace ps::sam2
