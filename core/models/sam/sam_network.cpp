// Wires the encoder, prompt encoder and mask decoder of one checkpoint together.
#include "models/sam/sam_network.h"

#include <ATen/ATen.h>

namespace ps::sam {
namespace {

at::ScalarType dominant_float_type(const std::map<std::string, at::Tensor>& tensors) {
    auto it = tensors.find("mask_decoder.iou_token.weight");
    return it != tensors.end() ? it->second.scalar_type() : at::kFloat;
}

at::Device device_of(const std::map<std::string, at::Tensor>& tensors) {
    auto it = tensors.find("mask_decoder.iou_token.weight");
    return it != tensors.end() ? it->second.device() : at::Device(at::kCPU);
}

}  // namespace

SamNetwork::SamNetwork(const std::map<std::string, at::Tensor>& tensors, const SamConfig& config,
                       const std::string& file_label)
    : config_(config), dtype_(dominant_float_type(tensors)), device_(device_of(tensors)) {
    const runtime::Weights w(tensors, file_label);
    encoder_ = config.encoder == EncoderKind::ViT ? make_vit_encoder(w, config)
                                                  : make_tiny_vit_encoder(w, config);
    prompt_encoder_ = std::make_unique<PromptEncoder>(w, config);
    mask_decoder_ = std::make_unique<MaskDecoder>(w, config);
    // Channels-last, the decoder's pixel-major view of the PE is contiguous like the keys after
    // the first block, so keys + key_pe runs on rows instead of a transposing walk: 1.6 -> 0.3 ms
    // for each of two additions per click on the 2-core machine. Same values.
    const at::Tensor& pe = prompt_encoder_->dense_positional_encoding();
    image_pe_ = device_.is_cpu() ? pe.contiguous(at::MemoryFormat::ChannelsLast) : pe;
}

at::Tensor SamNetwork::encode_image(const at::Tensor& input) const {
    return encoder_->forward(input.to(dtype_));
}

EncodedPrompt SamNetwork::encode_prompt(const at::Tensor& point_coords,
                                        const std::vector<int>& labels, const at::Tensor& box,
                                        const at::Tensor& mask_input) const {
    return prompt_encoder_->forward(point_coords, labels, box, mask_input);
}

DecodedMasks SamNetwork::decode_masks(const at::Tensor& image_embedding,
                                      const EncodedPrompt& prompt, bool multimask,
                                      const ImageProjections* image) const {
    return mask_decoder_->forward(image_embedding.to(device_, dtype_), image_pe_, prompt.sparse,
                                  prompt.dense, multimask, prompt.has_mask_input ? nullptr : image);
}

ImageProjections SamNetwork::project_image(const at::Tensor& image_embedding) const {
    return mask_decoder_->project_image(image_embedding.to(device_, dtype_), image_pe_,
                                        prompt_encoder_->no_mask_dense());
}

}  // namespace ps::sam
