// Single-image matte requests from many threads gathered into one forward pass of up to N
// images (Engine::matte_batch): a folder's workers each decode an image and ask for its matte;
// the batcher runs them together once N are waiting, or once the oldest waited `linger_ms` (so
// the last images of a folder do not wait for images that never come), and hands each caller
// its own matte. No thread of its own: the caller that completes a batch, or whose wait ran
// out, runs it.
//
//   engine::MatteBatcher batcher(engine, model_id, 8);
//   ... on each of >= 8 worker threads: auto matte = batcher.matte(rgb);
#pragma once

#include <opencv2/core/mat.hpp>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.h"

namespace ps::engine {

class Engine;
struct MatteResult;

class MatteBatcher {
  public:
    MatteBatcher(Engine& engine, std::string model_id, int batch_size, int linger_ms = 50);
    ~MatteBatcher();
    MatteBatcher(const MatteBatcher&) = delete;
    MatteBatcher& operator=(const MatteBatcher&) = delete;

    // rgb: CV_8UC3. Blocks until the batch holding it ran; its error is each image's error.
    Result<MatteResult> matte(const cv::Mat& rgb);

    int batch_size() const { return batch_size_; }

  private:
    struct Request;
    void run_front(std::unique_lock<std::mutex>& lock);

    Engine& engine_;
    std::string model_id_;
    int batch_size_;
    int linger_ms_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::shared_ptr<Request>> waiting_;
};

}  // namespace ps::engine
