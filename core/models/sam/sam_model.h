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
#include "models/sam/sam_config.h"

namespace ps::sam {

enum class Device { Auto, Cpu, Cuda };
enum class Precision { Fp32, Fp16, Bf16 };

Result<Device> parse_device(const std::string& text);        // "auto", "cpu", "cuda"
Result<Precision> parse_precision(const std::string& text);  // "fp32", "fp16", "bf16"
std::string to_string(Precision precision);
bool cuda_available();

struct SamOptions {
    Device device = Device::Auto;
    Precision precision = Precision::Fp32;
    // See SamConfig::tiny_vit_attention_biases: false reproduces the official MobileSAM predictor.
    bool tiny_vit_attention_biases = false;
    // See SamConfig::attention_chunk_bytes; 0 keeps the default.
    long long attention_chunk_bytes = 0;
};

struct SamPoint {
    double x = 0, y = 0;  // original-image pixels, fractional allowed
    int label = 1;        // 1 object, 0 background
};

// Low-resolution mask logits kept on the model's device, to feed back as a prompt's mask_input.
struct SamLogits;

struct SamPrompt {
    std::vector<SamPoint> points;
    std::optional<std::array<double, 4>> box;  // x0, y0, x1, y1 in original-image pixels
    bool multimask = true;
    std::shared_ptr<const SamLogits> mask_input;
};

// The validation every prompt passes before a decode, whoever sends it (segment, annotate, the
// app): point labels 0/1, then io::check_prompt (at most 64 points, finite coordinates inside the
// width × height image, a box with x0 < x1 and y0 < y1). See docs/limits.md.
Status check_prompt(const SamPrompt& prompt, int width, int height);

// An encoded image (embedding on the model's device plus the sizes needed to map prompts).
struct SamEmbedding;

struct SamMaskSet {
    std::vector<cv::Mat> masks;  // CV_8UC1, 0/255, original image size, in the predictor's order
    std::vector<float> iou;      // predicted IoU per mask
    std::vector<std::shared_ptr<const SamLogits>> low_res_logits;  // per mask
    int best_index = 0;                                            // argmax of iou
    double decode_ms = 0, postprocess_ms = 0;
};

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
    Precision precision() const;
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
