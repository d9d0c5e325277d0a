// Public SAM 2 image API: load a sam2.1_hiera_*.pt checkpoint, encode an image once, answer
// many prompts from it as SAM2ImagePredictor does. No ATen in this header.
#pragma once

#include <opencv2/core/mat.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/device.h"
#include "models/runtime/segmentation_types.h"
#include "models/sam2/sam2_config.h"

namespace ps::sam2 {

// What a file does not store, for checkpoints of unpublished layouts (a test's tiny model):
// unset fields keep what infer_sam2_config chose.
struct Sam2LayoutOverrides {
    std::optional<int64_t> image_size, num_heads;
    std::optional<std::vector<int64_t>> window_spec, global_att_blocks;
    void apply(Sam2Config& config) const;
};

struct Sam2Options {
    runtime::Device device = runtime::Device::Auto;
    runtime::Precision precision = runtime::Precision::Fp32;
    runtime::GpuSwitches gpu;
    Sam2LayoutOverrides layout;
};

// An encoded image: the features on the model's device and the original size.
struct Sam2Embedding;
class Sam2Network;

// An embedding as plain bytes, for the engine's on-disk store: image_embed, then the
// high-resolution maps (feat_s0, feat_s1), flattened one after another into one 1-D tensor.
struct Sam2EmbeddingData {
    std::string dtype;           // "float32", "bfloat16", "float16"
    std::vector<int64_t> shape;  // {total elements}
    std::vector<uint8_t> bytes;
    int original_height = 0, original_width = 0;
};

class Sam2Model {
  public:
    static Result<std::unique_ptr<Sam2Model>> load(const std::string& checkpoint_path,
                                                   const Sam2Options& options = {});
    ~Sam2Model();
    Sam2Model(const Sam2Model&) = delete;
    Sam2Model& operator=(const Sam2Model&) = delete;

    const Sam2Config& config() const;
    std::string device_name() const;
    runtime::Precision precision() const;
    double load_ms() const;

    // image: CV_8UC3 RGB (set_image).
    Result<std::shared_ptr<const Sam2Embedding>> encode(const cv::Mat& rgb_image) const;
    // predict(): points and box in original pixels (the box goes first, as corners labelled 2
    // and 3), prompt.mask_input a previous answer's low-resolution logits, prompt.multimask for
    // three candidates (else one, chosen by stability).
    Result<runtime::MaskSet> decode(const Sam2Embedding& embedding,
                                    const runtime::Prompt& prompt) const;

    // Rebuilds an embedding from stored bytes; checks the element count against this model.
    Result<std::shared_ptr<const Sam2Embedding>> import_embedding(
        const Sam2EmbeddingData& data) const;

    // The assembled network, for step-by-step tests.
    const Sam2Network& network() const;

    struct Impl;

  private:
    explicit Sam2Model(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

double embedding_encode_ms(const Sam2Embedding& embedding);
double embedding_preprocess_ms(const Sam2Embedding& embedding);
// What the engine's embedding cache needs: the bytes held (image_embed and the high-resolution
// features), where they live, and a host copy so a GPU cache can demote an entry.
long long embedding_bytes(const Sam2Embedding& embedding);
bool embedding_on_gpu(const Sam2Embedding& embedding);
std::shared_ptr<const Sam2Embedding> embedding_to_host(const Sam2Embedding& embedding);
Sam2EmbeddingData export_embedding(const Sam2Embedding& embedding);

}  // namespace ps::sam2
