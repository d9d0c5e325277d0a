// Model loading with honest device fallback, for every family.
#include "engine/model_registry.h"

#include "engine/model_family.h"
#include "io/checkpoint.h"
#include "models/birefnet/birefnet_model.h"
#include "models/inspyrenet/inspyrenet_model.h"
#include "models/isnet/isnet_model.h"
#include "models/u2net/u2net_model.h"

#include <QFileInfo>

#include <filesystem>

namespace ps::engine {
namespace {

// What makes embeddings (and mattes) from this file interchangeable: the same bytes (size +
// mtime + path as a cheap proxy), the same architecture, precision and kind of device.
std::string cache_identity(const std::string& path, const std::string& arch,
                           runtime::Precision precision, const std::string& device_name) {
    const QFileInfo file(QString::fromStdString(path));
    return file.canonicalFilePath().toStdString() + "#" + std::to_string(file.size()) + "#" +
           std::to_string(file.lastModified().toMSecsSinceEpoch()) + "#" + arch + "#" +
           runtime::to_string(precision) + "#" +
           (device_name.rfind("cuda", 0) == 0 ? "cuda" : "cpu");
}

// The family is read off the shapes of a memory-mapped file (headers only), so a checkpoint of
// several GB is not read twice. A file no family recognises goes to SAM's loader, whose errors
// name what the file is (truncated, hostile, another kind of model).
std::string family_of(const std::string& path) {
    auto mapped = io::load_checkpoint(path, io::TensorStorage::MappedForInspection);
    if (!mapped) return {};
    auto match = identify_family(mapped->tensors, std::filesystem::path(path).filename().string());
    return match ? match->family : std::string();
}

// Loads with `effective`, and if a GPU load fails retries once on the CPU, saying why.
template <typename Model, typename Options, typename Load>
Result<std::unique_ptr<Model>> load_with_fallback(Options& effective, std::string& reason,
                                                  Load load) {
    auto model = load(effective);
    if (!model && effective.device != runtime::Device::Cpu) {
        // A GPU that exists but fails (driver, out of memory) must not leave the user stuck.
        const std::string cuda_error = model.message();
        effective.device = runtime::Device::Cpu;
        if (effective.precision == runtime::Precision::Fp16)
            effective.precision = runtime::Precision::Fp32;
        model = load(effective);
        if (model) reason = "CUDA load failed (" + cuda_error + "): running on CPU";
    }
    return model;
}

Result<std::shared_ptr<LoadedModel>> load_sam(const std::string& id, const std::string& path,
                                              sam::SamOptions effective, std::string reason) {
    auto model = load_with_fallback<sam::SamModel>(
        effective, reason, [&](const sam::SamOptions& o) { return sam::SamModel::load(path, o); });
    if (!model) return model.error();
    auto loaded = std::make_shared<LoadedModel>();
    loaded->sam = std::move(model.value());
    const sam::SamModel& sam = *loaded->sam;
    const sam::SamConfig& config = sam.config();
    loaded->info = {id,
                    path,
                    config.encoder == sam::EncoderKind::ViT ? "sam" : "mobile_sam",
                    config.arch,
                    sam.device_name(),
                    runtime::to_string(sam.precision()),
                    reason,
                    sam.load_ms(),
                    config.parameter_count};
    loaded->cache_identity = cache_identity(path, config.arch, sam.precision(), sam.device_name());
    return loaded;
}

// SAM 2's image model: the same device, precision and switches as SAM's options.
Result<std::shared_ptr<LoadedModel>> load_sam2(const std::string& id, const std::string& path,
                                               const sam::SamOptions& options,
                                               const sam2::Sam2LayoutOverrides& layout,
                                               std::string reason) {
    sam2::Sam2Options effective{options.device, options.precision, options.gpu, layout};
    auto model = load_with_fallback<sam2::Sam2Model>(
        effective, reason,
        [&](const sam2::Sam2Options& o) { return sam2::Sam2Model::load(path, o); });
    if (!model) return model.error();
    auto loaded = std::make_shared<LoadedModel>();
    loaded->sam2 = std::move(model.value());
    const sam2::Sam2Model& sam2 = *loaded->sam2;
    const sam2::Sam2Config& config = sam2.config();
    loaded->info = {id,
                    path,
                    "sam2",
                    config.arch,
                    sam2.device_name(),
                    runtime::to_string(sam2.precision()),
                    reason,
                    sam2.load_ms(),
                    config.parameter_count};
    // The image size is in the identity: a layout override makes other embeddings.
    loaded->cache_identity =
        cache_identity(path, config.arch + "@" + std::to_string(config.image_size),
                       sam2.precision(), sam2.device_name());
    return loaded;
}

// Any background-removal family: its options mirror SamOptions' device, precision and switches.
template <typename Model, typename Options>
Result<std::shared_ptr<LoadedModel>> load_matting(const std::string& id, const std::string& path,
                                                  const sam::SamOptions& options,
                                                  std::string reason) {
    Options effective{options.device, options.precision, options.gpu};
    auto model = load_with_fallback<Model>(effective, reason,
                                           [&](const Options& o) { return Model::load(path, o); });
    if (!model) return model.error();
    auto loaded = std::make_shared<LoadedModel>();
    const long long parameters = model.value()->config().parameter_count;
    loaded->matting = std::move(model.value());
    const runtime::MattingModel& m = *loaded->matting;
    loaded->info = {id,
                    path,
                    m.family(),
                    m.arch(),
                    m.device_name(),
                    runtime::to_string(m.precision()),
                    reason,
                    m.load_ms(),
                    parameters};
    loaded->cache_identity = cache_identity(path, m.arch(), m.precision(), m.device_name());
    return loaded;
}

// What people call each family in messages.
std::string display_name(const std::string& family) {
    if (family == "u2net") return "U²-Net background-removal";
    if (family == "isnet") return "ISNet background-removal";
    if (family == "inspyrenet") return "InSPyReNet background-removal";
    if (family == "birefnet") return "BiRefNet background-removal";
    if (family == "sam" || family == "mobile_sam") return "Segment Anything";
    if (family == "sam2") return "Segment Anything 2";
    return family;
}

}  // namespace

bool is_matting_family(const std::string& family) {
    return family == "u2net" || family == "isnet" || family == "inspyrenet" || family == "birefnet";
}

bool is_promptable_family(const std::string& family) {
    return family == "sam" || family == "mobile_sam" || family == "sam2";
}

Status require_family(const ModelInfo& model, const std::string& family) {
    const bool promptable = is_promptable_family(model.family);
    const bool ok = family == "sam"       ? promptable
                    : family == "matting" ? is_matting_family(model.family)
                                          : model.family == family;
    if (ok) return Ok{};
    const std::string label = std::filesystem::path(model.path).filename().string();
    const std::string what = display_name(model.family);
    const std::string article = what.rfind("I", 0) == 0 ? "an " : "a ";  // ISNet, InSPyReNet
    const std::string needed =
        family == "sam"
            ? "not Segment Anything: prompted masks need a SAM, MobileSAM or SAM 2 checkpoint"
        : family == "matting"
            ? "not a background-removal model: it needs a U²-Net, U²-NetP, ISNet, InSPyReNet or "
              "BiRefNet checkpoint"
            : "not " + display_name(family);
    return make_error(ErrorKind::InvalidArgument,
                      label + ": looks like " + article + what + " checkpoint" +
                          (promptable ? " (" + model.family + ")" : "") + ", " + needed);
}

std::string ModelRegistry::make_id(const std::string& path, const sam::SamOptions& options,
                                   const sam2::Sam2LayoutOverrides& sam2_layout) {
    std::string id = path + "@" + runtime::to_string(options.device) + "/" +
                     runtime::to_string(options.precision);
    const auto list = [](const std::vector<int64_t>& values) {
        std::string out;
        for (int64_t v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
        return out;
    };
    if (sam2_layout.image_size) id += "#image=" + std::to_string(*sam2_layout.image_size);
    if (sam2_layout.num_heads) id += "#heads=" + std::to_string(*sam2_layout.num_heads);
    if (sam2_layout.window_spec) id += "#windows=" + list(*sam2_layout.window_spec);
    if (sam2_layout.global_att_blocks) id += "#global=" + list(*sam2_layout.global_att_blocks);
    return id;
}

Result<std::shared_ptr<LoadedModel>> ModelRegistry::load(
    const std::string& path, const sam::SamOptions& options,
    const sam2::Sam2LayoutOverrides& sam2_layout) {
    const std::string id = make_id(path, options, sam2_layout);
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
    if (effective.device == runtime::Device::Cpu &&
        effective.precision == runtime::Precision::Fp16) {
        effective.precision = runtime::Precision::Fp32;
        reason += std::string(reason.empty() ? "" : "; ") + "fp16 is GPU-only: running in fp32";
    }
    const std::string family = family_of(path);
    auto loaded =
        family == "u2net"
            ? load_matting<u2net::U2NetModel, u2net::U2NetOptions>(id, path, effective, reason)
        : family == "isnet"
            ? load_matting<isnet::IsNetModel, isnet::IsNetOptions>(id, path, effective, reason)
        : family == "inspyrenet"
            ? load_matting<inspyrenet::InSPyReNetModel, inspyrenet::InSPyReNetOptions>(
                  id, path, effective, reason)
        : family == "birefnet" ? load_matting<birefnet::BiRefNetModel, birefnet::BiRefNetOptions>(
                                     id, path, effective, reason)
        : family == "sam2" ? load_sam2(id, path, effective, sam2_layout, reason)
                           : load_sam(id, path, effective, reason);
    if (!loaded) return loaded.error();
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = models_.emplace(id, *loaded);
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
