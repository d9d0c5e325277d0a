// Engine: scheduling, caching and measuring around the models of every family.
#include "engine/engine.h"

#include "engine/huge_page_allocator.h"

#include <ATen/Parallel.h>
#include <malloc.h>
#include <QDir>

#include "engine/embedding_cache.h"
#include "engine/embedding_store.h"
#include "engine/latest_wins.h"
#include "image/downscale.h"
#include "io/image_reader.h"
#include "models/grabcut/grabcut_segmenter.h"
#include "models/runtime/attention_merge.h"
#include "models/runtime/conv_norm.h"
#include "models/runtime/deform_conv2d.h"
#include "models/runtime/layers.h"
#include "models/runtime/row_layer_norm.h"
#include "models/runtime/swin_attention.h"
#include "models/sam2/memory_attention.h"

namespace ps::engine {

struct Engine::OpenImage {
    ImageInfo info;
    cv::Mat full, work;
    std::shared_ptr<CancelToken> token = std::make_shared<CancelToken>();
    // Embeddings a batch made for this image: they live as long as the image is open and never
    // enter the shared cache, which a batch would only fill with embeddings it never reuses
    // (RSS grew ~1.3 MB per image over a 150-image annotate run).
    mutable std::mutex pinned_mutex;
    mutable std::map<std::string, std::shared_ptr<const void>> pinned;
};

struct Engine::Caches {
    Caches(long long host, long long device) : memory(host, device) {}
    EmbeddingCache memory;
    std::mutex store_mutex;
    std::unique_ptr<EmbeddingStore> store;  // opt-in, per folder
};

struct Engine::Interactive {
    explicit Interactive(JobScheduler& scheduler)
        : builtin_decodes(scheduler, Priority::Interactive),
          previews(scheduler, Priority::Interactive) {}
    LatestWins<sam::SamMaskSet> builtin_decodes;  // GrabCut: no device, the pool
    LatestWins<cv::Mat> previews;
    // A model's decodes drain on its device's thread; guarded by Engine::devices_mutex_.
    std::map<std::string, std::unique_ptr<LatestWins<sam::SamMaskSet>>> model_decodes;
};

namespace {

long long default_device_budget() {
    if (!runtime::cuda_available()) return 0;
    const MemoryStats memory = sample_memory();
    if (memory.gpu_total_bytes && memory.gpu_used_bytes) {
        return (*memory.gpu_total_bytes - *memory.gpu_used_bytes) / 4;
    }
    return 2LL << 30;
}

// SAM resizes the longest side, SAM 2 the whole image to a square: the prefix also tells the
// cache's values apart (sam::SamEmbedding, sam2::Sam2Embedding).
constexpr const char* kSam2Prefix = "sam2;";

EmbeddingKey key_for(const std::string& content_hash, const LoadedModel& model, int downscale_max) {
    if (model.sam2) {
        return {content_hash, model.cache_identity,
                kSam2Prefix + std::string("size=") +
                    std::to_string(model.sam2->config().image_size) +
                    ";downscale=" + std::to_string(downscale_max)};
    }
    return {content_hash, model.cache_identity,
            "sam;longest=" + std::to_string(model.sam->config().image_size) +
                ";downscale=" + std::to_string(downscale_max)};
}

std::shared_ptr<const sam::SamEmbedding> as_embedding(std::shared_ptr<const void> value) {
    return std::static_pointer_cast<const sam::SamEmbedding>(std::move(value));
}
std::shared_ptr<const sam2::Sam2Embedding> as_sam2_embedding(std::shared_ptr<const void> value) {
    return std::static_pointer_cast<const sam2::Sam2Embedding>(std::move(value));
}

// What the engine reads off an embedding of either promptable family.
struct EmbeddingFacts {
    long long bytes = 0;
    bool on_gpu = false;
    double preprocess_ms = 0, encode_ms = 0;
};

EmbeddingFacts facts_of(const LoadedModel& model, const std::shared_ptr<const void>& value) {
    if (model.sam2) {
        const sam2::Sam2Embedding& e = *as_sam2_embedding(value);
        return {sam2::embedding_bytes(e), sam2::embedding_on_gpu(e),
                sam2::embedding_preprocess_ms(e), sam2::embedding_encode_ms(e)};
    }
    const sam::SamEmbedding& e = *as_embedding(value);
    return {sam::embedding_bytes(e), sam::embedding_on_gpu(e), sam::embedding_preprocess_ms(e),
            sam::embedding_encode_ms(e)};
}

Result<std::shared_ptr<const void>> encode_with(const LoadedModel& model, const cv::Mat& rgb) {
    if (model.sam2) {
        auto made = model.sam2->encode(rgb);
        if (!made) return made.error();
        return std::shared_ptr<const void>(std::move(made.value()));
    }
    auto made = model.sam->encode(rgb);
    if (!made) return made.error();
    return std::shared_ptr<const void>(std::move(made.value()));
}

Result<sam::SamMaskSet> decode_with(const LoadedModel& model,
                                    const std::shared_ptr<const void>& embedding,
                                    const sam::SamPrompt& prompt) {
    if (model.sam2) return model.sam2->decode(*as_sam2_embedding(embedding), prompt);
    return model.sam->decode(*as_embedding(embedding), prompt);
}

// An embedding as a disk-store entry: SAM's meta holds the original and resized sizes, SAM 2's
// the original size (its resize is to a fixed square).
StoredEmbedding stored_entry(const EmbeddingKey& key, const LoadedModel& model,
                             const std::shared_ptr<const void>& embedding) {
    if (model.sam2) {
        sam2::Sam2EmbeddingData data = sam2::export_embedding(*as_sam2_embedding(embedding));
        return {key.str(),
                data.dtype,
                data.shape,
                {data.original_height, data.original_width},
                std::move(data.bytes)};
    }
    sam::SamEmbeddingData data = sam::export_embedding(*as_embedding(embedding));
    return {key.str(),
            data.dtype,
            data.shape,
            {data.original_height, data.original_width, data.resized_height, data.resized_width},
            std::move(data.bytes)};
}

// A stored entry back into the model's embedding type; null when it does not fit the model.
std::shared_ptr<const void> import_stored(const LoadedModel& model, StoredEmbedding stored) {
    if (model.sam2) {
        if (stored.meta.size() != 2) return nullptr;
        sam2::Sam2EmbeddingData data{stored.dtype, stored.shape, std::move(stored.data),
                                     int(stored.meta[0]), int(stored.meta[1])};
        auto embedding = model.sam2->import_embedding(data);
        return embedding ? std::shared_ptr<const void>(*embedding) : nullptr;
    }
    sam::SamEmbeddingData data{stored.dtype, stored.shape, std::move(stored.data)};
    if (stored.meta.size() == 4) {
        data.original_height = int(stored.meta[0]);
        data.original_width = int(stored.meta[1]);
        data.resized_height = int(stored.meta[2]);
        data.resized_width = int(stored.meta[3]);
    }
    auto embedding = model.sam->import_embedding(data);
    if (!embedding || stored.meta.size() != 4) return nullptr;
    return std::shared_ptr<const void>(*embedding);
}

// A device-cache entry demoted to host memory, by the family its key names.
CachedValue host_copy(const EmbeddingKey& key, const CachedValue& value) {
    if (key.preprocess.rfind(kSam2Prefix, 0) == 0) {
        auto host = sam2::embedding_to_host(*as_sam2_embedding(value.value));
        return {host, sam2::embedding_bytes(*host), CacheTier::Host};
    }
    auto host = sam::embedding_to_host(*as_embedding(value.value));
    return {host, sam::embedding_bytes(*host), CacheTier::Host};
}

// A request for one family's work on another family's model, or for a missing image or model.
std::optional<Error> request_error(bool image_found, const LoadedModel* model, int image_id,
                                   const std::string& model_id, bool wants_sam) {
    if (!image_found) {
        return make_error(ErrorKind::InvalidArgument,
                          "no open image with id " + std::to_string(image_id));
    }
    if (!model) return make_error(ErrorKind::InvalidArgument, "no loaded model " + model_id);
    if (auto ok = require_family(model->info, wants_sam ? "sam" : "matting"); !ok)
        return ok.error();
    return std::nullopt;
}

MatteResult matte_result(runtime::MatteOutput&& out) {
    MatteResult result;
    result.matte = std::move(out.matte);
    result.preprocess_ms = out.preprocess_ms;
    result.forward_ms = out.forward_ms;
    result.postprocess_ms = out.postprocess_ms;
    return result;
}

bool is_out_of_memory(const std::string& message) {
    return message.find("out of memory") != std::string::npos;
}

}  // namespace

Engine::Engine(EngineSettings settings, std::shared_ptr<Clock> clock, QObject* parent)
    : QObject(parent),
      settings_(std::move(settings)),
      clock_(std::move(clock)),
      metrics_(std::make_unique<Metrics>(clock_)),
      scheduler_(settings_.max_workers) {
    metrics_->set_slow_threshold_ms(settings_.slow_ms);
    // Torch's intra-op threads share the cores with the pool; never oversubscribe them.
    at::set_num_threads(settings_.max_workers);
    install_huge_page_cpu_allocator(settings_.cpu_huge_pages);
    runtime::set_gemm_epilogues(settings_.gpu.gemm_epilogues);
    sam2::set_split_attention(settings_.gpu.split_attention);
    runtime::set_swin_attention_kernel(settings_.gpu.swin_attention);
    runtime::set_hiera_window_attention(settings_.gpu.hiera_window_attention);
    runtime::set_layer_norm_kernel(settings_.gpu.layer_norm_kernel);
    runtime::set_conv_norm_kernels(settings_.gpu.conv_norm_kernels);
    runtime::set_attention_merge_kernel(settings_.gpu.attention_merge_kernel);
    runtime::set_deform_shared_sampling(settings_.gpu.deform_shared_sampling);
    const long long host_budget = settings_.host_cache_bytes >= 0
                                      ? settings_.host_cache_bytes
                                      : default_host_cache_budget_bytes();
    const long long device_budget =
        settings_.device_cache_bytes > 0 ? settings_.device_cache_bytes : default_device_budget();
    caches_ = std::make_unique<Caches>(host_budget, device_budget);
    // A GPU entry pushed out of VRAM moves to host memory instead of being lost.
    caches_->memory.set_device_eviction_handler([this](const EmbeddingKey& key, CachedValue value) {
        caches_->memory.put(key, host_copy(key, value));
    });
    interactive_ = std::make_unique<Interactive>(scheduler_);
    publish_cache_stats();
    if (settings_.warm_models) {
        for (const std::string& path : settings_.models) load_model(path);
    }
}

Engine::~Engine() {
    scheduler_.shutdown();
    // Then the device threads, before the decodes' channels they drain: what is still queued
    // there sees the scheduler stopped and resolves as cancelled.
    std::lock_guard<std::mutex> lock(devices_mutex_);
    device_threads_.clear();
}

QFuture<Result<ModelInfo>> Engine::load_model(const std::string& path) {
    sam::SamOptions options;
    options.device = settings_.device;
    options.precision = settings_.precision;
    return load_model(path, options);
}

QFuture<Result<ModelInfo>> Engine::load_model(const std::string& path,
                                              const sam::SamOptions& options,
                                              const sam2::Sam2LayoutOverrides& sam2_layout) {
    return scheduler_.submit<ModelInfo>(
        Priority::Interactive, nullptr, [this, path, options, sam2_layout]() -> Result<ModelInfo> {
            sam::SamOptions effective = options;
            effective.gpu = settings_.gpu;  // the engine's switches, from the environment
            auto model = registry_.load(path, effective, sam2_layout);
            if (!model) return model.error();
            const ModelInfo& info = (*model)->info;
            metrics_->set_model_load_ms(info.load_ms);
            metrics_->set_device(info.device, info.precision, info.fallback_reason);
            // Auto on a machine without a GPU is no fallback worth a warning (it would be the
            // only stderr line of every CLI run there); the reason stays in the metrics.
            const bool on_cpu = info.device.rfind("cuda", 0) != 0;
            const bool device_ignored =
                on_cpu && options.device != runtime::Device::Cpu &&
                (options.device == runtime::Device::Cuda || runtime::cuda_available());
            const bool precision_ignored = info.precision != runtime::to_string(options.precision);
            if (!info.fallback_reason.empty() && (device_ignored || precision_ignored)) {
                qWarning("%s: %s", path.c_str(), info.fallback_reason.c_str());
            }
            return info;
        });
}

std::optional<sam::SamConfig> Engine::model_config(const std::string& model_id) const {
    auto model = registry_.find(model_id);
    if (!model || !model->sam) return std::nullopt;
    return model->sam->config();
}

std::optional<sam2::Sam2Config> Engine::sam2_model_config(const std::string& model_id) const {
    auto model = registry_.find(model_id);
    if (!model || !model->sam2) return std::nullopt;
    return model->sam2->config();
}

bool Engine::unload_model(const std::string& model_id) {
    return registry_.unload(model_id);
}

QFuture<Result<ImageInfo>> Engine::open_image(const std::string& path) {
    return scheduler_.submit<ImageInfo>(
        Priority::EncodeVisible, nullptr, [this, path]() -> Result<ImageInfo> {
            const double start = clock_->now_ms();
            auto rgb = io::read_rgb_image(path, settings_.image_read);
            if (!rgb) return rgb.error();
            return register_image(std::move(rgb.value()), path, start);
        });
}

QFuture<Result<ImageInfo>> Engine::open_image(const cv::Mat& rgb, const std::string& name) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        return QtFuture::makeReadyFuture(Result<ImageInfo>(
            make_error(ErrorKind::InvalidArgument, name + ": not an 8-bit RGB image")));
    }
    const cv::Mat copy = rgb.clone();
    return scheduler_.submit<ImageInfo>(Priority::EncodeVisible, nullptr, [this, copy, name]() {
        return register_image(copy, name, clock_->now_ms());
    });
}

