// Public U²-Net API: load a checkpoint, turn an RGB image into a foreground matte.
// No ATen in this header: the GUI and CLI include it without paying for torch's headers.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>

#include "common/result.h"
#include "models/runtime/device.h"
#include "models/u2net/u2net_config.h"

namespace ps::u2net {

struct U2NetOptions {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    runtime::GpuSwitches gpu;
};

struct U2NetOutput {
    cv::Mat matte;              // CV_8UC1 at the input image's size, 0 background .. 255 subject
    double preprocess_ms = 0;   // 320x320 resize, normalisation, upload
    double forward_ms = 0;      // the network alone
    double postprocess_ms = 0;  // min-max normalisation, resize to the image size, download
};

class U2NetNetwork;

class U2NetModel {
  public:
    // Errors name the file: a SAM checkpoint is recognised and refused with a clear message.
    static Result<std::unique_ptr<U2NetModel>> load(const std::string& checkpoint_path,
                                                    const U2NetOptions& options = {});
    ~U2NetModel();
    U2NetModel(const U2NetModel&) = delete;
    U2NetModel& operator=(const U2NetModel&) = delete;

    const U2NetConfig& config() const;
    std::string device_name() const;  // "cpu", "cuda:0"
    runtime::Precision precision() const;
    double load_ms() const;

    // rgb: CV_8UC3 in RGB order. One thread at a time per model.
    Result<U2NetOutput> run(const cv::Mat& rgb) const;

    // The assembled network, for step-by-step tests (engine-internal type, needs ATen).
    const U2NetNetwork& network() const;

    struct Impl;

  private:
    explicit U2NetModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::u2net
