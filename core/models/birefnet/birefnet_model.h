// Public BiRefNet API: load a checkpoint (.pth or model.safetensors as published), turn an RGB
// image into a foreground matte. No ATen in this header's own declarations: the engine holds it
// as a runtime::MattingModel.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/birefnet/birefnet_config.h"
#include "models/runtime/described_matting_model.h"
#include "models/runtime/device.h"

namespace ps::birefnet {

struct BiRefNetOptions {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    runtime::GpuSwitches gpu;
};

using BiRefNetOutput = runtime::MatteOutput;

class BiRefNetNetwork;

class BiRefNetModel final : public runtime::DescribedMattingModel {
  public:
    // Errors name the file: SAM, U²-Net and ISNet checkpoints are recognised and refused clearly.
    static Result<std::unique_ptr<BiRefNetModel>> load(const std::string& checkpoint_path,
                                                       const BiRefNetOptions& options = {});
    ~BiRefNetModel() override;
    BiRefNetModel(const BiRefNetModel&) = delete;
    BiRefNetModel& operator=(const BiRefNetModel&) = delete;

    const BiRefNetConfig& config() const;
    std::string family() const override { return "birefnet"; }
    // run(rgb), from DescribedMattingModel, is run_batch of one. rgb: CV_8UC3 in RGB order; one
    // thread at a time per model.
    // One forward pass for all of rgbs (each resized to the input size), padded to pad_to images.
    Result<std::vector<BiRefNetOutput>> run_batch(const std::vector<cv::Mat>& rgbs,
                                                  int pad_to) const override;

    // The assembled network, for step-by-step tests (engine-internal type, needs ATen).
    const BiRefNetNetwork& network() const;

    struct Impl;

  private:
    explicit BiRefNetModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::birefnet