Result<ImageInfo> Engine::register_image(cv::Mat rgb, const std::string& name,
                                         double decode_start_ms) {
    auto image = std::make_shared<OpenImage>();
    image->full = rgb.isContinuous() ? rgb : rgb.clone();
    image->work = image::downscale_for_interactive(image->full, settings_.downscale_max);
    image->info.path = name;
    image->info.width = image->full.cols;
    image->info.height = image->full.rows;
    image->info.work_width = image->work.cols;
    image->info.work_height = image->work.rows;
    // Pixels, not file bytes: a renamed or re-saved copy of the same image hits the cache.
    image->info.content_hash = content_hash(image->full.data, image->full.total() * 3) + "-" +
                               std::to_string(image->full.cols) + "x" +
                               std::to_string(image->full.rows);
    metrics_->record(Stage::Decode, clock_->now_ms() - decode_start_ms);
    std::lock_guard<std::mutex> lock(images_mutex_);
    image->info.id = next_image_id_++;
    images_[image->info.id] = image;
    return image->info;
}

void Engine::close_image(int image_id) {
    std::shared_ptr<OpenImage> image;
    {
        std::lock_guard<std::mutex> lock(images_mutex_);
        auto it = images_.find(image_id);
        if (it == images_.end()) return;
        image = it->second;
        images_.erase(it);
    }
    image->token->cancel();
    // glibc keeps freed memory in per-thread arenas, so RSS crept up image after image (+76 MB
    // over the 200-image test). Returning it when an image closes bounds RSS (+6 MB there)
    // without the cost of the alternative, a fixed 256 KB mmap threshold: that made every
    // tensor a fresh mapping faulted in page by page, and measured on the 2-core machine
    // (MobileSAM) encode 2.22 -> 1.37 s and a click 107 -> 52 ms once it was gone. On the pool:
    // releasing a large image's pages takes milliseconds, and close_image is called from the GUI.
    scheduler_.start(Priority::Batch, [] { malloc_trim(0); });
}

