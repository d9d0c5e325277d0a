// The assembled SAM network on one device and dtype; each pipeline step callable on its own.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/sam/image_encoder.h"
#include "models/sam/mask_decoder.h"
#include "models/sam/prompt_encoder.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

class SamNetwork {
  public:
    // tensors: already on the target device and in the target floating dtype.
    SamNetwork(const std::map<std::string, at::Tensor>& tensors, const SamConfig& config,
               const std::string& file_label);

    const SamConfig& config() const { return config_; }
    at::ScalarType dtype() const { return dtype_; }
    at::Device device() const { return device_; }

    // 1 x 3 x S x S float32 (normalised, padded) -> 1 x C x G x G in the model dtype.
    at::Tensor encode_image(const at::Tensor& input) const;
    EncodedPrompt encode_prompt(const at::Tensor& point_coords, const std::vector<int>& labels,
                                const at::Tensor& box, const at::Tensor& mask_input) const;
    // `image`: project_image() of this embedding, or null; a prompt with a mask input ignores it.
    DecodedMasks decode_masks(const at::Tensor& image_embedding, const EncodedPrompt& prompt,
                              bool multimask, const ImageProjections* image = nullptr) const;
    // The mask decoder's per-image work for prompts without a mask input (MaskDecoder).
    ImageProjections project_image(const at::Tensor& image_embedding) const;

  private:
    SamConfig config_;
    at::ScalarType dtype_;
    at::Device device_;
    std::unique_ptr<ImageEncoder> encoder_;
    std::unique_ptr<PromptEncoder> prompt_encoder_;
    std::unique_ptr<MaskDecoder> mask_decoder_;
    at::Tensor image_pe_;  // the prompt encoder's dense PE, channels-last on the CPU
};

}  // namespace ps::sam
