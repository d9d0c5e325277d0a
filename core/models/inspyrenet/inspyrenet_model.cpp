// InSPyReNetModel: loading, device and precision placement, and the image-to-matte entry point.
#include "models/inspyrenet/inspyrenet_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "models/inspyrenet/inspyrenet_network.h"
#include "models/inspyrenet/inspyrenet_transforms.h"
#include "models/runtime/conv_matting_state.h"
#include "models/runtime/matting_stages.h"
#include "models/runtime/model_runtime.h"

namespace ps::inspyrenet {

struct InSPyReNetModel::Impl : runtime::ConvMattingState<InSPyReNetConfig, InSPyReNetNetwork> {
    bool high_resolution = false;
};

InSPyReNetModel::InSPyReNetModel(std::unique_ptr<Impl> impl)
    : DescribedMattingModel(runtime::matting_info(*impl, impl->config.base_size)),
      impl_(std::move(impl)) {}
InSPyReNetModel::~InSPyReNetModel() = default;

Result<std::unique_ptr<InSPyReNetModel>> InSPyReNetModel::load(const std::string& checkpoint_path,
                                                               const InSPyReNetOptions& options) {
    // The base size shapes the network (SICA's context sizes): set before it is built.
    const auto infer = [&options](const std::map<std::string, at::Tensor>& tensors,
                                  const std::string& label) {
        auto config = infer_inspyrenet_config(tensors, label);
        if (config && options.base_size > 0) config->base_size = options.base_size;
        return config;
    };
    // Channels-last in half precision on CUDA (place_conv_tensors), as the other convolutional
    // families: the decoder's blocks keep that layout end to end (inspyrenet_blocks.cpp), where
    // NCHW maps cost cuDNN a conversion to NHWC and back around every convolution.
    auto impl = runtime::load_conv_matting<Impl>(checkpoint_path, options, infer);
    if (!impl) return impl.error();
    (*impl)->high_resolution = options.high_resolution;
    return std::unique_ptr<InSPyReNetModel>(new InSPyReNetModel(std::move(*impl)));
}

const InSPyReNetConfig& InSPyReNetModel::config() const {
    return impl_->config;
}
const InSPyReNetNetwork& InSPyReNetModel::network() const {
    return *impl_->network;
}

Result<InSPyReNetOutput> InSPyReNetModel::run(const cv::Mat& rgb) const {
    const InSPyReNetNetwork& net = *impl_->network;
    const InSPyReNetConfig& config = impl_->config;
    const int base = input_size();
    if (impl_->high_resolution && !rgb.empty()) {
        // Two inputs of an image-dependent size: no graph replay; the stages timed the same way.
        runtime::GraphCache no_graphs{1};
        no_graphs.set_enabled(false);
        const cv::Size hr = dynamic_size(rgb.cols, rgb.rows, static_cast<int>(config.hr_long_side));
        at::Tensor low;
        return runtime::run_matting_stages(
            "InSPyReNet", impl_->file_label, rgb, no_graphs, impl_->memory_format,
            [&](const cv::Mat& image) {
                low = input_for_inspyrenet(image, base, base, net.device(), impl_->memory_format);
                return input_for_inspyrenet(image, hr.width, hr.height, net.device(),
                                            impl_->memory_format);
            },
            [&](const at::Tensor& high) {
                return prediction(net.forward_blended(high, low, config.hr_threshold).d[3]);
            },
            [&](const at::Tensor& pred) { return matte_from_pred(pred, rgb.rows, rgb.cols); });
    }
    return runtime::run_matting_stages(
        "InSPyReNet", impl_->file_label, rgb, impl_->graphs, impl_->memory_format,
        // The resize and normalisation run on the CPU whatever the device: PIL's integer
        // arithmetic and numpy's float64 steps are reproduced exactly there.
        [&](const cv::Mat& image) {
            return input_for_inspyrenet(image, base, base, net.device(), impl_->memory_format);
        },
        [&](const at::Tensor& input) { return net.forward(input); },
        [&](const at::Tensor& pred) { return matte_from_pred(pred, rgb.rows, rgb.cols); });
}

Result<std::vector<InSPyReNetOutput>> InSPyReNetModel::run_batch(const std::vector<cv::Mat>& rgbs,
                                                                 int pad_to) const {
    return MattingModel::run_batch(rgbs, pad_to);
}

}  // namespace ps::inspyrenet