cv::Mat Engine::work_image(int image_id) const {
    auto image = find_image(image_id);
    return image ? image->work : cv::Mat();
}

cv::Mat Engine::full_image(int image_id) const {
    auto image = find_image(image_id);
    return image ? image->full : cv::Mat();
}

std::shared_ptr<Engine::OpenImage> Engine::find_image(int image_id) const {
    std::lock_guard<std::mutex> lock(images_mutex_);
    auto it = images_.find(image_id);
    return it == images_.end() ? nullptr : it->second;
}

DeviceThread& Engine::device_thread(const std::string& device) {
    std::lock_guard<std::mutex> lock(devices_mutex_);
    auto& slot = device_threads_[device];
    if (!slot) slot = std::make_unique<DeviceThread>(device);
    return *slot;
}

LatestWins<sam::SamMaskSet>& Engine::decodes_on(const std::string& device) {
    DeviceThread& thread = device_thread(device);
    std::lock_guard<std::mutex> lock(devices_mutex_);
    auto& slot = interactive_->model_decodes[device];
    if (!slot) {
        slot = std::make_unique<LatestWins<sam::SamMaskSet>>(scheduler_, Priority::Interactive,
                                                             thread.starter());
    }
    return *slot;
}

Result<std::shared_ptr<const void>> Engine::embedding_for(const OpenImage& image,
                                                          LoadedModel& model, EncodeInfo& info,
                                                          bool pin_to_image, Priority priority) {
    const EmbeddingKey key = key_for(image.info.content_hash, model, settings_.downscale_max);
    const auto from_memory = [&]() -> std::shared_ptr<const void> {
        {
            std::lock_guard<std::mutex> lock(image.pinned_mutex);
            if (auto it = image.pinned.find(key.str()); it != image.pinned.end()) {
                info = {true, "image", 0};
                return it->second;
            }
        }
        if (auto value = caches_->memory.get(key)) {
            info = {true, facts_of(model, value).on_gpu ? "device cache" : "host cache", 0};
            return value;
        }
        return nullptr;
    };
    if (auto hit = from_memory()) {
        publish_cache_stats();
        return hit;
    }
    if (auto stored = load_stored(key)) {
        // A stored entry that does not fit this model is rebuilt, never trusted.
        if (auto embedding = import_stored(model, std::move(*stored))) {
            const EmbeddingFacts e = facts_of(model, embedding);
            caches_->memory.put(
                key, {embedding, e.bytes, e.on_gpu ? CacheTier::Device : CacheTier::Host});
            info = {true, "disk cache", 0};
            publish_cache_stats();
            return embedding;
        }
    }
    bool encoded = false;
    auto result =
        device_thread(model.info.device)
            .run(priority, [&]() -> Result<std::shared_ptr<const void>> {
                std::lock_guard<std::mutex> model_lock(model.run_mutex);
                // Another job may have encoded this image while this one waited for the device.
                if (auto hit = from_memory()) return hit;
                auto embedding = encode_with(model, image.work);
                if (!embedding && is_out_of_memory(embedding.message())) {
                    // Free the GPU tier and try once more before giving up.
                    caches_->memory.set_budgets(caches_->memory.stats(CacheTier::Host).budget_bytes,
                                                0);
                    metrics_->set_device(model.info.device, model.info.precision,
                                         "CUDA out of memory: GPU embedding cache dropped");
                    embedding = encode_with(model, image.work);
                }
                if (!embedding) return embedding.error();
                const EmbeddingFacts e = facts_of(model, *embedding);
                metrics_->record(Stage::Preprocess, e.preprocess_ms);
                metrics_->record(Stage::Encode, e.encode_ms);
                info = {false, "encoder", e.encode_ms};
                if (pin_to_image) {
                    std::lock_guard<std::mutex> lock(image.pinned_mutex);
                    image.pinned[key.str()] = *embedding;
                } else {
                    caches_->memory.put(
                        key, {*embedding, e.bytes, e.on_gpu ? CacheTier::Device : CacheTier::Host});
                }
                encoded = true;
                return *embedding;
            });
    // The disk store's write is not model work: off the device's thread (when this encode came
    // from the pool), so the clicks queued there do not wait for it.
    if (encoded && result) store(key, model, *result);
    publish_cache_stats();
    return result;
}

