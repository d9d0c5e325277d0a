// SamModel: loading, device and precision placement, and the encode/decode entry points.
#include "models/sam/sam_model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "io/checkpoint.h"
#include "io/input_limits.h"
#include "models/runtime/graph_cache.h"
#include "models/runtime/host_masks.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/opened_checkpoint.h"
#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"
#include "models/sam/sam_network.h"
#include "models/sam/sam_types.h"

namespace ps::sam {
struct SamModel::Impl {
    std::string file_label;
    SamConfig config;
    runtime::Precision precision = runtime::Precision::Fp32;
    std::unique_ptr<SamNetwork> network;
    double load_ms = 0;
    mutable double last_encode_ms = 0;
    // Recorded forward passes (CUDA only): the encoder per input size, the prompt encoder and
    // mask decoder per prompt layout (labels, box, mask input, multimask).
    mutable runtime::GraphCache encoder_graphs{2};
    mutable runtime::GraphCache decoder_graphs{24};
};

SamModel::SamModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SamModel::~SamModel() = default;

Result<std::unique_ptr<SamModel>> SamModel::load(const std::string& checkpoint_path,
                                                 const SamOptions& options) {
    const auto start = runtime::SteadyClock::now();
    auto opened = runtime::open_checkpoint<SamConfig>(checkpoint_path, options.device,
                                                      options.precision, infer_sam_config);
    if (!opened) return opened.error();
    const std::string& label = opened->label;

    return runtime::guarded(label, [&]() -> Result<std::unique_ptr<SamModel>> {
        c10::InferenceMode inference;
        const auto placed = runtime::place_tensors(opened->checkpoint.tensors, opened->device,
                                                   options.precision, options.gpu.cudnn_benchmark);
        auto impl = std::make_unique<Impl>();
        impl->file_label = label;
        impl->config = opened->config;
        impl->config.tiny_vit_attention_biases = options.tiny_vit_attention_biases;
        if (options.attention_chunk_bytes > 0)
            impl->config.attention_chunk_bytes = options.attention_chunk_bytes;
        impl->config.window_kernels = options.gpu.vit_kernels;
        impl->encoder_graphs.set_enabled(options.gpu.cuda_graphs);
        impl->decoder_graphs.set_enabled(options.gpu.cuda_graphs);
        impl->precision = options.precision;
        impl->network = std::make_unique<SamNetwork>(placed, impl->config, label);
        impl->load_ms = runtime::ms_since(start);
        return std::unique_ptr<SamModel>(new SamModel(std::move(impl)));
    });
}

const SamConfig& SamModel::config() const {
    return impl_->config;
}
std::string SamModel::device_name() const {
    return impl_->network->device().str();
}
runtime::Precision SamModel::precision() const {
    return impl_->precision;
}
double SamModel::load_ms() const {
    return impl_->load_ms;
}
double SamModel::last_encode_ms() const {
    return impl_->last_encode_ms;
}
const SamNetwork& SamModel::network() const {
    return *impl_->network;
}

Result<std::shared_ptr<const SamEmbedding>> SamModel::encode(const cv::Mat& rgb) const {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument,
                          "SAM encode needs a non-empty 8-bit RGB image");
    }
    return runtime::guarded(
        impl_->file_label + ": encode", [&]() -> Result<std::shared_ptr<const SamEmbedding>> {
            c10::InferenceMode inference;
            const auto start = runtime::SteadyClock::now();
            const int size = static_cast<int>(impl_->config.image_size);
            const cv::Mat resized = resize_longest_side(rgb, size);
            const at::Tensor host = at::from_blob(
                const_cast<uchar*>(resized.ptr<uchar>()), {resized.rows, resized.cols, 3},
                {static_cast<int64_t>(resized.step[0]), 3, 1}, at::kByte);
            const at::Tensor input = normalize_and_pad(host.to(impl_->network->device()), size);
            runtime::wait_for(input);
            auto result = std::make_shared<SamEmbedding>();
            result->preprocess_ms = runtime::ms_since(start);
            const auto encode_start = runtime::SteadyClock::now();
            const SamNetwork& net = *impl_->network;
            result->embedding =
                impl_->encoder_graphs
                    .run("encoder", {input},
                         [&net](const std::vector<at::Tensor>& in) {
                             return std::vector<at::Tensor>{net.encode_image(in[0])};
                         })
                    .front();
            if (net.device().is_cpu()) result->decoder_image = net.project_image(result->embedding);
            runtime::wait_for(result->embedding);
            result->original = {rgb.rows, rgb.cols};
            result->resized = {resized.rows, resized.cols};
            result->encode_ms = runtime::ms_since(encode_start);
            impl_->last_encode_ms = result->encode_ms;
            return std::shared_ptr<const SamEmbedding>(std::move(result));
        });
}

