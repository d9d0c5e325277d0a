// Sam2Model: loading, device and precision placement, and the set_image / predict entry points.
#include "models/sam2/sam2_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <cstring>
#include <filesystem>

#include "io/checkpoint.h"
#include "models/runtime/host_masks.h"
#include "models/runtime/mask_logits.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/opened_checkpoint.h"
#include "models/runtime/state_dict_check.h"
#include "models/sam2/sam2_embedding.h"
#include "models/sam2/sam2_network.h"
#include "models/sam2/sam2_transforms.h"

namespace ps::sam2 {

struct Sam2Model::Impl {
    std::string file_label;
    Sam2Config config;
    runtime::Precision precision = runtime::Precision::Fp32;
    std::unique_ptr<Sam2Network> network;
    double load_ms = 0;
    // The prompt encoder and mask decoder of a click, per prompt layout (the labels pick
    // embeddings on the host): a few hundred small launches replayed as one.
    mutable runtime::GraphCache decoder_graphs{24};
};

namespace {

std::string prompt_layout(const std::vector<int>& labels, bool has_mask, bool multimask) {
    std::string key = "sam2 decoder:";
    for (int label : labels) key += std::to_string(label);
    if (has_mask) key += 'm';
    key += multimask ? 'M' : 'S';
    return key;
}

}  // namespace

void Sam2LayoutOverrides::apply(Sam2Config& config) const {
    if (image_size) config.image_size = *image_size;
    if (num_heads) config.hiera.num_heads = *num_heads;
    if (window_spec) config.hiera.window_spec = *window_spec;
    if (global_att_blocks) config.hiera.global_att_blocks = *global_att_blocks;
}

Sam2Model::Sam2Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sam2Model::~Sam2Model() = default;

Result<std::unique_ptr<Sam2Model>> Sam2Model::load(const std::string& checkpoint_path,
                                                   const Sam2Options& options) {
    const auto start = runtime::SteadyClock::now();
    auto opened = runtime::open_checkpoint<Sam2Config>(checkpoint_path, options.device,
                                                       options.precision, infer_sam2_config);
    if (!opened) return opened.error();
    const std::string& label = opened->label;

    return runtime::guarded(label, [&]() -> Result<std::unique_ptr<Sam2Model>> {
        c10::InferenceMode inference;
        const auto placed = runtime::place_tensors(opened->checkpoint.tensors, opened->device,
                                                   options.precision, options.gpu.cudnn_benchmark);
        auto impl = std::make_unique<Impl>();
        impl->file_label = label;
        impl->config = opened->config;
        options.layout.apply(impl->config);
        impl->precision = options.precision;
        impl->network = std::make_unique<Sam2Network>(placed, impl->config, label);
        impl->network->set_cuda_graphs(options.gpu.cuda_graphs);
        impl->network->set_encode_ahead(options.gpu.encode_ahead);
        impl->network->set_encode_ahead_first(options.gpu.encode_ahead_first);
        impl->decoder_graphs.set_enabled(options.gpu.cuda_graphs);
        impl->load_ms = runtime::ms_since(start);
        return std::unique_ptr<Sam2Model>(new Sam2Model(std::move(impl)));
    });
}

const Sam2Config& Sam2Model::config() const {
    return impl_->config;
}
std::string Sam2Model::device_name() const {
    return impl_->network->device().str();
}
runtime::Precision Sam2Model::precision() const {
    return impl_->precision;
}
double Sam2Model::load_ms() const {
    return impl_->load_ms;
}
const Sam2Network& Sam2Model::network() const {
    return *impl_->network;
}
double embedding_encode_ms(const Sam2Embedding& embedding) {
    return embedding.encode_ms;
}
double embedding_preprocess_ms(const Sam2Embedding& embedding) {
    return embedding.preprocess_ms;
}

long long embedding_bytes(const Sam2Embedding& embedding) {
    long long bytes = static_cast<long long>(embedding.features.image_embed.nbytes());
    for (const at::Tensor& level : embedding.features.high_res)
        bytes += static_cast<long long>(level.nbytes());
    return bytes;
}

bool embedding_on_gpu(const Sam2Embedding& embedding) {
    return embedding.features.image_embed.is_cuda();
}

// Only what decode reads moves: the trunk and FPN intermediates are empty outside tests.
std::shared_ptr<const Sam2Embedding> embedding_to_host(const Sam2Embedding& embedding) {
    c10::InferenceMode inference;
    auto copy = std::make_shared<Sam2Embedding>(embedding);
    copy->features.image_embed = embedding.features.image_embed.cpu();
    for (at::Tensor& level : copy->features.high_res) level = level.cpu();
    return copy;
}

namespace {

// The shapes an embedding of `config` holds, in Sam2EmbeddingData's order.
std::vector<std::vector<int64_t>> embedding_shapes(const Sam2Config& config) {
    const int64_t c = config.d_model, g = config.embedding_grid();
    std::vector<std::vector<int64_t>> shapes{{1, c, g, g}};
    if (config.use_high_res_features) {
        shapes.push_back({1, c / 8, 4 * g, 4 * g});
        shapes.push_back({1, c / 4, 2 * g, 2 * g});
    }
    return shapes;
}

}  // namespace

Sam2EmbeddingData export_embedding(const Sam2Embedding& embedding) {
    c10::InferenceMode inference;
    std::vector<at::Tensor> parts{embedding.features.image_embed.cpu().reshape({-1})};
    for (const at::Tensor& level : embedding.features.high_res)
        parts.push_back(level.cpu().reshape({-1}));
    const at::Tensor host = at::cat(parts).contiguous();
    Sam2EmbeddingData data;
    data.dtype = runtime::floating_dtype_name(host.scalar_type());  // the network's: never f64
    data.shape = host.sizes().vec();
    const auto* bytes = static_cast<const uint8_t*>(host.data_ptr());
    data.bytes.assign(bytes, bytes + host.nbytes());
    data.original_height = embedding.original_height;
    data.original_width = embedding.original_width;
    return data;
}

Result<std::shared_ptr<const Sam2Embedding>> Sam2Model::import_embedding(
    const Sam2EmbeddingData& data) const {
    const std::vector<std::vector<int64_t>> shapes = embedding_shapes(impl_->config);
    int64_t total = 0;
    for (const auto& shape : shapes) total += shape[1] * shape[2] * shape[3];
    if (data.shape != std::vector<int64_t>{total}) {
        return make_error(ErrorKind::Mismatch, impl_->file_label + ": stored embedding has shape " +
                                                   runtime::shape_string(data.shape) +
                                                   ", expected [" + std::to_string(total) + "]");
    }
    if (data.dtype != "float32" && data.dtype != "bfloat16" && data.dtype != "float16")
        return make_error(ErrorKind::Format, "stored embedding has unknown dtype " + data.dtype);
    const at::ScalarType type = data.dtype == "bfloat16"  ? at::kBFloat16
                                : data.dtype == "float16" ? at::kHalf
                                                          : at::kFloat;
    if (static_cast<int64_t>(data.bytes.size()) !=
        total * static_cast<int64_t>(c10::elementSize(type)))
        return make_error(ErrorKind::Format, "stored embedding has the wrong byte count");
    if (data.original_height <= 0 || data.original_width <= 0)
        return make_error(ErrorKind::Format, "stored embedding has no image size");
    return runtime::guarded(
        impl_->file_label + ": import embedding",
        [&]() -> Result<std::shared_ptr<const Sam2Embedding>> {
            c10::InferenceMode inference;
            at::Tensor host = at::empty({total}, at::TensorOptions().dtype(type));
            std::memcpy(host.data_ptr(), data.bytes.data(), data.bytes.size());
            const Sam2Network& net = *impl_->network;
            auto out = std::make_shared<Sam2Embedding>();
            int64_t offset = 0;
            for (size_t i = 0; i < shapes.size(); ++i) {
                const int64_t count = shapes[i][1] * shapes[i][2] * shapes[i][3];
                at::Tensor part = host.slice(0, offset, offset + count)
                                      .reshape(shapes[i])
                                      .to(net.device(), net.dtype());
                offset += count;
                if (i == 0)
                    out->features.image_embed = part;
                else
                    out->features.high_res.push_back(part);
            }
            out->original_height = data.original_height;
            out->original_width = data.original_width;
            return std::shared_ptr<const Sam2Embedding>(std::move(out));
        });
}

Result<std::shared_ptr<const Sam2Embedding>> Sam2Model::encode(const cv::Mat& rgb) const {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument,
                          "SAM 2 expects a non-empty 8-bit RGB image (CV_8UC3)");
    }
    return runtime::guarded(
        impl_->file_label, [&]() -> Result<std::shared_ptr<const Sam2Embedding>> {
            c10::InferenceMode inference;
            const Sam2Network& net = *impl_->network;
            auto embedding = std::make_shared<Sam2Embedding>();
            embedding->original_height = rgb.rows;
            embedding->original_width = rgb.cols;
            auto start = runtime::SteadyClock::now();
            const at::Tensor input =
                preprocess_for_sam2(rgb, impl_->config.image_size, net.device());
            // The upload no longer waits for the GPU: waited for here, so that preprocess_ms
            // holds it and encode_ms the encoder alone.
            runtime::wait_for(input);
            embedding->preprocess_ms = runtime::ms_since(start);
            start = runtime::SteadyClock::now();
            embedding->features = net.encode(input);
            embedding->features.pix_feat = at::Tensor();  // for tracking only: not held
            runtime::wait_for(embedding->features.image_embed);
            embedding->encode_ms = runtime::ms_since(start);
            return std::shared_ptr<const Sam2Embedding>(std::move(embedding));
        });
}

