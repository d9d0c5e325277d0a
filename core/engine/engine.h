// The engine the GUI, the CLI and the benchmark drive: it owns every worker thread, keeps each
// opened image's embedding so that a click costs only the mask decoder, and measures everything.
//
//   Engine engine(EngineSettings::from_environment());
//   auto model = engine.load_model("sam_vit_b.pth").result();        // Result<ModelInfo>
//   auto image = engine.open_image("photo.jpg").result();            // Result<ImageInfo>
//   engine.encode(image->id, model->id);                             // optional: pre-encode
//   auto masks = engine.decode(image->id, model->id, prompt).result();  // Result<SamMaskSet>
//   auto s2 = engine.load_model("sam2.1_hiera_t.pt").result();     // family "sam2": same calls
//   auto u2 = engine.load_model("u2netp.pth").result();             // family "u2net"
//   auto matte = engine.matte(image->id, u2->id).result();          // Result<MatteResult>
//   auto track = engine.open_tracking(s2->id, {frames, w, h}, read).result();  // SAM 2 video
#pragma once

#include <QFuture>
#include <QObject>
#include <QString>

#include <functional>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/result.h"
#include "engine/device_thread.h"
#include "engine/embedding_cache.h"
#include "engine/embedding_store.h"
#include "engine/engine_settings.h"
#include "engine/job_scheduler.h"
#include "engine/latest_wins.h"
#include "engine/metrics.h"
#include "engine/model_registry.h"
#include "engine/tracking_session.h"
#include "models/sam/sam_model.h"
#include "models/sam2/video_predictor.h"

namespace ps::engine {

struct ImageInfo {
    int id = 0;
    std::string path;                     // or a name for images opened from memory
    int width = 0, height = 0;            // full resolution (exports)
    int work_width = 0, work_height = 0;  // after PHOTOSYNTH_DOWNSCALE_MAX (interactive work)
    std::string content_hash;
};

struct EncodeInfo {
    bool cache_hit = false;
    std::string
        source;  // "encoder", "image" (a batch's own), "host cache", "device cache", "disk cache"
    double encode_ms = 0;  // 0 on a hit
};

// Background removal: which image the network sees.
struct MatteOptions {
    // 0: the full-resolution image (exports, the CLI); else the image downscaled so that its
    // longest side is at most this (previews), as image::downscale_for_interactive does.
    int longest_side_px = 0;
    Priority priority = Priority::Interactive;
    // Keep the matte in the cache's host tier (a copy) so that the next request for the same
    // image, model and size is a hit: what previews want. Batches, the CLI and the benchmark
    // visit each image once and turn it off, which also spares them the copy.
    bool cache = true;
};

// Several images through one forward pass (Engine::matte_batch).
struct MatteBatchOptions {
    Priority priority = Priority::Batch;
    // Pad every batch to this many images (zero images, results dropped) so that all batches of
    // a run have one shape: one CUDA graph, recorded once, replays them all. 0: no padding.
    int pad_to = 0;
};

struct MatteResult {
    cv::Mat matte;  // CV_8UC1 at the (downscaled) image's size, 0 background .. 255 subject
    bool cache_hit = false;
    double preprocess_ms = 0, forward_ms = 0, postprocess_ms = 0;  // 0 on a hit
};

class Engine : public QObject {
    Q_OBJECT
  public:
    explicit Engine(EngineSettings settings = EngineSettings::from_environment(),
                    std::shared_ptr<Clock> clock = steady_clock(), QObject* parent = nullptr);
    ~Engine() override;

    // Models of any family (ModelInfo::family: "sam", "mobile_sam", "sam2", "u2net", "isnet",
    // ...). Options default to the settings' device and precision; `sam2_layout` gives what a
    // SAM 2 file of an unpublished layout does not store (ModelRegistry::load).
    QFuture<Result<ModelInfo>> load_model(const std::string& path);
    QFuture<Result<ModelInfo>> load_model(const std::string& path, const sam::SamOptions& options,
                                          const sam2::Sam2LayoutOverrides& sam2_layout = {});
    bool unload_model(const std::string& model_id);
    std::vector<ModelInfo> models() const { return registry_.list(); }
    std::optional<sam::SamConfig> model_config(const std::string& model_id) const;
    std::optional<sam2::Sam2Config> sam2_model_config(const std::string& model_id) const;

    // Images: decoded off the caller's thread, downscaled for interactive work, content-hashed.
    QFuture<Result<ImageInfo>> open_image(const std::string& path);
    QFuture<Result<ImageInfo>> open_image(const cv::Mat& rgb, const std::string& name);
    // Cancels the image's queued work; running work finishes, its result is dropped.
    void close_image(int image_id);
    // The interactive (possibly downscaled) RGB image, for display.
    cv::Mat work_image(int image_id) const;
    // The full-resolution RGB image, for exports.
    cv::Mat full_image(int image_id) const;

    // encode and decode serve every promptable family (SAM, MobileSAM, SAM 2) alike.
    // Priority::Batch keeps the embedding with the image (freed by close_image) instead of the
    // shared cache: a batch visits each image once, so caching would only grow memory.
    QFuture<Result<EncodeInfo>> encode(int image_id, const std::string& model_id,
                                       Priority priority = Priority::EncodeVisible);
    // Interactive: per channel only the newest request runs (older ones resolve Superseded).
    // Encodes first if the embedding is not cached. Masks are at the work image's size.
    QFuture<Result<sam::SamMaskSet>> decode(int image_id, const std::string& model_id,
                                            const sam::SamPrompt& prompt, int channel = 0);

