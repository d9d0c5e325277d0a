// U2NetModel: loading, device and precision placement, and the image-to-matte entry point.
#include "models/u2net/u2net_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <filesystem>

#include "models/runtime/conv_matting_state.h"
#include "models/runtime/matting_stages.h"
#include "models/runtime/model_runtime.h"
#include "models/u2net/u2net_network.h"
#include "models/u2net/u2net_transforms.h"

namespace ps::u2net {

struct U2NetModel::Impl : runtime::ConvMattingState<U2NetConfig, U2NetNetwork> {};

U2NetModel::U2NetModel(std::unique_ptr<Impl> impl)
    : DescribedMattingModel(runtime::matting_info(*impl, impl->config.input_size)),
      impl_(std::move(impl)) {}
U2NetModel::~U2NetModel() = default;

Result<std::unique_ptr<U2NetModel>> U2NetModel::load(const std::string& checkpoint_path,
                                                     const U2NetOptions& options) {
    auto impl = runtime::load_conv_matting<Impl>(checkpoint_path, options, infer_u2net_config);
    if (!impl) return impl.error();
    return std::unique_ptr<U2NetModel>(new U2NetModel(std::move(*impl)));
}

const U2NetConfig& U2NetModel::config() const {
    return impl_->config;
}
const U2NetNetwork& U2NetModel::network() const {
    return *impl_->network;
}

Result<std::vector<U2NetOutput>> U2NetModel::run_batch(const std::vector<cv::Mat>& rgbs,
                                                       int pad_to) const {
    const U2NetNetwork& net = *impl_->network;
    const int size = static_cast<int>(impl_->config.input_size);
    return runtime::run_matting_batch(
        "U²-Net", impl_->file_label, rgbs, pad_to, impl_->graphs, impl_->memory_format,
        [&](const cv::Mat& image) {
            return normalize_for_u2net(resize_for_u2net(image, size), net.device());
        },
        // Only d0 is used; the side maps cost one sigmoid each and are dropped here.
        [&](const at::Tensor& input) { return net.forward(input)[0]; },
        [](const at::Tensor& d0, const cv::Mat& rgb) {
            return matte_from_d0(d0, rgb.rows, rgb.cols);
        });
}

}  // namespace ps::u2net
