// IsNetModel: loading, device and precision placement, and the image-to-matte entry point.
#include "models/isnet/isnet_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <filesystem>

#include "models/isnet/isnet_network.h"
#include "models/isnet/isnet_transforms.h"
#include "models/runtime/conv_matting_state.h"
#include "models/runtime/matting_stages.h"
#include "models/runtime/model_runtime.h"

namespace ps::isnet {

struct IsNetModel::Impl : runtime::ConvMattingState<IsNetConfig, IsNetNetwork> {};

IsNetModel::IsNetModel(std::unique_ptr<Impl> impl)
    : DescribedMattingModel(runtime::matting_info(*impl, impl->config.input_size)),
      impl_(std::move(impl)) {}
IsNetModel::~IsNetModel() = default;

Result<std::unique_ptr<IsNetModel>> IsNetModel::load(const std::string& checkpoint_path,
                                                     const IsNetOptions& options) {
    auto impl = runtime::load_conv_matting<Impl>(checkpoint_path, options, infer_isnet_config);
    if (!impl) return impl.error();
    return std::unique_ptr<IsNetModel>(new IsNetModel(std::move(*impl)));
}

const IsNetConfig& IsNetModel::config() const {
    return impl_->config;
}
const IsNetNetwork& IsNetModel::network() const {
    return *impl_->network;
}

Result<std::vector<IsNetOutput>> IsNetModel::run_batch(const std::vector<cv::Mat>& rgbs,
                                                       int pad_to) const {
    const IsNetNetwork& net = *impl_->network;
    const int size = input_size();
    return runtime::run_matting_batch(
        "ISNet", impl_->file_label, rgbs, pad_to, impl_->graphs, impl_->memory_format,
        // The resize runs on the CPU whatever the device: the reference's truncation to uint8
        // makes one ulp of a different kernel a whole grey level.
        [&](const cv::Mat& image) {
            return normalize_for_isnet(resize_for_isnet(image, size), net.device());
        },
        [&](const at::Tensor& input) { return net.forward_d1(input); },
        [](const at::Tensor& d1, const cv::Mat& rgb) {
            return matte_from_d1(d1, rgb.rows, rgb.cols);
        });
}

}  // namespace ps::isnet