    // The built-in segmenter (OpenCV GrabCut) for when no SAM weights are present: same prompts,
    // same latest-wins channel semantics, masks at the work image's size.
    QFuture<Result<sam::SamMaskSet>> segment_builtin(int image_id, const sam::SamPrompt& prompt,
                                                     int channel = 0);
    static constexpr const char* kBuiltinSegmenterName = "GrabCut (built-in)";

    // The foreground matte of a background-removal model (is_matting_family: U²-Net, ISNet), run
    // on its device's thread (DeviceThread) at options.priority, cached per image + model + size
    // in the embedding cache's host tier, timed as Stage::Matte.
    QFuture<Result<MatteResult>> matte(int image_id, const std::string& model_id,
                                       const MatteOptions& options = {});

    // Mattes of several images (CV_8UC3 RGB, any sizes; not opened in the engine, not cached) in
    // one forward pass of a matting model (runtime::MattingModel::run_batch), on its device's
    // thread: `remove-bg --batch N` and video frames. Results in the images' order, each at its
    // image's size; forward_ms is each image's share of the pass.
    QFuture<Result<std::vector<MatteResult>>> matte_batch(std::vector<cv::Mat> rgbs,
                                                          const std::string& model_id,
                                                          const MatteBatchOptions& options = {});

    // SAM 2.1 video tracking (family "sam2" only; another family is a one-line error) over
    // `frames`, which the session calls on the model's device thread. The session shares the
    // loaded model's weights (the memory modules are read from its checkpoint once per model)
    // and keeps the model alive. video::open_tracking (core/video/frame_tracking.h) passes a
    // FrameSource.
    QFuture<Result<std::shared_ptr<TrackingSession>>> open_tracking(
        const std::string& model_id, sam2::Sam2VideoInfo video, sam2::Sam2FrameSource frames,
        sam2::Sam2VideoOptions options = {});

    // Image work for previews (effects, mattes) off the caller's thread, latest-wins per
    // channel: while sliders move only the newest request runs; older ones resolve Superseded.
    using ImageJob = std::function<Result<cv::Mat>()>;
    QFuture<Result<cv::Mat>> preview(int channel, ImageJob job, Stage stage = Stage::Effect);

    // Opt-in persistent embeddings for a folder (stored in <folder>/.photosynth/embeddings).
    Status enable_disk_cache(const QString& folder);
    void disable_disk_cache();
    void clear_cache();

    // Work that is not a model call (an export, an import, a batch, a benchmark) on the engine's
    // pool at `priority`: the app never starts threads or reaches the scheduler itself. A
    // cancelled `token` or an engine shutting down answers a cancelled error instead.
    template <typename T>
    QFuture<Result<T>> run_task(Priority priority, std::function<Result<T>()> body,
                                std::shared_ptr<CancelToken> token = nullptr) {
        return scheduler_.submit<T>(priority, std::move(token), std::move(body));
    }
    // run_task for a body that itself waits on engine work (a batch waits on its encodes): its
    // worker is lent back to the pool while the body runs, so that work runs even on one worker.
    template <typename T>
    QFuture<Result<T>> run_waiting_task(Priority priority, std::function<Result<T>()> body,
                                        std::shared_ptr<CancelToken> token = nullptr) {
        return scheduler_.submit<T>(priority, std::move(token),
                                    [this, body = std::move(body)]() -> Result<T> {
                                        const LentWorker lent(scheduler_.pool());
                                        return body();
                                    });
    }
    // Waits until no engine work runs or is queued (tests, shutdown of a batch window).
    bool wait_idle(int timeout_ms = -1) { return scheduler_.wait_idle(timeout_ms); }

    Metrics& metrics() { return *metrics_; }
    const EngineSettings& settings() const { return settings_; }
    // For tests that must hold the pool's workers (tests/engine); the app, the CLI and core
    // outside engine/ never reach it (tests/architecture/check_includes.sh).
    JobScheduler& scheduler() { return scheduler_; }

  private:
    struct OpenImage;
    struct Caches;
    std::shared_ptr<OpenImage> find_image(int image_id) const;
    Result<ImageInfo> register_image(cv::Mat rgb, const std::string& name, double decode_start_ms);
    // Cached embedding, or runs the encoder on the model's device thread at `priority`: a
    // sam::SamEmbedding or a sam2::Sam2Embedding, as the model's family makes.
    Result<std::shared_ptr<const void>> embedding_for(const OpenImage& image, LoadedModel& model,
                                                      EncodeInfo& info, bool pin_to_image,
                                                      Priority priority);
    std::optional<StoredEmbedding> load_stored(const EmbeddingKey& key);
    void store(const EmbeddingKey& key, const LoadedModel& model,
               const std::shared_ptr<const void>& embedding);
    Result<MatteResult> run_matte(const OpenImage& image, LoadedModel& model,
                                  const MatteOptions& options);
    // The thread that runs `device`'s model calls (made on first use).
    DeviceThread& device_thread(const std::string& device);
    // Latest-wins mask decodes of models on `device`, drained on its thread.
    LatestWins<sam::SamMaskSet>& decodes_on(const std::string& device);
    void publish_cache_stats();

    EngineSettings settings_;
    std::shared_ptr<Clock> clock_;
    std::unique_ptr<Metrics> metrics_;
    ModelRegistry registry_;
    std::unique_ptr<Caches> caches_;
    mutable std::mutex images_mutex_;
    std::map<int, std::shared_ptr<OpenImage>> images_;
    int next_image_id_ = 1;
    std::mutex devices_mutex_;
    std::map<std::string, std::unique_ptr<DeviceThread>> device_threads_;  // outlive the pool
    struct Interactive;
    std::unique_ptr<Interactive> interactive_;
    JobScheduler scheduler_;  // declared last: shut down first (see ~Engine)
};

}  // namespace ps::engine
