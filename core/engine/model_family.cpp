#include "engine/model_family.h"

#include "models/birefnet/birefnet_config.h"
#include "models/inspyrenet/inspyrenet_config.h"
#include "models/isnet/isnet_config.h"
#include "models/sam/sam_config.h"
#include "models/sam2/sam2_config.h"
#include "models/u2net/u2net_config.h"

namespace ps::engine {

Result<FamilyMatch> identify_family(const io::TensorMap& tensors, const std::string& file_label) {
    // Background-removal families first: their inference refuses a SAM file quickly (by its
    // keys), while SAM's is the one that explains what an unknown file looks like.
    if (auto u2 = u2net::infer_u2net_config(tensors, file_label)) {
        return FamilyMatch{"u2net",
                           u2->arch,
                           u2->parameter_count,
                           u2->arch + ": U²-Net background removal; " +
                               std::to_string(u2->parameter_count) + " parameters",
                           static_cast<int>(u2->input_size),
                           static_cast<int>(u2->input_size)};
    }
    // ISNet after U²-Net: U²-Net's refuses an ISNet file (stage1 reads 64 channels, not 3) and
    // ISNet's a U²-Net file (outconv.*).
    if (auto is = isnet::infer_isnet_config(tensors, file_label)) {
        return FamilyMatch{"isnet",
                           is->arch,
                           is->parameter_count,
                           is->arch + ": ISNet (DIS) background removal; " +
                               std::to_string(is->parameter_count) + " parameters",
                           static_cast<int>(is->input_size),
                           static_cast<int>(is->input_size)};
    }
    // InSPyReNet by its decoder's keys (decoder.*, attention0.*), which no other family has.
    if (auto in = inspyrenet::infer_inspyrenet_config(tensors, file_label)) {
        return FamilyMatch{"inspyrenet",
                           in->arch,
                           in->parameter_count,
                           in->arch + ": InSPyReNet (" + in->backbone_name() +
                               ") background removal; " + std::to_string(in->parameter_count) +
                               " parameters",
                           static_cast<int>(in->base_size),
                           static_cast<int>(in->base_size)};
    }
    // BiRefNet by its Swin backbone under bb.* and its decoder's conv_out1 (no other family's).
    if (auto bi = birefnet::infer_birefnet_config(tensors, file_label)) {
        return FamilyMatch{"birefnet",
                           bi->arch,
                           bi->parameter_count,
                           bi->arch + ": BiRefNet (Swin-V1 " +
                               (bi->backbone_name.empty() ? "custom" : bi->backbone_name) +
                               ") background removal; " + std::to_string(bi->parameter_count) +
                               " parameters",
                           static_cast<int>(bi->input_width),
                           static_cast<int>(bi->input_height),
                           bi->dynamic_input};
    }
    // SAM 2 by its Hiera trunk (image_encoder.trunk.*), which SAM 1's ViT and TinyViT lack.
    // A broken SAM 2 file gets SAM 2's error, not SAM 1's "no prompt_encoder.*".
    auto s2 = sam2::infer_sam2_config(tensors, file_label);
    if (s2) return FamilyMatch{"sam2", s2->arch, s2->parameter_count, s2->describe()};
    if (tensors.count("image_encoder.trunk.patch_embed.proj.weight")) return s2.error();
    auto sam = sam::infer_sam_config(tensors, file_label);
    if (!sam) return sam.error();
    return FamilyMatch{sam->encoder == sam::EncoderKind::TinyViT ? "mobile_sam" : "sam", sam->arch,
                       sam->parameter_count, sam->describe()};
}

}  // namespace ps::engine