Result<std::shared_ptr<const SamEmbedding>> SamModel::import_embedding(
    const SamEmbeddingData& data) const {
    const SamConfig& c = impl_->config;
    const std::vector<int64_t> expected{1, c.prompt_dim, c.embedding_grid, c.embedding_grid};
    if (data.shape != expected) {
        return make_error(ErrorKind::Mismatch, impl_->file_label + ": stored embedding has shape " +
                                                   runtime::shape_string(data.shape) +
                                                   ", expected " + runtime::shape_string(expected));
    }
    const at::ScalarType type = data.dtype == "bfloat16"  ? at::kBFloat16
                                : data.dtype == "float16" ? at::kHalf
                                                          : at::kFloat;
    const int64_t numel = expected[1] * expected[2] * expected[3];
    if (data.dtype != "float32" && data.dtype != "bfloat16" && data.dtype != "float16") {
        return make_error(ErrorKind::Format, "stored embedding has unknown dtype " + data.dtype);
    }
    if (static_cast<int64_t>(data.bytes.size()) !=
        numel * static_cast<int64_t>(c10::elementSize(type))) {
        return make_error(ErrorKind::Format, "stored embedding has the wrong byte count");
    }
    return runtime::guarded(impl_->file_label + ": import embedding",
                            [&]() -> Result<std::shared_ptr<const SamEmbedding>> {
                                c10::InferenceMode inference;
                                at::Tensor host =
                                    at::empty(expected, at::TensorOptions().dtype(type));
                                std::memcpy(host.data_ptr(), data.bytes.data(), data.bytes.size());
                                auto out = std::make_shared<SamEmbedding>();
                                const SamNetwork& net = *impl_->network;
                                out->embedding = host.to(net.device(), net.dtype());
                                if (net.device().is_cpu())
                                    out->decoder_image = net.project_image(out->embedding);
                                out->original = {data.original_height, data.original_width};
                                out->resized = {data.resized_height, data.resized_width};
                                return std::shared_ptr<const SamEmbedding>(std::move(out));
                            });
}

SamEmbeddingData export_embedding(const SamEmbedding& embedding) {
    c10::InferenceMode inference;
    const at::Tensor host = embedding.embedding.cpu().contiguous();
    SamEmbeddingData data;
    data.dtype = host.scalar_type() == at::kBFloat16 ? "bfloat16"
                 : host.scalar_type() == at::kHalf   ? "float16"
                                                     : "float32";
    data.shape = host.sizes().vec();
    const auto* bytes = static_cast<const uint8_t*>(host.data_ptr());
    data.bytes.assign(bytes, bytes + host.nbytes());
    data.original_height = embedding.original.height;
    data.original_width = embedding.original.width;
    data.resized_height = embedding.resized.height;
    data.resized_width = embedding.resized.width;
    return data;
}

long long embedding_bytes(const SamEmbedding& embedding) {
    return static_cast<long long>(embedding.embedding.nbytes()) + embedding.decoder_image.bytes();
}

bool embedding_on_gpu(const SamEmbedding& embedding) {
    return embedding.embedding.is_cuda();
}

std::shared_ptr<const SamEmbedding> embedding_to_host(const SamEmbedding& embedding) {
    c10::InferenceMode inference;
    auto copy = std::make_shared<SamEmbedding>(embedding);
    copy->embedding = embedding.embedding.cpu();
    return copy;
}