std::optional<StoredEmbedding> Engine::load_stored(const EmbeddingKey& key) {
    std::lock_guard<std::mutex> lock(caches_->store_mutex);
    return caches_->store ? caches_->store->load(key.str()) : std::nullopt;
}

void Engine::store(const EmbeddingKey& key, const LoadedModel& model,
                   const std::shared_ptr<const void>& embedding) {
    std::lock_guard<std::mutex> lock(caches_->store_mutex);
    if (!caches_->store) return;
    const StoredEmbedding stored = stored_entry(key, model, embedding);
    if (auto saved = caches_->store->save(stored); !saved) {
        qWarning("embedding not stored: %s", saved.message().c_str());
    }
}

QFuture<Result<EncodeInfo>> Engine::encode(int image_id, const std::string& model_id,
                                           Priority priority) {
    auto image = find_image(image_id);
    auto model = registry_.find(model_id);
    if (auto error = request_error(bool(image), model.get(), image_id, model_id, true)) {
        return QtFuture::makeReadyFuture(Result<EncodeInfo>(*error));
    }
    const bool pin_to_image = priority == Priority::Batch;
    return scheduler_.submit<EncodeInfo>(
        priority, image->token,
        [this, image, model, pin_to_image, priority]() -> Result<EncodeInfo> {
            EncodeInfo info;
            auto embedding = embedding_for(*image, *model, info, pin_to_image, priority);
            if (!embedding) return embedding.error();
            return info;
        });
}

