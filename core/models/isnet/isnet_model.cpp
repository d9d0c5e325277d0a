// IsNetModel: loading, device and precision placement, and the image-to-matte entry point.
#include "models/isnet/isnet_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <filesystem>

#include "io/checkpoint.h"
#include "models/isnet/isnet_network.h"
#include "models/isnet/isnet_transforms.h"
#include "models/runtime/graph_cache.h"
#include "models/runtime/matting_stages.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/state_dict_check.h"

namespace ps::isnet {

struct IsNetModel::Impl {
    std::string file_label;
    IsNetConfig config;
    runtime::Precision precision = runtime::Precision::Fp32;
    std::unique_ptr<IsNetNetwork> network;
    double load_ms = 0;
    // Fixed 1024² input: the ~1000 small kernels replay as one CUDA graph (graph_cache.h).
    mutable runtime::GraphCache graphs{2};
    at::MemoryFormat memory_format = at::MemoryFormat::Contiguous;  // NHWC: half on CUDA
};

IsNetModel::IsNetModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IsNetModel::~IsNetModel() = default;

Result<std::unique_ptr<IsNetModel>> IsNetModel::load(const std::string& checkpoint_path,
                                                     const IsNetOptions& options) {
    const auto start = runtime::SteadyClock::now();
    const std::string label = std::filesystem::path(checkpoint_path).filename().string();
    auto device = runtime::choose_device(label, options.device, options.precision);
    if (!device) return device.error();
    auto checkpoint = io::load_checkpoint(checkpoint_path);
    if (!checkpoint) return checkpoint.error();
    if (auto weights = runtime::check_state_dict(checkpoint->tensors, label); !weights)
        return weights.error();
    auto config = infer_isnet_config(checkpoint->tensors, label);
    if (!config) return config.error();

    return runtime::guarded(label, [&]() -> Result<std::unique_ptr<IsNetModel>> {
        c10::InferenceMode inference;
        runtime::ConvPlacement placed = runtime::place_conv_tensors(
            checkpoint->tensors, *device, options.precision, options.gpu.cudnn_benchmark);
        auto impl = std::make_unique<Impl>();
        impl->file_label = label;
        impl->config = config.value();
        impl->config.cudnn_conv_relu = options.gpu.cudnn_conv_relu;
        impl->graphs.set_enabled(options.gpu.cuda_graphs);
        impl->precision = options.precision;
        impl->memory_format = placed.memory_format();
        impl->network = std::make_unique<IsNetNetwork>(placed.tensors, impl->config, label);
        impl->load_ms = runtime::ms_since(start);
        return std::unique_ptr<IsNetModel>(new IsNetModel(std::move(impl)));
    });
}

const IsNetConfig& IsNetModel::config() const {
    return impl_->config;
}
std::string IsNetModel::arch() const {
    return impl_->config.arch;
}
std::string IsNetModel::describe() const {
    return impl_->config.describe();
}
int IsNetModel::input_size() const {
    return static_cast<int>(impl_->config.input_size);
}
std::string IsNetModel::device_name() const {
    return impl_->network->device().str();
}
runtime::Precision IsNetModel::precision() const {
    return impl_->precision;
}
double IsNetModel::load_ms() const {
    return impl_->load_ms;
}
const IsNetNetwork& IsNetModel::network() const {
    return *impl_->network;
}

Result<IsNetOutput> IsNetModel::run(const cv::Mat& rgb) const {
    const IsNetNetwork& net = *impl_->network;
    const int size = input_size();
    return runtime::run_matting_stages(
        "ISNet", impl_->file_label, rgb, impl_->graphs, impl_->memory_format,
        // The resize runs on the CPU whatever the device: the reference's truncation to uint8
        // makes one ulp of a different kernel a whole grey level.
        [&](const cv::Mat& image) {
            return normalize_for_isnet(resize_for_isnet(image, size), net.device());
        },
        [&](const at::Tensor& input) { return net.forward_d1(input); },
        [&](const at::Tensor& d1) { return matte_from_d1(d1, rgb.rows, rgb.cols); });
}

}  // namespace ps::isnet
