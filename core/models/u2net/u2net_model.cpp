// U2NetModel: loading, device and precision placement, and the image-to-matte entry point.
#include "models/u2net/u2net_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <filesystem>

#include "io/checkpoint.h"
#include "models/sam/weights.h"
#include "models/u2net/u2net_network.h"
#include "models/u2net/u2net_transforms.h"

namespace ps::u2net {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// CUDA kernels run asynchronously; reading one value waits for the stream, so timings are real.
void wait_for(const at::Tensor& t) {
    if (t.is_cuda() && t.numel() > 0) (void)t.flatten()[0].item<float>();
}

// Exceptions stop here: weight errors keep their own message, c10 errors lose their backtrace.
template <typename F>
auto guarded(const std::string& what, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const sam::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    } catch (const std::exception& e) {
        const std::string message = e.what();
        return make_error(ErrorKind::Runtime, what + ": " + message.substr(0, message.find('\n')));
    }
}

}  // namespace

struct U2NetModel::Impl {
    std::string file_label;
    U2NetConfig config;
    sam::Precision precision = sam::Precision::Fp32;
    std::unique_ptr<U2NetNetwork> network;
    double load_ms = 0;
};

U2NetModel::U2NetModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
U2NetModel::~U2NetModel() = default;

Result<std::unique_ptr<U2NetModel>> U2NetModel::load(const std::string& checkpoint_path,
                                                     const U2NetOptions& options) {
    const auto start = Clock::now();
    const std::string label = std::filesystem::path(checkpoint_path).filename().string();
    if (options.device == sam::Device::Cuda && !sam::cuda_available()) {
        return make_error(ErrorKind::Unsupported,
                          label +
                              ": device cuda requested, but this build of LibTorch has no "
                              "CUDA or no GPU answers");
    }
    const bool use_cuda = options.device == sam::Device::Cuda ||
                          (options.device == sam::Device::Auto && sam::cuda_available());
    if (!use_cuda && options.precision == sam::Precision::Fp16) {
        return make_error(ErrorKind::Unsupported,
                          label + ": fp16 is not supported on the CPU (use fp32 or bf16)");
    }
    auto checkpoint = io::load_checkpoint(checkpoint_path);
    if (!checkpoint) return checkpoint.error();
    auto config = infer_u2net_config(checkpoint->tensors, label);
    if (!config) return config.error();

    return guarded(label, [&]() -> Result<std::unique_ptr<U2NetModel>> {
        c10::InferenceMode inference;
        const at::Device device = use_cuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
        if (use_cuda && options.precision == sam::Precision::Fp32) {
            // cuDNN defaults to TF32 on Ampere and newer (10-bit mantissas): fp32 means fp32.
            at::globalContext().setAllowTF32CuDNN(false);
            at::globalContext().setAllowTF32CuBLAS(false);
        }
        const at::ScalarType dtype = options.precision == sam::Precision::Bf16   ? at::kBFloat16
                                     : options.precision == sam::Precision::Fp16 ? at::kHalf
                                                                                 : at::kFloat;
        std::map<std::string, at::Tensor> placed;
        for (const auto& [key, tensor] : checkpoint->tensors) {
            const bool floating = at::isFloatingType(tensor.scalar_type());
            placed[key] = tensor.to(device, floating ? dtype : tensor.scalar_type());
        }
        auto impl = std::make_unique<Impl>();
        impl->file_label = label;
        impl->config = config.value();
        impl->precision = options.precision;
        impl->network = std::make_unique<U2NetNetwork>(placed, impl->config, label);
        impl->load_ms = ms_since(start);
        return std::unique_ptr<U2NetModel>(new U2NetModel(std::move(impl)));
    });
}

const U2NetConfig& U2NetModel::config() const {
    return impl_->config;
}
std::string U2NetModel::device_name() const {
    return impl_->network->device().str();
}
sam::Precision U2NetModel::precision() const {
    return impl_->precision;
}
double U2NetModel::load_ms() const {
    return impl_->load_ms;
}
const U2NetNetwork& U2NetModel::network() const {
    return *impl_->network;
}

Result<U2NetOutput> U2NetModel::run(const cv::Mat& rgb) const {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument, "U²-Net needs a non-empty 8-bit RGB image");
    }
    return guarded(impl_->file_label + ": run", [&]() -> Result<U2NetOutput> {
        c10::InferenceMode inference;
        const U2NetNetwork& net = *impl_->network;
        U2NetOutput out;
        const auto start = Clock::now();
        const int size = static_cast<int>(impl_->config.input_size);
        const at::Tensor input = normalize_for_u2net(resize_for_u2net(rgb, size), net.device());
        wait_for(input);
        out.preprocess_ms = ms_since(start);

        const auto forward_start = Clock::now();
        // Only d0 is used; the side maps cost one sigmoid each and are dropped here.
        const at::Tensor d0 = net.forward(input)[0];
        wait_for(d0);
        out.forward_ms = ms_since(forward_start);

        const auto post_start = Clock::now();
        out.matte = matte_from_d0(d0, rgb.rows, rgb.cols);
        out.postprocess_ms = ms_since(post_start);
        return out;
    });
}

}  // namespace ps::u2net