double embedding_encode_ms(const SamEmbedding& embedding) {
    return embedding.encode_ms;
}
double embedding_preprocess_ms(const SamEmbedding& embedding) {
    return embedding.preprocess_ms;
}

namespace {

// The decoder graph is recorded per prompt layout: the labels select embeddings on the host.
std::string prompt_layout(const SamPrompt& prompt, const PromptTensors& tensors) {
    std::string key = "decoder:";
    for (int label : tensors.labels) key += label == 0 ? '0' : '1';
    if (tensors.box.defined()) key += 'b';
    if (tensors.mask_input.defined()) key += 'm';
    key += prompt.multimask ? 'M' : 'S';
    return key;
}

}  // namespace

Result<SamMaskSet> SamModel::decode(const SamEmbedding& embedding, const SamPrompt& prompt) const {
    if (auto valid =
            runtime::check_prompt(prompt, embedding.original.width, embedding.original.height);
        !valid)
        return make_error(ErrorKind::InvalidArgument, "prompt " + valid.message());
    return runtime::guarded(impl_->file_label + ": decode", [&]() -> Result<SamMaskSet> {
        c10::InferenceMode inference;
        const auto start = runtime::SteadyClock::now();
        const SamNetwork& net = *impl_->network;
        const Size2 orig = embedding.original, resized = embedding.resized;
        const PromptTensors tensors = prompt_to_tensors(prompt, orig, resized, net.device());
        // The prompt tensors that exist, in a fixed order, after the embedding.
        std::vector<at::Tensor> inputs{embedding.embedding.to(net.device(), net.dtype())};
        for (const at::Tensor* t : {&tensors.point_coords, &tensors.box, &tensors.mask_input})
            if (t->defined()) inputs.push_back(*t);
        const std::vector<int>& labels = tensors.labels;
        const bool multimask = prompt.multimask;
        const ImageProjections* image = net.device().is_cpu() && embedding.decoder_image.defined()
                                            ? &embedding.decoder_image
                                            : nullptr;
        const std::vector<at::Tensor> decoded = impl_->decoder_graphs.run(
            prompt_layout(prompt, tensors), inputs,
            [&net, &labels, multimask, image, has_points = tensors.point_coords.defined(),
             has_box = tensors.box.defined(),
             has_mask = tensors.mask_input.defined()](const std::vector<at::Tensor>& in) {
                size_t next = 1;
                const at::Tensor coords = has_points ? in[next++] : at::Tensor();
                const at::Tensor box = has_box ? in[next++] : at::Tensor();
                const at::Tensor mask = has_mask ? in[next++] : at::Tensor();
                const EncodedPrompt encoded = net.encode_prompt(coords, labels, box, mask);
                const DecodedMasks masks = net.decode_masks(in[0], encoded, multimask, image);
                return std::vector<at::Tensor>{masks.low_res_logits, masks.iou_predictions};
            });
        const at::Tensor low_res = decoded[0].to(at::kFloat);
        const at::Tensor iou = decoded[1].to(at::kFloat).cpu();
        SamMaskSet out;
        out.decode_ms = runtime::ms_since(start);
        const auto post_start = runtime::SteadyClock::now();
        const int size = static_cast<int>(impl_->config.image_size);
        if (low_res.is_cuda()) {
            const at::Tensor masks =
                upscale_logits(low_res, size, resized, orig).gt(0).to(at::kByte).mul_(255);
            out.masks = runtime::masks_to_host(masks);
        } else {
            out.masks = threshold_masks_cpu(low_res, size, resized, orig);
        }
        const float* iou_values = iou.data_ptr<float>();
        for (int64_t i = 0; i < low_res.size(1); ++i) {
            out.iou.push_back(iou_values[i]);
            auto logits = std::make_shared<SamLogits>();
            logits->logits = low_res.slice(1, i, i + 1).clone();
            out.low_res_logits.push_back(std::move(logits));
        }
        for (size_t i = 1; i < out.iou.size(); ++i) {
            if (out.iou[i] > out.iou[out.best_index]) out.best_index = static_cast<int>(i);
        }
        out.postprocess_ms = runtime::ms_since(post_start);
        return out;
    });
}

}  // namespace ps::sam