QFuture<Result<sam::SamMaskSet>> Engine::decode(int image_id, const std::string& model_id,
                                                const sam::SamPrompt& prompt, int channel) {
    auto image = find_image(image_id);
    auto model = registry_.find(model_id);
    if (auto error = request_error(bool(image), model.get(), image_id, model_id, true)) {
        return QtFuture::makeReadyFuture(Result<sam::SamMaskSet>(*error));
    }
    const double requested_at = clock_->now_ms();
    // Straight to the device's thread: a decode always needs it, so a pool worker would only
    // hand it over.
    return decodes_on(model->info.device)
        .request(channel, [this, image, model, prompt, requested_at]() -> Result<sam::SamMaskSet> {
            if (image->token->cancelled()) {
                return make_error(ErrorKind::Cancelled, image->info.path + ": image was closed");
            }
            EncodeInfo info;
            auto embedding = embedding_for(*image, *model, info, false, Priority::Interactive);
            if (!embedding) return embedding.error();
            std::lock_guard<std::mutex> model_lock(model->run_mutex);
            auto masks = decode_with(*model, *embedding, prompt);
            if (!masks) return masks.error();
            metrics_->record(Stage::MaskDecode, masks->decode_ms);
            metrics_->record(Stage::Postprocess, masks->postprocess_ms);
            if (!model->first_request_done) {
                model->first_request_done = true;
                metrics_->note_first_request_ms(clock_->now_ms() - requested_at);
            }
            return masks;
        });
}

