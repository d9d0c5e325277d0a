// Sam2VideoModel: the video modules of a checkpoint beside an image model already loaded.
#include "models/sam2/video_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <filesystem>
#include <map>

#include "io/checkpoint.h"
#include "models/runtime/model_runtime.h"
#include "models/sam2/sam2_network.h"
#include "models/sam2/track_step.h"

namespace ps::sam2 {
namespace {

// What the image network already holds on its device; a second copy of Hiera-L's encoder there
// would cost ~450 MB in bf16.
bool held_by_image_model(const std::string& key) {
    return key.rfind("image_encoder.", 0) == 0 || key.rfind("sam_prompt_encoder.", 0) == 0 ||
           key.rfind("sam_mask_decoder.", 0) == 0;
}

}  // namespace

Sam2VideoModel::Sam2VideoModel(std::shared_ptr<const Sam2Model> image_model,
                               std::unique_ptr<TrackStep> track, std::string file_label)
    : image_model_(std::move(image_model)),
      track_(std::move(track)),
      file_label_(std::move(file_label)) {}
Sam2VideoModel::~Sam2VideoModel() = default;

Result<std::shared_ptr<const Sam2VideoModel>> Sam2VideoModel::load(
    std::shared_ptr<const Sam2Model> image_model, const std::string& checkpoint_path) {
    const std::string label = std::filesystem::path(checkpoint_path).filename().string();
    if (!image_model) return make_error(ErrorKind::InvalidArgument, label + ": no image model");
    // Mapped, so that only the video modules' pages are read; copied out at once, since a mapped
    // tensor read after the file changed would show the change or kill the process (SIGBUS).
    auto checkpoint = io::load_checkpoint(checkpoint_path, io::TensorStorage::MappedForInspection);
    if (!checkpoint) return checkpoint.error();
    return runtime::guarded(label, [&]() -> Result<std::shared_ptr<const Sam2VideoModel>> {
        c10::InferenceMode inference;
        const Sam2Network& network = image_model->network();
        std::map<std::string, at::Tensor> video_tensors;
        for (const auto& [key, tensor] : checkpoint->tensors)
            if (!held_by_image_model(key)) video_tensors.emplace(key, tensor.clone());
        checkpoint->tensors.clear();
        const auto placed = runtime::place_tensors(video_tensors, network.device(),
                                                   image_model->precision(), false);
        auto track = TrackStep::load(network, placed, label);
        if (!track) return track.error();
        return std::shared_ptr<const Sam2VideoModel>(new Sam2VideoModel(
            std::move(image_model), std::make_unique<TrackStep>(std::move(*track)), label));
    });
}

}  // namespace ps::sam2