Result<runtime::MaskSet> Sam2Model::decode(const Sam2Embedding& embedding,
                                           const runtime::Prompt& prompt) const {
    const int height = embedding.original_height, width = embedding.original_width;
    if (auto valid = runtime::check_prompt(prompt, width, height); !valid) return valid.error();
    return runtime::guarded(impl_->file_label, [&]() -> Result<runtime::MaskSet> {
        c10::InferenceMode inference;
        const Sam2Network& net = *impl_->network;
        const auto start = runtime::SteadyClock::now();
        const Sam2PromptPoints points =
            prompt_points(prompt, height, width, impl_->config.image_size, net.device());
        at::Tensor mask_input;
        if (prompt.mask_input) mask_input = prompt.mask_input->logits.to(net.device());
        // An embedding the engine's cache demoted to host memory goes back to the model's device.
        Sam2ImageFeatures on_device;
        const bool elsewhere = embedding.features.image_embed.device() != net.device();
        if (elsewhere) {
            on_device.image_embed = embedding.features.image_embed.to(net.device());
            for (const at::Tensor& level : embedding.features.high_res)
                on_device.high_res.push_back(level.to(net.device()));
        }
        const Sam2ImageFeatures& features = elsewhere ? on_device : embedding.features;
        // Graph inputs in a fixed order: the features, then the prompt tensors that exist.
        std::vector<at::Tensor> inputs{features.image_embed};
        inputs.insert(inputs.end(), features.high_res.begin(), features.high_res.end());
        const size_t levels = features.high_res.size();
        for (const at::Tensor* t : {&points.coords, static_cast<const at::Tensor*>(&mask_input)})
            if (t->defined()) inputs.push_back(*t);
        const std::vector<at::Tensor> outputs = impl_->decoder_graphs.run(
            prompt_layout(points.labels, mask_input.defined(), prompt.multimask), inputs,
            [&net, &points, levels, has_points = points.coords.defined(),
             has_mask = mask_input.defined(),
             multimask = prompt.multimask](const std::vector<at::Tensor>& in) {
                Sam2ImageFeatures f;
                f.image_embed = in[0];
                f.high_res.assign(in.begin() + 1, in.begin() + 1 + static_cast<long>(levels));
                size_t next = 1 + levels;
                const at::Tensor coords = has_points ? in[next++] : at::Tensor();
                const at::Tensor mask = has_mask ? in[next++] : at::Tensor();
                const Sam2DecodedMasks d = net.decode(f, coords, points.labels, mask, multimask);
                return std::vector<at::Tensor>{d.low_res_logits, d.iou_predictions};
            });
        Sam2DecodedMasks decoded;
        decoded.low_res_logits = outputs[0];
        decoded.iou_predictions = outputs[1];
        runtime::MaskSet out;
        out.decode_ms = runtime::ms_since(start);
        const auto post_start = runtime::SteadyClock::now();
        const at::Tensor logits = upscale_logits(decoded.low_res_logits, height, width);
        const at::Tensor masks = logits.gt(0).to(at::kByte).mul_(255);
        if (masks.is_cuda()) {
            // Straight into pinned Mats (SAM's measured path: 2.3 -> 1.2 ms a click).
            out.masks = runtime::masks_to_host(masks);
        } else {
            const at::Tensor host = masks.contiguous();
            for (int64_t m = 0; m < host.size(1); ++m)
                out.masks.push_back(cv::Mat(height, width, CV_8UC1, host[0][m].data_ptr()).clone());
        }
        const at::Tensor iou = decoded.iou_predictions.to(at::kCPU, at::kFloat).contiguous();
        const at::Tensor low_res = at::clamp(decoded.low_res_logits.to(at::kFloat), -32.0, 32.0);
        for (int64_t m = 0; m < masks.size(1); ++m) {
            out.iou.push_back(iou[0][m].item<float>());
            auto held = std::make_shared<runtime::MaskLogits>();
            held->logits = low_res.slice(1, m, m + 1).clone();
            out.low_res_logits.push_back(std::move(held));
            if (out.iou.back() > out.iou[out.best_index]) out.best_index = static_cast<int>(m);
        }
        out.postprocess_ms = runtime::ms_since(post_start);
        return out;
    });
}

}  // namespace ps::sam2
