// Public ISNet API: load a checkpoint, turn an RGB image into a foreground matte.
// No ATen in this header's own declarations: the engine holds it as a runtime::MattingModel.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>

#include "common/result.h"
#include "models/isnet/isnet_config.h"
#include "models/runtime/described_matting_model.h"
#include "models/runtime/device.h"

namespace ps::isnet {

struct IsNetOptions {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    runtime::GpuSwitches gpu;
};

using IsNetOutput = runtime::MatteOutput;

class IsNetNetwork;

class IsNetModel final : public runtime::DescribedMattingModel {
  public:
    // Errors name the file: SAM and U²-Net checkpoints are recognised and refused clearly.
    static Result<std::unique_ptr<IsNetModel>> load(const std::string& checkpoint_path,
                                                    const IsNetOptions& options = {});
    ~IsNetModel() override;
    IsNetModel(const IsNetModel&) = delete;
    IsNetModel& operator=(const IsNetModel&) = delete;

    const IsNetConfig& config() const;
    std::string family() const override { return "isnet"; }
    // run(rgb), from DescribedMattingModel, is run_batch of one. rgb: CV_8UC3 in RGB order; one
    // thread at a time per model.
    // One forward pass for all of rgbs (each resized to input_size()), padded to pad_to images.
    Result<std::vector<IsNetOutput>> run_batch(const std::vector<cv::Mat>& rgbs,
                                               int pad_to) const override;

    // The assembled network, for step-by-step tests (engine-internal type, needs ATen).
    const IsNetNetwork& network() const;

    struct Impl;

  private:
    explicit IsNetModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::isnet
