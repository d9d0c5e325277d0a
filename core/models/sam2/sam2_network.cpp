// Sam2Network: the image encoder and the SAM heads in the order SAM2ImagePredictor runs them.
#include "models/sam2/sam2_network.h"

#include <ATen/ATen.h>

namespace ps::sam2 {

Sam2Network::Sam2Network(const std::map<std::string, at::Tensor>& tensors, const Sam2Config& config,
                         const std::string& file_label)
    : config_(config),
      weights_(tensors, file_label),
      trunk_(weights_, config),
      neck_(weights_, config),
      prompt_encoder_(weights_, config),
      mask_decoder_(weights_, config),
      no_mem_embed_(weights_.get("no_mem_embed", {1, 1, config.d_model})),
      encoder_graphs_(std::make_shared<runtime::GraphCache>(2)) {}

void Sam2Network::set_cuda_graphs(bool enabled) {
    cuda_graphs_ = enabled;
    encoder_graphs_->set_enabled(enabled);
}

Sam2ImageFeatures Sam2Network::encode(const at::Tensor& input, bool keep_intermediates) const {
    if (keep_intermediates) return encode_directly(input, true);
    // One graph per input shape and dtype: image_embed, pix_feat, then the high-res levels.
    const std::vector<at::Tensor> outputs =
        encoder_graphs_->run("sam2 encoder", {input}, [this](const std::vector<at::Tensor>& in) {
            Sam2ImageFeatures f = encode_directly(in[0], false);
            std::vector<at::Tensor> flat{f.image_embed, f.pix_feat};
            flat.insert(flat.end(), f.high_res.begin(), f.high_res.end());
            return flat;
        });
    Sam2ImageFeatures out;
    out.image_embed = outputs[0];
    out.pix_feat = outputs[1];
    out.high_res.assign(outputs.begin() + 2, outputs.end());
    return out;
}

Sam2ImageFeatures Sam2Network::encode_directly(const at::Tensor& input,
                                               bool keep_intermediates) const {
    Sam2ImageFeatures out;
    std::vector<at::Tensor> trunk = trunk_.forward(input.to(dtype()));
    std::vector<at::Tensor> fpn = neck_.forward(trunk);
    // ImageEncoder's scalp: the coarsest levels are dropped (scalp 1: the stride-32 one).
    const int64_t kept = static_cast<int64_t>(fpn.size()) - config_.scalp;
    if (config_.scalp < 0 || kept < 3 || kept > static_cast<int64_t>(fpn.size())) {
        throw std::runtime_error("SAM 2 needs three feature levels after the scalp");
    }
    const at::Tensor& lowest = fpn[static_cast<size_t>(kept - 1)];
    out.high_res = mask_decoder_.project_high_res(fpn[0], fpn[1]);
    // set_image: vision_feats[-1] + no_mem_embed, a per-channel addition.
    out.image_embed = lowest + no_mem_embed_.view({1, -1, 1, 1});
    out.pix_feat = lowest;
    if (keep_intermediates) {
        out.trunk = std::move(trunk);
        out.fpn = std::move(fpn);
    }
    return out;
}

Sam2DecodedMasks Sam2Network::decode(const Sam2ImageFeatures& features, const at::Tensor& coords,
                                     const std::vector<int>& labels, const at::Tensor& mask_input,
                                     bool multimask) const {
    return decode(features, prompt_encoder_.forward(coords, labels, mask_input), multimask);
}

Sam2DecodedMasks Sam2Network::decode(const Sam2ImageFeatures& features,
                                     const Sam2EncodedPrompt& prompt, bool multimask) const {
    return mask_decoder_.forward(features.image_embed, prompt_encoder_.dense_positional_encoding(),
                                 prompt.sparse, prompt.dense.to(dtype()), multimask,
                                 features.high_res);
}

}  // namespace ps::sam2
