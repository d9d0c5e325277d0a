// What the engine asks every background-removal model besides the matte (arch, description,
// input size, device, precision, load time) held once, filled at load: the families implement
// only their forward pass (run_batch) and their own accessors. run() is run_batch of one image.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/runtime/matting_model.h"

namespace ps::runtime {

struct MattingInfo {
    std::string arch;
    std::string description;  // describe(): one line for `info` and logs
    int input_size = 0;       // the square (or the width) the image is resized to
    std::string device;       // "cpu", "cuda:0"
    Precision precision = Precision::Fp32;
    double load_ms = 0;
};

class DescribedMattingModel : public MattingModel {
  public:
    std::string arch() const override { return info_.arch; }
    std::string describe() const override { return info_.description; }
    int input_size() const override { return info_.input_size; }
    std::string device_name() const override { return info_.device; }
    Precision precision() const override { return info_.precision; }
    double load_ms() const override { return info_.load_ms; }

    // One image: run_batch of one, unpadded.
    Result<MatteOutput> run(const cv::Mat& rgb) const override {
        auto out = run_batch({rgb}, 1);
        if (!out) return out.error();
        return std::move(out->front());
    }
    Result<std::vector<MatteOutput>> run_batch(const std::vector<cv::Mat>& rgbs,
                                               int pad_to) const override = 0;

  protected:
    explicit DescribedMattingModel(MattingInfo info) : info_(std::move(info)) {}

  private:
    MattingInfo info_;
};

}  // namespace ps::runtime
