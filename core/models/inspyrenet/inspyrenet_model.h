// Public InSPyReNet API: load a checkpoint (transparent-background's ckpt_base.pth /
// ckpt_fast.pth, or the official Res2Net50 / Swin-B ones), turn an RGB image into a foreground
// matte. No ATen in this header's own declarations: the engine holds it as a
// runtime::MattingModel.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <string>

#include "common/result.h"
#include "models/inspyrenet/inspyrenet_config.h"
#include "models/runtime/described_matting_model.h"
#include "models/runtime/device.h"

namespace ps::inspyrenet {

struct InSPyReNetOptions {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    runtime::GpuSwitches gpu;
    // 0: the mode's size (Swin-B "base" 1024, "fast" 384 by file name; Res2Net50 384).
    int base_size = 0;
    // The official high-resolution inference (dynamic resize to L = 1280, both pyramids blended
    // above 512) instead of transparent-background's single pass at base_size.
    bool high_resolution = false;
};

using InSPyReNetOutput = runtime::MatteOutput;

class InSPyReNetNetwork;

class InSPyReNetModel final : public runtime::DescribedMattingModel {
  public:
    // Errors name the file: SAM, U²-Net and ISNet checkpoints are recognised and refused clearly.
    static Result<std::unique_ptr<InSPyReNetModel>> load(const std::string& checkpoint_path,
                                                         const InSPyReNetOptions& options = {});
    ~InSPyReNetModel() override;
    InSPyReNetModel(const InSPyReNetModel&) = delete;
    InSPyReNetModel& operator=(const InSPyReNetModel&) = delete;

    const InSPyReNetConfig& config() const;
    std::string family() const override { return "inspyrenet"; }
    // rgb: CV_8UC3 in RGB order. One thread at a time per model. Not run_batch of one: the
    // high-resolution option sizes each image's input from the image.
    Result<InSPyReNetOutput> run(const cv::Mat& rgb) const override;
    // One image after the other (a batched pass is future work).
    Result<std::vector<InSPyReNetOutput>> run_batch(const std::vector<cv::Mat>& rgbs,
                                                    int pad_to) const override;

    // The assembled network, for step-by-step tests (engine-internal type, needs ATen).
    const InSPyReNetNetwork& network() const;

    struct Impl;

  private:
    explicit InSPyReNetModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::inspyrenet
