// BiRefNetModel: loading, device and precision placement, and the image-to-matte entry point.
#include "models/birefnet/birefnet_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "models/birefnet/birefnet_network.h"
#include "models/birefnet/birefnet_transforms.h"
#include "models/runtime/conv_matting_state.h"
#include "models/runtime/matting_stages.h"
#include "models/runtime/model_runtime.h"

namespace ps::birefnet {

struct BiRefNetModel::Impl : runtime::ConvMattingState<BiRefNetConfig, BiRefNetNetwork> {};

BiRefNetModel::BiRefNetModel(std::unique_ptr<Impl> impl)
    : DescribedMattingModel(runtime::matting_info(*impl, impl->config.input_width)),
      impl_(std::move(impl)) {}
BiRefNetModel::~BiRefNetModel() = default;

Result<std::unique_ptr<BiRefNetModel>> BiRefNetModel::load(const std::string& checkpoint_path,
                                                           const BiRefNetOptions& options) {
    auto impl = runtime::load_conv_matting<Impl>(checkpoint_path, options, infer_birefnet_config);
    if (!impl) return impl.error();
    return std::unique_ptr<BiRefNetModel>(new BiRefNetModel(std::move(*impl)));
}

const BiRefNetConfig& BiRefNetModel::config() const {
    return impl_->config;
}
const BiRefNetNetwork& BiRefNetModel::network() const {
    return *impl_->network;
}

Result<std::vector<BiRefNetOutput>> BiRefNetModel::run_batch(const std::vector<cv::Mat>& rgbs,
                                                             int pad_to) const {
    const BiRefNetNetwork& net = *impl_->network;
    if (impl_->config.dynamic_input) {
        // Each image at its own size: one forward pass each (no common shape to stack).
        std::vector<BiRefNetOutput> out;
        for (const cv::Mat& rgb : rgbs) {
            auto one = runtime::run_matting_stages(
                "BiRefNet", impl_->file_label, rgb, impl_->graphs, impl_->memory_format,
                [&](const cv::Mat& image) {
                    return normalize_for_birefnet(resize_for_birefnet_dynamic(image), net.device());
                },
                [&](const at::Tensor& input) { return net.forward(input); },
                [&](const at::Tensor& logits) {
                    return matte_from_logits(logits, rgb.rows, rgb.cols);
                });
            if (!one) return one.error();
            out.push_back(std::move(*one));
        }
        return out;
    }
    const int width = static_cast<int>(impl_->config.input_width);
    const int height = static_cast<int>(impl_->config.input_height);
    return runtime::run_matting_batch(
        "BiRefNet", impl_->file_label, rgbs, pad_to, impl_->graphs, impl_->memory_format,
        // Pillow's resize runs on the CPU whatever the device: it is integer arithmetic on uint8.
        [&](const cv::Mat& image) {
            return normalize_for_birefnet(resize_for_birefnet(image, width, height), net.device());
        },
        [&](const at::Tensor& input) { return net.forward(input); },
        [](const at::Tensor& logits, const cv::Mat& rgb) {
            return matte_from_logits(logits, rgb.rows, rgb.cols);
        });
}

}  // namespace ps::birefnet