QFuture<Result<sam::SamMaskSet>> Engine::segment_builtin(int image_id, const sam::SamPrompt& prompt,
                                                         int channel) {
    auto image = find_image(image_id);
    if (!image) {
        return QtFuture::makeReadyFuture(Result<sam::SamMaskSet>(make_error(
            ErrorKind::InvalidArgument, "no open image with id " + std::to_string(image_id))));
    }
    return interactive_->builtin_decodes.request(
        channel, [this, image, prompt]() -> Result<sam::SamMaskSet> {
            if (image->token->cancelled()) {
                return make_error(ErrorKind::Cancelled, image->info.path + ": image was closed");
            }
            auto masks = grabcut::grabcut_segment(image->work, prompt);
            if (masks) metrics_->record(Stage::MaskDecode, masks->decode_ms);
            return masks;
        });
}

QFuture<Result<MatteResult>> Engine::matte(int image_id, const std::string& model_id,
                                           const MatteOptions& options) {
    auto image = find_image(image_id);
    auto model = registry_.find(model_id);
    if (auto error = request_error(bool(image), model.get(), image_id, model_id, false)) {
        return QtFuture::makeReadyFuture(Result<MatteResult>(*error));
    }
    if (options.longest_side_px < 0) {
        return QtFuture::makeReadyFuture(Result<MatteResult>(make_error(
            ErrorKind::InvalidArgument,
            "matte: longest_side_px " + std::to_string(options.longest_side_px) + " < 0")));
    }
    // Straight to the device's thread, like a decode: a matte almost always runs the model, so
    // a pool worker would only hand it over (a cache hit waits its turn there, in priority).
    return scheduler_.submit_on<MatteResult>(
        device_thread(model->info.device).starter(), options.priority, image->token,
        [this, image, model, options]() -> Result<MatteResult> {
            return run_matte(*image, *model, options);
        });
}

