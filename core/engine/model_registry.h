// Loaded models of every family: load by path (family detected from the checkpoint's tensors),
// device fallback with a reason, one thread at a time per model, unload on demand.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/matting_model.h"
#include "models/sam/sam_model.h"
#include "models/sam2/sam2_model.h"
#include "models/sam2/video_model.h"

namespace ps::engine {

struct ModelInfo {
    std::string id;  // registry key: path + requested device + precision
    std::string path;
    // "sam", "mobile_sam", "sam2" (promptable); "u2net", "isnet", ... (background removal)
    std::string family;
    std::string arch;    // "vit_b", "mobile_sam", "sam2.1_hiera_t", "u2net", "u2netp", "isnet", ...
    std::string device;  // actually used, e.g. "cuda:0", "cpu"
    std::string precision;        // actually used
    std::string fallback_reason;  // why the request was not honoured as asked (empty if it was)
    double load_ms = 0;
    long long parameters = 0;
};

// The background-removal families, which LoadedModel::matting holds: "u2net", "isnet".
bool is_matting_family(const std::string& family);
// The promptable segmenters, which Engine::encode / decode run: "sam", "mobile_sam", "sam2".
bool is_promptable_family(const std::string& family);

// Ok when `model` is of `family`: "sam" for any promptable family, "matting" for any
// background-removal one, else that family exactly; else an InvalidArgument error naming the
// file, what it is and what the task needs.
Status require_family(const ModelInfo& model, const std::string& family);

struct LoadedModel {
    ModelInfo info;
    std::string cache_identity;  // file identity + arch + precision + device kind (cache keys)
    // Exactly one is set, as info.family says.
    std::unique_ptr<sam::SamModel> sam;              // "sam", "mobile_sam"
    std::shared_ptr<sam2::Sam2Model> sam2;           // "sam2" (the image model)
    std::unique_ptr<runtime::MattingModel> matting;  // is_matting_family: U²-Net(P), ISNet
    // SAM 2's video modules beside `sam2`, read on the first Engine::open_tracking and shared
    // by every tracking session of the model; guarded by run_mutex.
    std::shared_ptr<const sam2::Sam2VideoModel> sam2_video;
    std::mutex run_mutex;             // a model instance is never run by two threads at once
    bool first_request_done = false;  // guarded by run_mutex
};

class ModelRegistry {
  public:
    // Loads (or returns the already loaded) model. Device fallback: a CUDA request without a
    // usable GPU, or a CUDA load failure, loads on the CPU and says why in fallback_reason.
    // `sam2_layout`: what a SAM 2 file of an unpublished layout does not store (a test's tiny
    // model); ignored by the other families, and part of the id when set.
    Result<std::shared_ptr<LoadedModel>> load(const std::string& path,
                                              const sam::SamOptions& options,
                                              const sam2::Sam2LayoutOverrides& sam2_layout = {});
    std::shared_ptr<LoadedModel> find(const std::string& id) const;
    bool unload(const std::string& id);
    std::vector<ModelInfo> list() const;
    void clear();

    static std::string make_id(const std::string& path, const sam::SamOptions& options,
                               const sam2::Sam2LayoutOverrides& sam2_layout = {});

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<LoadedModel>> models_;
};

}  // namespace ps::engine
