// SAM 2.1's video network: a loaded image model plus the modules only video needs (memory
// encoder, memory attention, object-pointer heads), read from the same checkpoint. Shared by
// every video session of one model: the image encoder, prompt encoder and mask decoder are the
// image model's, never a second copy. No ATen in this header.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "models/sam2/sam2_model.h"

namespace ps::sam2 {

class TrackStep;

class Sam2VideoModel {
  public:
    // Reads only the video modules' tensors of `checkpoint_path` (through a memory map, copied
    // out), placed on the image model's device and precision. `image_model` must have been
    // loaded from that file.
    static Result<std::shared_ptr<const Sam2VideoModel>> load(
        std::shared_ptr<const Sam2Model> image_model, const std::string& checkpoint_path);
    ~Sam2VideoModel();
    Sam2VideoModel(const Sam2VideoModel&) = delete;
    Sam2VideoModel& operator=(const Sam2VideoModel&) = delete;

    const Sam2Model& image_model() const { return *image_model_; }
    const TrackStep& track() const { return *track_; }
    const std::string& file_label() const { return file_label_; }

  private:
    Sam2VideoModel(std::shared_ptr<const Sam2Model> image_model, std::unique_ptr<TrackStep> track,
                   std::string file_label);
    std::shared_ptr<const Sam2Model> image_model_;  // first: track_ points into its network
    std::unique_ptr<TrackStep> track_;
    std::string file_label_;
};

}  // namespace ps::sam2