Result<MatteResult> Engine::run_matte(const OpenImage& image, LoadedModel& model,
                                      const MatteOptions& options) {
    // Mattes share the embedding cache's host tier and byte budget: one bound for all the
    // engine's per-image results, and the same key rules (pixels, model file, size).
    const EmbeddingKey key{image.info.content_hash, model.cache_identity,
                           "matte;longest=" + std::to_string(options.longest_side_px)};
    const auto cached = [&]() -> std::optional<MatteResult> {
        if (!options.cache || !caches_->memory.contains(key)) return std::nullopt;
        auto value = caches_->memory.get(key);
        if (!value) return std::nullopt;
        MatteResult hit;
        // A copy: the caller may write into its matte, the cache's must stay as computed.
        hit.matte = std::static_pointer_cast<const cv::Mat>(value)->clone();
        hit.cache_hit = true;
        return hit;
    };
    if (auto hit = cached()) {
        publish_cache_stats();
        return *hit;
    }
    const cv::Mat rgb = options.longest_side_px > 0
                            ? image::downscale_for_interactive(image.full, options.longest_side_px)
                            : image.full;
    const double requested_at = clock_->now_ms();
    std::optional<MatteResult> hit;
    auto out = device_thread(model.info.device)
                   .run(options.priority, [&]() -> decltype(model.matting->run(rgb)) {
                       std::lock_guard<std::mutex> model_lock(model.run_mutex);
                       // Another job may have made this matte while this one waited for the device.
                       if ((hit = cached()))
                           return make_error(ErrorKind::Superseded, "cached meanwhile");
                       auto made = model.matting->run(rgb);
                       if (made && !model.first_request_done) {
                           model.first_request_done = true;
                           metrics_->note_first_request_ms(clock_->now_ms() - requested_at);
                       }
                       return made;
                   });
    if (hit) return *hit;
    if (!out) return out.error();
    metrics_->record(Stage::Matte, out->preprocess_ms + out->forward_ms + out->postprocess_ms);
    if (options.cache) {
        auto stored = std::make_shared<const cv::Mat>(out->matte.clone());
        caches_->memory.put(key,
                            {stored, static_cast<long long>(stored->total()), CacheTier::Host});
        publish_cache_stats();
    }
    return matte_result(std::move(*out));
}

