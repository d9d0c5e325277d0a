// Model loading with honest device fallback.
#include "engine/model_registry.h"

#include <QFileInfo>

namespace ps::engine {
namespace {

const char* device_word(runtime::Device device) {
    switch (device) {
        case runtime::Device::Cpu: return "cpu";
        case runtime::Device::Cuda: return "cuda";
        default: return "auto";
    }
}

// What makes embeddings from this file interchangeable: the same bytes (size + mtime + path
// as a cheap proxy), the same architecture, precision and kind of device.
std::string cache_identity(const std::string& path, const sam::SamModel& model) {
    const QFileInfo file(QString::fromStdString(path));
    return file.canonicalFilePath().toStdString() + "#" + std::to_string(file.size()) + "#" +
           std::to_string(file.lastModified().toMSecsSinceEpoch()) + "#" + model.config().arch +
           "#" + runtime::to_string(model.precision()) + "#" +
           (model.device_name().rfind("cuda", 0) == 0 ? "cuda" : "cpu");
}

}  // namespace

std::string ModelRegistry::make_id(const std::string& path, const sam::SamOptions& options) {
    return path + "@" + device_word(options.device) + "/" + runtime::to_string(options.precision);
}

Result<std::shared_ptr<LoadedModel>> ModelRegistry::load(const std::string& path,
                                                         const sam::SamOptions& options) {
    const std::string id = make_id(path, options);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (auto it = models_.find(id); it != models_.end()) return it->second;
    }
    sam::SamOptions effective = options;
    std::string reason;
    if (options.device != runtime::Device::Cpu && !runtime::cuda_available()) {
        effective.device = runtime::Device::Cpu;
        reason = options.device == runtime::Device::Cuda
                     ? "CUDA requested, but LibTorch has no CUDA or no GPU answered: running on CPU"
                     : "auto: no CUDA GPU available, running on CPU";
    }
    if (effective.device == runtime::Device::Cpu && effective.precision == runtime::Precision::Fp16) {
        effective.precision = runtime::Precision::Fp32;
        reason += std::string(reason.empty() ? "" : "; ") + "fp16 is GPU-only: running in fp32";
    }
    auto model = sam::SamModel::load(path, effective);
    if (!model && effective.device != runtime::Device::Cpu) {
        // A GPU that exists but fails (driver, out of memory) must not leave the user stuck.
        const std::string cuda_error = model.message();
        effective.device = runtime::Device::Cpu;
        if (effective.precision == runtime::Precision::Fp16) effective.precision = runtime::Precision::Fp32;
        model = sam::SamModel::load(path, effective);
        if (model) reason = "CUDA load failed (" + cuda_error + "): running on CPU";
    }
    if (!model) return model.error();

    auto loaded = std::make_shared<LoadedModel>();
    loaded->sam = std::move(model.value());
    const sam::SamConfig& config = loaded->sam->config();
    loaded->info = {id,
                    path,
                    config.encoder == sam::EncoderKind::ViT ? "sam" : "mobile_sam",
                    config.arch,
                    loaded->sam->device_name(),
                    runtime::to_string(loaded->sam->precision()),
                    reason,
                    loaded->sam->load_ms(),
                    config.parameter_count};
    loaded->cache_identity = cache_identity(path, *loaded->sam);
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = models_.emplace(id, loaded);
    return it->second;  // another thread may have won the race; use its instance
}

std::shared_ptr<LoadedModel> ModelRegistry::find(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = models_.find(id);
    return it == models_.end() ? nullptr : it->second;
}

bool ModelRegistry::unload(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return models_.erase(id) > 0;  // running jobs keep their shared_ptr until they finish
}

std::vector<ModelInfo> ModelRegistry::list() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<ModelInfo> out;
    for (const auto& [id, model] : models_) out.push_back(model->info);
    return out;
}

void ModelRegistry::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    models_.clear();
}

}  // namespace ps::engine
