// Public U²-Net API: load a checkpoint, turn an RGB image into a foreground matte.
// The engine holds it as a runtime::MattingModel, as every background-removal family.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>

#include "common/result.h"
#include "models/runtime/described_matting_model.h"
#include "models/runtime/device.h"
#include "models/u2net/u2net_config.h"

namespace ps::u2net {

struct U2NetOptions {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    runtime::GpuSwitches gpu;
};

// preprocess_ms: the 320x320 resize, normalisation, upload; postprocess_ms: min-max
// normalisation, resize to the image size, download.
using U2NetOutput = runtime::MatteOutput;

class U2NetNetwork;

class U2NetModel final : public runtime::DescribedMattingModel {
  public:
    // Errors name the file: a SAM checkpoint is recognised and refused with a clear message.
    static Result<std::unique_ptr<U2NetModel>> load(const std::string& checkpoint_path,
                                                    const U2NetOptions& options = {});
    ~U2NetModel() override;
    U2NetModel(const U2NetModel&) = delete;
    U2NetModel& operator=(const U2NetModel&) = delete;

    const U2NetConfig& config() const;
    std::string family() const override { return "u2net"; }
    // run(rgb), from DescribedMattingModel, is run_batch of one. rgb: CV_8UC3 in RGB order; one
    // thread at a time per model.
    // One forward pass for all of rgbs (each resized to the input size), padded to pad_to images.
    Result<std::vector<U2NetOutput>> run_batch(const std::vector<cv::Mat>& rgbs,
                                               int pad_to) const override;

    // The assembled network, for step-by-step tests (engine-internal type, needs ATen).
    const U2NetNetwork& network() const;

    struct Impl;

  private:
    explicit U2NetModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::u2net