QFuture<Result<std::vector<MatteResult>>> Engine::matte_batch(std::vector<cv::Mat> rgbs,
                                                              const std::string& model_id,
                                                              const MatteBatchOptions& options) {
    using Out = std::vector<MatteResult>;
    auto model = registry_.find(model_id);
    if (auto error = request_error(true, model.get(), 0, model_id, false)) {
        return QtFuture::makeReadyFuture(Result<Out>(*error));
    }
    return scheduler_.submit_on<Out>(
        device_thread(model->info.device).starter(), options.priority, nullptr,
        [this, model, options, rgbs = std::move(rgbs)]() -> Result<Out> {
            std::lock_guard<std::mutex> model_lock(model->run_mutex);
            auto made = model->matting->run_batch(rgbs, options.pad_to);
            if (!made) return made.error();
            Out results;
            results.reserve(made->size());
            for (auto& one : *made) {
                metrics_->record(Stage::Matte,
                                 one.preprocess_ms + one.forward_ms + one.postprocess_ms);
                results.push_back(matte_result(std::move(one)));
            }
            return results;
        });
}

QFuture<Result<std::shared_ptr<TrackingSession>>> Engine::open_tracking(
    const std::string& model_id, sam2::Sam2VideoInfo video, sam2::Sam2FrameSource frames,
    sam2::Sam2VideoOptions options) {
    using Out = std::shared_ptr<TrackingSession>;
    auto model = registry_.find(model_id);
    if (!model) {
        return QtFuture::makeReadyFuture(
            Result<Out>(make_error(ErrorKind::InvalidArgument, "no loaded model " + model_id)));
    }
    if (auto ok = require_family(model->info, "sam2"); !ok) {
        return QtFuture::makeReadyFuture(Result<Out>(make_error(
            ok.error().kind, ok.message() + ": video tracking needs a SAM 2.1 checkpoint")));
    }
    DeviceThread& device = device_thread(model->info.device);
    return scheduler_.submit_on<Out>(
        device.starter(), Priority::Interactive, nullptr,
        [this, model, &device, video, frames = std::move(frames), options]() -> Result<Out> {
            std::lock_guard<std::mutex> model_lock(model->run_mutex);
            if (!model->sam2_video) {
                auto loaded = sam2::Sam2VideoModel::load(model->sam2, model->info.path);
                if (!loaded) return loaded.error();
                model->sam2_video = std::move(*loaded);
            }
            auto predictor =
                sam2::Sam2VideoPredictor::create(model->sam2_video, video, frames, options);
            if (!predictor) return predictor.error();
            return Out(
                new TrackingSession(model, std::move(*predictor), scheduler_, device, *metrics_));
        });
}

QFuture<Result<cv::Mat>> Engine::preview(int channel, ImageJob job, Stage stage) {
    return interactive_->previews.request(channel, [this, job = std::move(job), stage]() {
        const double start = clock_->now_ms();
        Result<cv::Mat> result = job();
        if (result) metrics_->record(stage, clock_->now_ms() - start);
        return result;
    });
}

Status Engine::enable_disk_cache(const QString& folder) {
    const QString dir = folder + "/.photosynth/embeddings";
    if (!QDir().mkpath(dir)) {
        return make_error(ErrorKind::Io, dir.toStdString() + ": cannot create the cache folder");
    }
    std::lock_guard<std::mutex> lock(caches_->store_mutex);
    caches_->store = std::make_unique<EmbeddingStore>(dir);
    return Ok{};
}

void Engine::disable_disk_cache() {
    std::lock_guard<std::mutex> lock(caches_->store_mutex);
    caches_->store.reset();
}

void Engine::clear_cache() {
    caches_->memory.clear();
    publish_cache_stats();
}

void Engine::publish_cache_stats() {
    CacheTierStats disk;
    {
        std::lock_guard<std::mutex> lock(caches_->store_mutex);
        if (caches_->store) disk = caches_->store->stats();
    }
    metrics_->set_cache_stats(caches_->memory.stats(CacheTier::Host),
                              caches_->memory.stats(CacheTier::Device), disk);
}

}  // namespace ps::engine
