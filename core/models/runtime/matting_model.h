// What every background-removal family answers: an RGB image in, a foreground matte out, with
// the time of each stage. The engine holds U²-Net, ISNet (and the families after them) through
// this interface, so loading, Engine::matte, remove-bg and bench need no per-family branch.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/device.h"

namespace ps::runtime {

struct MatteOutput {
    cv::Mat matte;              // CV_8UC1 at the input image's size, 0 background .. 255 subject
    double preprocess_ms = 0;   // resize to the network's input, normalisation, upload
    double forward_ms = 0;      // the network alone
    double postprocess_ms = 0;  // resize to the image size, normalisation, download
};

class MattingModel {
  public:
    virtual ~MattingModel() = default;
    // rgb: CV_8UC3 in RGB order. One thread at a time per model.
    virtual Result<MatteOutput> run(const cv::Mat& rgb) const = 0;
    // Several images, one matte each in order. Families with a fixed input size override it to
    // run them as one forward pass (runtime::run_matting_batch), padded to `pad_to` images so
    // that a run's batches share one shape; this default runs them one by one.
    virtual Result<std::vector<MatteOutput>> run_batch(const std::vector<cv::Mat>& rgbs,
                                                       int pad_to) const {
        std::vector<MatteOutput> out;
        out.reserve(rgbs.size());
        for (const cv::Mat& rgb : rgbs) {
            auto one = run(rgb);
            if (!one) return one.error();
            out.push_back(std::move(*one));
        }
        return out;
    }
    virtual std::string family() const = 0;       // "u2net", "isnet": ModelInfo::family
    virtual std::string arch() const = 0;         // "u2netp", "isnet", "isnet_custom"
    virtual std::string describe() const = 0;     // one line, for `info` and logs
    virtual int input_size() const = 0;           // the square the image is resized to
    virtual std::string device_name() const = 0;  // "cpu", "cuda:0"
    virtual Precision precision() const = 0;
    virtual double load_ms() const = 0;
};

}  // namespace ps::runtime
