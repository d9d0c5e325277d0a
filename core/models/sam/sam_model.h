// Public SAM API: load a checkpoint, encode an image once, answer many prompts from it.
// No ATen in this header: the GUI and CLI include it without paying for torch's headers.
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/device.h"
#include "models/runtime/segmentation_types.h"
#include "models/sam/sam_config.h"

namespace ps::sam {

// SAM answers the shared segmentation types (models/runtime/segmentation_types.h).
using SamPoint = runtime::Point;
using SamPrompt = runtime::Prompt;
using SamMaskSet = runtime::MaskSet;
using SamLogits = runtime::MaskLogits;

struct SamOptions {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    // See SamConfig::tiny_vit_attention_biases: false reproduces the official MobileSAM predictor.
    bool tiny_vit_attention_biases = false;
    // See SamConfig::attention_chunk_bytes; 0 keeps the default.
    long long attention_chunk_bytes = 0;
    runtime::GpuSwitches gpu;
};

// An encoded image (embedding on the model's device plus the sizes needed to map prompts).
struct SamEmbedding;

class SamNetwork;

// An embedding as plain bytes, for the on-disk store.
struct SamEmbeddingData {
    std::string dtype;  // "float32", "bfloat16", "float16"
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
    int original_height = 0, original_width = 0, resized_height = 0, resized_width = 0;
};

SamEmbeddingData export_embedding(const SamEmbedding& embedding);
long long embedding_bytes(const SamEmbedding& embedding);
bool embedding_on_gpu(const SamEmbedding& embedding);
// A host (CPU) copy, so a GPU cache can demote an entry instead of dropping it.
std::shared_ptr<const SamEmbedding> embedding_to_host(const SamEmbedding& embedding);
double embedding_encode_ms(const SamEmbedding& embedding);
double embedding_preprocess_ms(const SamEmbedding& embedding);

class SamModel {
  public:
    static Result<std::unique_ptr<SamModel>> load(const std::string& checkpoint_path,
                                                  const SamOptions& options = {});
    ~SamModel();
    SamModel(const SamModel&) = delete;
    SamModel& operator=(const SamModel&) = delete;

    const SamConfig& config() const;
    std::string device_name() const;  // "cpu", "cuda:0"
    runtime::Precision precision() const;
    double load_ms() const;

    // image: CV_8UC3 RGB. The embedding stays valid after the model is gone only as data; use it
    // with the model that made it.
    Result<std::shared_ptr<const SamEmbedding>> encode(const cv::Mat& rgb_image) const;
    double last_encode_ms() const;
    Result<SamMaskSet> decode(const SamEmbedding& embedding, const SamPrompt& prompt) const;
    // Rebuilds an embedding from stored bytes; checks the shape against this model.
    Result<std::shared_ptr<const SamEmbedding>> import_embedding(
        const SamEmbeddingData& data) const;

    // The assembled network, for step-by-step tests and benchmarks (engine-internal type).
    const SamNetwork& network() const;

    struct Impl;

  private:
    explicit SamModel(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::sam
