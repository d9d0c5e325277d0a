// sam2/modeling/memory_attention.py, transformer.py's RoPEAttention, position_encoding.py's
// compute_axial_cis / apply_rotary_enc, and SAM2Base._prepare_memory_conditioned_features's
// memory bank, op for op.
#include "models/sam2/memory_attention.h"

#include <ATen/ATen.h>
#include <torch/version.h>
#if TORCH_VERSION_MAJOR >= 2
#include <ATen/SDPBackend.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>

#include "models/runtime/attention_merge.h"
#include "models/runtime/device_upload.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/rope_rows.h"
#include "models/runtime/threaded_matmul.h"

namespace ps::sam2 {

namespace {

const std::string kPrefix = "memory_attention.";

// apply_rotary_enc on one tensor: pairs of channels as complex numbers (in float32 whatever the
// dtype, as the reference's xq.float()) times the rotations (broadcast over the leading
// dimensions), back in the input's dtype.
at::Tensor rotate(const at::Tensor& x, const at::Tensor& freqs_cis) {
    std::vector<int64_t> pairs(x.sizes().begin(), x.sizes().end());
    pairs.back() /= 2;
    pairs.push_back(2);
    const at::Tensor complex = at::view_as_complex(x.to(at::kFloat).reshape(pairs).contiguous());
    return at::view_as_real(complex * freqs_cis).flatten(-2).to(x.scalar_type());
}

// The first `rotated` tokens of B x H x T x D, frames of the freqs' grid, rotated (each frame's
// tokens get the grid's rotations); the tokens after them (the object pointers) as they are. On
// the GPU in half precision one pass (runtime/rope_rows.h); else the complex product per frame,
// broadcast over the frames where the reference tiles the table (expand + flatten on the CPU,
// repeat on CUDA), and a concatenation.
at::Tensor rotate_leading(const at::Tensor& x, const at::Tensor& freqs_cis, int64_t rotated) {
    if (rotated == 0) return x;
    if (at::Tensor out = runtime::rope_rotate_rows(x, freqs_cis, rotated); out.defined())
        return out;
    const int64_t B = x.size(0), H = x.size(1), D = x.size(3), grid = freqs_cis.size(0);
    const at::Tensor frames = x.slice(2, 0, rotated).reshape({B, H, rotated / grid, grid, D});
    const at::Tensor out = rotate(frames, freqs_cis).reshape({B, H, rotated, D});
    return rotated < x.size(2) ? at::cat({out, x.slice(2, rotated)}, 2) : out;
}

// Whether scaled_dot_product_attention runs these shapes in one of its fused kernels (not its
// math fallback, which would hold the whole attention matrix).
bool fused_kernel_takes(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
#if TORCH_VERSION_MAJOR >= 2
    const int64_t choice = at::_fused_sdp_choice(q, k, v);
    return choice != static_cast<int64_t>(at::SDPBackend::math) &&
           choice != static_cast<int64_t>(at::SDPBackend::error);
#else
    (void)q, (void)k, (void)v;
    return false;
#endif
}

// FlashAttention where it takes the shapes (half precision, one head width for keys and values,
// at most 256): no execution plan per layout, unlike cuDNN's (KeyLayouts), and on an H100 with
// SAM 2's 256-wide single head the faster kernel anyway (4096 x 28,736 keys: 0.38 ms against
// cuDNN's 0.65, scripts/sdpa_backends_gpu_bench.py). Empty where flash is not built for the GPU.
#if TORCH_VERSION_MAJOR >= 2
std::optional<at::Tensor> flash_attention(const at::Tensor& q, const at::Tensor& k,
                                          const at::Tensor& v) {
    static std::atomic<bool> unavailable{false};
    const int64_t d = q.size(-1);
    if (unavailable.load() || d > 256 || d % 8 != 0 || k.size(-1) != d || v.size(-1) != d ||
        q.stride(-1) != 1 || k.stride(-1) != 1 || v.stride(-1) != 1)
        return std::nullopt;
    try {
        return std::get<0>(at::_scaled_dot_product_flash_attention(q, k, v));
    } catch (const c10::Error&) {
        unavailable = true;  // not built for this GPU: the dispatcher's choice from now on
        return std::nullopt;
    }
}
#endif

std::atomic<bool> split_enabled{true};

// Whether attend() splits one object's cross-attention keys per memory frame (attend_per_frame)
// for these B x heads x N x d queries: half precision on the GPU (LibTorch 2), one head, one
// object.
bool splits_per_frame(const at::Tensor& q, int64_t heads) {
    return split_enabled.load() && runtime::half_on_gpu(q) && heads == 1 && q.size(0) == 1;
}

#if TORCH_VERSION_MAJOR >= 2
// softmax(q k^T / sqrt(d)) v and its log-sum-exps (B x H x Nq), float32, in plain operators: for
// the few object-pointer keys, whose count changes frame to frame (no fused kernel's plan).
std::pair<at::Tensor, at::Tensor> attend_small(const at::Tensor& q, const at::Tensor& k,
                                               const at::Tensor& v) {
    const at::Tensor scores = at::matmul(q.to(at::kFloat), k.to(at::kFloat).transpose(-2, -1)) /
                              std::sqrt(static_cast<double>(q.size(-1)));
    const at::Tensor lse = at::logsumexp(scores, -1);
    return {at::matmul(at::exp(scores - lse.unsqueeze(-1)), v.to(at::kFloat)), lse};
}

// The first frames x N tokens of a 1 x 1 x keys x D tensor as 1 x frames x N x D, whatever the
// token count after them: the batch stride (never stepped over, batch 1) is set as if the
// tensor ended there, so cuDNN's plan, which its strides key, does not change with the
// pointer count.
at::Tensor frames_as_heads(const at::Tensor& x, int64_t frames, int64_t N) {
    const int64_t token = x.stride(2);
    return x.as_strided({1, frames, N, x.size(3)}, {frames * N * token, N * token, token, 1},
                        x.storage_offset());
}

// One object's cross attention (splits_per_frame) in a recurring layout on the GPU: `frames`
// memory grids of Nq keys each, then the object pointers. Its 4096 queries in one fused call fill
// too few of an H100's SMs (cuDNN 0.45 ms with 64-wide values, flash 0.38 ms with 256-wide ones,
// for 4096 x 28,736 keys); the frames as heads of their own (the queries copied per frame) fill
// them: cuDNN 0.23 ms (scripts/sdpa_backends_gpu_bench.py, H100). The pointers go through plain
// operators and the partial results are merged by their log-sum-exps (the softmax over all keys).
// Several objects gain nothing (0.57 against 0.49 ms for three): not split.
std::optional<at::Tensor> attend_per_frame(const at::Tensor& q, const at::Tensor& k,
                                           const at::Tensor& v, int64_t frames) {
    const int64_t N = q.size(2), keys = k.size(2);
    if (frames * N > keys || k.stride(3) != 1 || v.stride(3) != 1) return std::nullopt;
    static std::atomic<bool> unavailable{false};
    if (unavailable.load()) return std::nullopt;
    const at::Tensor qs = q.expand({1, frames, N, q.size(3)}).contiguous();
    at::Tensor out, lse;
    try {
        auto parts = at::_scaled_dot_product_cudnn_attention(
            qs, frames_as_heads(k, frames, N), frames_as_heads(v, frames, N), std::nullopt,
            /*compute_log_sumexp=*/true);
        // The frames' parts: frames x N x D (cuDNN's layout) and their log-sum-exps.
        out = std::get<0>(parts)[0];
        lse = std::get<1>(parts).reshape({frames, N}).to(at::kFloat);
    } catch (const c10::Error&) {
        unavailable = true;  // no cuDNN attention for this GPU or these widths: one call
        return std::nullopt;
    }
    at::Tensor pointer_out, pointer_lse;  // the pointers' part: N x D and N, float32
    if (frames * N < keys) {
        auto [o, l] = attend_small(q, k.narrow(2, frames * N, keys - frames * N),
                                   v.narrow(2, frames * N, keys - frames * N));
        pointer_out = o[0][0];
        pointer_lse = l[0][0];
    }
    // One pass where our merge kernel takes it (runtime/attention_merge.h); else in operators.
    at::Tensor merged = runtime::merge_attention_parts(out, lse, pointer_out, pointer_lse);
    if (!merged.defined()) {
        out = out.to(at::kFloat);
        if (pointer_out.defined()) {
            out = at::cat({out, pointer_out.unsqueeze(0)}, 0);
            lse = at::cat({lse, pointer_lse.unsqueeze(0)}, 0);
        }
        merged = (out * at::softmax(lse, 0).unsqueeze(-1)).sum(0).to(q.scalar_type());
    }
    return merged.view({1, 1, N, v.size(3)});
}
#endif

// F.scaled_dot_product_attention as PyTorch 2's math path (q and k each scaled by d^-1/4; the
// golden's stand-in does the same), over slices of the queries when the whole attention matrix
// (B x heads x Nq x Nk) would pass `chunk_bytes`. On the GPU in half precision fused kernels:
// flash unless `planned` (a recurring layout worth cuDNN's plan); planned, one object's keys
// split per memory frame (attend_per_frame, `frames` > 0) else the dispatcher's choice.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  int64_t chunk_bytes, bool planned, int64_t frames) {
#if TORCH_VERSION_MAJOR >= 2
    if (runtime::half_on_gpu(q)) {
        // One predicate decides the split here, in RopeAttention (values folded) and in
        // MemoryAttention::forward (the layout's key): splits_per_frame.
        if (frames > 0 && planned && splits_per_frame(q, q.size(1)))
            if (auto out = attend_per_frame(q, k, v, frames)) return *out;
        if (!planned)
            if (auto out = flash_attention(q, k, v)) return *out;
        return at::scaled_dot_product_attention(q, k, v);
    }
#else
    (void)planned, (void)frames;
#endif
    const double factor = std::sqrt(1.0 / std::sqrt(static_cast<double>(q.size(3))));
    const at::Tensor keys = k.transpose(-2, -1) * factor;
    const int64_t row_bytes =
        q.size(0) * q.size(1) * k.size(2) * static_cast<int64_t>(q.element_size());
    const int64_t rows = std::max<int64_t>(1, chunk_bytes / std::max<int64_t>(row_bytes, 1));
    const auto attend_rows = [&](const at::Tensor& queries) {
        const at::Tensor scores = runtime::threaded_matmul(queries * factor, keys);
        return runtime::threaded_matmul(at::softmax(scores, -1), v);
    };
    if (rows >= q.size(2)) return attend_rows(q);
    std::vector<at::Tensor> parts;
    for (int64_t start = 0; start < q.size(2); start += rows)
        parts.push_back(attend_rows(q.slice(2, start, std::min(q.size(2), start + rows))));
    return at::cat(parts, 2);
}

}  // namespace

void set_split_attention(bool enabled) {
    split_enabled = enabled;
}

at::Tensor axial_rotary_frequencies(int64_t dim, int64_t end_x, int64_t end_y, double theta,
                                    const at::Device& device) {
    const auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
    const at::Tensor exponents =
        at::arange(0, dim, 4, at::TensorOptions().dtype(at::kLong).device(device))
            .slice(0, 0, dim / 4)
            .to(at::kFloat) /
        static_cast<double>(dim);
    const at::Tensor freqs = at::reciprocal(at::pow(theta, exponents));
    // init_t_xy: token t sits at column t % end_x, row t // end_x.
    const at::Tensor t = at::arange(end_x * end_y, f32);
    const at::Tensor t_x = at::remainder(t, static_cast<double>(end_x));
    const at::Tensor t_y = at::floor_divide(t, static_cast<double>(end_x));
    const at::Tensor angles_x = at::outer(t_x, freqs), angles_y = at::outer(t_y, freqs);
    return at::cat({at::polar(at::ones_like(angles_x), angles_x),
                    at::polar(at::ones_like(angles_y), angles_y)},
                   -1);
}

at::Tensor RopeTables::get(int64_t dim, int64_t side, double theta, const at::Device& device) {
    const auto key = std::make_tuple(dim, side, theta, static_cast<int>(device.type()),
                                     static_cast<int>(device.index()));
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = tables_.find(key);
    if (it == tables_.end())
        it = tables_.emplace(key, axial_rotary_frequencies(dim, side, side, theta, device)).first;
    return it->second;
}

RopeAttention RopeAttention::load(const runtime::Weights& w, const std::string& prefix, int64_t dim,
                                  int64_t kv_in_dim, int64_t heads, double theta,
                                  bool rope_k_repeat) {
    RopeAttention attention;
    static_cast<runtime::AttentionProjections&>(attention) =
        runtime::AttentionProjections::load(w, prefix, dim, dim, kv_in_dim, heads);
    attention.theta = theta;
    attention.rope_k_repeat = rope_k_repeat;
    return attention;
}

void RopeAttention::stack_projections() {
    if (!q_proj.bias.defined() || !k_proj.bias.defined() || !v_proj.bias.defined() ||
        q_proj.weight.size(1) != k_proj.weight.size(1) ||
        q_proj.weight.size(1) != v_proj.weight.size(1))
        return;
    qkv_proj.weight = at::cat({q_proj.weight, k_proj.weight, v_proj.weight}, 0);
    qkv_proj.bias = at::cat({q_proj.bias, k_proj.bias, v_proj.bias}, 0);
    qkv_proj.weight_t = qkv_proj.weight.t();
}

bool KeyLayouts::recurring(int64_t batch, int64_t keys) {
    std::lock_guard<std::mutex> lock(mutex_);
    return !seen_.emplace(batch, keys).second;
}

at::Tensor RopeAttention::operator()(const at::Tensor& q_in, const at::Tensor& k_in,
                                     const at::Tensor& v_in, int64_t num_k_exclude_rope,
                                     bool recurring) const {
    if (qkv_proj.weight.defined() && q_in.is_same(k_in) && q_in.is_same(v_in)) {
        // Self-attention: the three projections as one product, split by views (each output
        // column is the same dot product as in its own projection).
        const at::Tensor packed = qkv_proj.flat(q_in);
        const int64_t width = q_proj.out_features();
        at::Tensor q = separate_heads(packed.narrow(-1, 0, width));
        at::Tensor k = separate_heads(packed.narrow(-1, width, width));
        const at::Tensor v = separate_heads(packed.narrow(-1, 2 * width, width));
        return attend_rotated(q, k, v, v_in, false, num_k_exclude_rope);
    }
    at::Tensor q = separate_heads(q_proj.flat(q_in));
    at::Tensor k = separate_heads(k_proj.flat(k_in));
    // Values narrower than a head (the cross attention's 64-wide memories, 256-wide heads): a
    // softmax row sums to 1, so P (M Wv^T + bv) = (P M) Wv^T + bv, and the attention-weighted sum
    // runs over the memories' own width with v_proj after it: 4x fewer multiply-adds in the
    // largest product of a tracked frame (4096 queries x 7 x 4096 keys at 1024²); float rounding
    // differs only. On the GPU only for several objects in a recurring layout where a fused
    // kernel takes values narrower than the keys (cuDNN): one object is faster in flash, which
    // needs values as wide as the keys, and so is every layout not worth a cuDNN plan.
    const int64_t head_dim = q.size(3);
    at::Tensor v;
    bool fold_values = false;
    if (v_in.size(-1) < head_dim) {
        v = v_in.unsqueeze(1).expand({v_in.size(0), num_heads, v_in.size(1), v_in.size(2)});
        fold_values = !runtime::half_on_gpu(q) ||
                      (recurring && (q.size(0) > 1 || splits_per_frame(q, num_heads)) &&
                       fused_kernel_takes(q, k, v));
    }
    if (!fold_values) v = separate_heads(v_proj.flat(v_in));
    return attend_rotated(q, k, v, v_in, fold_values, num_k_exclude_rope);
}

at::Tensor RopeAttention::attend_rotated(at::Tensor q, at::Tensor k, const at::Tensor& v,
                                         const at::Tensor& v_in, bool fold_values,
                                         int64_t num_k_exclude_rope) const {
    const int64_t head_dim = q.size(3);
    const int64_t queries = q.size(2), keys = k.size(2);
    const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(queries))));
    if (side * side != queries) {
        throw std::invalid_argument("RoPEAttention: " + std::to_string(queries) +
                                    " query tokens are not a square grid");
    }
    const int64_t rope_keys = keys - num_k_exclude_rope;
    if (rope_keys < 0 || (!rope_k_repeat && rope_keys != queries) ||
        (rope_k_repeat && rope_keys % queries != 0)) {
        throw std::invalid_argument("RoPEAttention: " + std::to_string(rope_keys) +
                                    " rotated keys do not tile " + std::to_string(queries) +
                                    " queries");
    }
    const at::Tensor freqs =
        tables ? tables->get(q.size(3), side, theta, q.device())
               : axial_rotary_frequencies(q.size(3), side, side, theta, q.device());
    q = rotate_leading(q, freqs, queries);
    k = rotate_leading(k, freqs, rope_keys);
    at::Tensor out = attend(q, k, v, chunk_bytes, /*planned=*/fold_values,
                            rope_k_repeat ? rope_keys / queries : 0);
    if (fold_values) {
        // v_proj per head: its rows for head h map the memory width to that head's d columns.
        const at::Tensor weight =
            v_proj.weight.view({num_heads, head_dim, v_in.size(-1)}).transpose(1, 2);
        out = runtime::threaded_matmul(out, weight);
        if (v_proj.bias.defined()) out = out + v_proj.bias.view({1, num_heads, 1, head_dim});
    }
    return out_proj.flat(out.transpose(1, 2).reshape({out.size(0), out.size(2), -1}));
}

at::Tensor MemoryAttentionLayer::operator()(const at::Tensor& tgt, const at::Tensor& memory,
                                            const at::Tensor& pos, const at::Tensor& query_pos,
                                            int64_t num_k_exclude_rope,
                                            const MemoryAttentionOptions& options) const {
    return with_keys(tgt, memory, options.pos_enc_at_cross_attn_keys ? memory + pos : memory,
                     query_pos, num_k_exclude_rope, options);
}

at::Tensor MemoryAttentionLayer::with_keys(const at::Tensor& tgt_in, const at::Tensor& memory,
                                           const at::Tensor& keys, const at::Tensor& query_pos,
                                           int64_t num_k_exclude_rope,
                                           const MemoryAttentionOptions& options,
                                           bool recurring) const {
    // _forward_sa: pre-norm self-attention, values without the position encoding.
    at::Tensor tgt2 = norm1(tgt_in);
    const at::Tensor qk = options.pos_enc_at_attn ? tgt2 + query_pos : tgt2;
    at::Tensor tgt = tgt_in + self_attn(qk, qk, tgt2);
    // _forward_ca: cross-attention to the memory (pointer tokens excluded from RoPE).
    tgt2 = norm2(tgt);
    tgt = tgt + cross_attn_image(options.pos_enc_at_cross_attn_queries ? tgt2 + query_pos : tgt2,
                                 keys, memory, num_k_exclude_rope, recurring);
    // MLP (dropout is the identity in eval).
    return tgt + linear2.flat(linear1.flat(norm3(tgt)).relu_());
}

MemoryAttention::MemoryAttention(const runtime::Weights& w, const MemoryAttentionOptions& options)
    : options_(options) {
    d_model_ = w.get(kPrefix + "norm.weight").size(0);
    const int count = w.count_children(kPrefix + "layers");
    if (count == 0) w.fail("missing tensor " + kPrefix + "layers.0.self_attn.q_proj.weight");
    mem_dim_ = w.get(kPrefix + "layers.0.cross_attn_image.k_proj.weight").size(1);
    const int64_t ffn = w.get(kPrefix + "layers.0.linear1.weight").size(0);
    for (int i = 0; i < count; ++i) {
        const std::string p = kPrefix + "layers." + std::to_string(i) + ".";
        MemoryAttentionLayer layer;
        layer.self_attn = RopeAttention::load(w, p + "self_attn", d_model_, d_model_,
                                              options.num_heads, options.rope_theta, false);
        // rope_k_repeat: the keys are several memory frames of the queries' grid.
        layer.cross_attn_image = RopeAttention::load(w, p + "cross_attn_image", d_model_, mem_dim_,
                                                     options.num_heads, options.rope_theta, true);
        layer.self_attn.chunk_bytes = layer.cross_attn_image.chunk_bytes =
            options.attention_chunk_bytes;
        layer.self_attn.tables = layer.cross_attn_image.tables = rope_tables_;
        layer.self_attn.stack_projections();
        layer.linear1 = runtime::Linear::load(w, p + "linear1", d_model_, ffn);
        layer.linear2 = runtime::Linear::load(w, p + "linear2", ffn, d_model_);
        layer.norm1 = runtime::LayerNorm::load(w, p + "norm1", d_model_, 1e-5);
        layer.norm2 = runtime::LayerNorm::load(w, p + "norm2", d_model_, 1e-5);
        layer.norm3 = runtime::LayerNorm::load(w, p + "norm3", d_model_, 1e-5);
        layers_.push_back(std::move(layer));
    }
    norm_ = runtime::LayerNorm::load(w, kPrefix + "norm", d_model_, 1e-5);
}

Result<MemoryAttention> MemoryAttention::load(const std::map<std::string, at::Tensor>& tensors,
                                              const std::string& file_label,
                                              const MemoryAttentionOptions& options) {
    return runtime::guarded(file_label + ": memory attention", [&]() -> Result<MemoryAttention> {
        return MemoryAttention(runtime::Weights(tensors, file_label), options);
    });
}

at::Tensor MemoryAttention::forward(const at::Tensor& curr, const at::Tensor& curr_pos,
                                    const at::Tensor& memory, const at::Tensor& memory_pos,
                                    int64_t num_obj_ptr_tokens) const {
    if (curr.size(1) != memory.size(1)) {
        throw std::invalid_argument("memory attention: batch " + std::to_string(curr.size(1)) +
                                    " of the frame vs " + std::to_string(memory.size(1)) +
                                    " of the memory");
    }
    // Inputs may come from the host (a stored memory bank): moved to the weights' device.
    const at::ScalarType type = dtype();
    const at::Device device = norm_.weight.device();
    at::Tensor output = curr.to(device, type);
    const at::Tensor query_pos = curr_pos.to(device, type);
    if (options_.pos_enc_at_input) output = output + 0.1 * query_pos;
    // batch_first: the layers run on B x N x C.
    output = output.transpose(0, 1);
    const at::Tensor qpos = query_pos.transpose(0, 1);
    const at::Tensor mem = memory.to(device, type).transpose(0, 1);
    const at::Tensor mpos = memory_pos.to(device, type).transpose(0, 1);
    // The cross attention's keys are the same in every layer: added once.
    const at::Tensor keys = options_.pos_enc_at_cross_attn_keys ? mem + mpos : mem;
    // Split per memory frame, the fused kernel's layout is the frame count (the pointers go apart).
    const bool split = splits_per_frame(output, options_.num_heads);
    const bool recurring =
        key_layouts_->recurring(mem.size(0), mem.size(1) - (split ? num_obj_ptr_tokens : 0));
    for (const MemoryAttentionLayer& layer : layers_) {
        output = layer.with_keys(output, mem, keys, qpos, num_obj_ptr_tokens, options_, recurring);
    }
    return norm_(output).transpose(0, 1);
}

at::Tensor condition_on_memory(const MemoryAttention& attention, const at::Tensor& pix_feat,
                               const at::Tensor& pix_pos, const MemoryTokens& tokens) {
    const int64_t B = pix_feat.size(0), C = pix_feat.size(1);
    const int64_t H = pix_feat.size(2), W = pix_feat.size(3);
    // (HW)BC in, as SAM2Base's current_vision_feats; back to BCHW as the reference's view.
    const auto sequence = [](const at::Tensor& x) { return x.flatten(2).permute({2, 0, 1}); };
    const at::Tensor out =
        attention.forward(sequence(pix_feat), sequence(pix_pos.expand({B, -1, -1, -1})),
                          tokens.memory, tokens.memory_pos, tokens.num_obj_ptr_tokens);
    return out.permute({1, 2, 0}).reshape({B, C, H, W});
}

// ---- memory bank ----

namespace {

// select_closest_cond_frames: every conditioning frame when max_cond_frame_num is -1 or not
// exceeded; else the closest before, the closest at or after, then the nearest others.
std::pair<std::vector<int64_t>, std::vector<int64_t>> select_closest_cond_frames(
    int64_t frame_idx, const std::vector<int64_t>& cond_frames, int64_t max_cond_frame_num) {
    if (max_cond_frame_num == -1 || static_cast<int64_t>(cond_frames.size()) <= max_cond_frame_num)
        return {cond_frames, {}};
    if (max_cond_frame_num < 2)
        throw std::invalid_argument("max_cond_frames_in_attn must allow 2+ conditioning frames");
    std::vector<int64_t> selected;
    std::optional<int64_t> before, after;
    for (int64_t t : cond_frames) {
        if (t < frame_idx && (!before || t > *before)) before = t;
        if (t >= frame_idx && (!after || t < *after)) after = t;
    }
    if (before) selected.push_back(*before);
    if (after) selected.push_back(*after);
    std::vector<int64_t> remain;
    for (int64_t t : cond_frames) {
        if (std::find(selected.begin(), selected.end(), t) == selected.end()) remain.push_back(t);
    }
    // Python's sorted is stable: ties keep the dict order.
    std::stable_sort(remain.begin(), remain.end(), [frame_idx](int64_t a, int64_t b) {
        return std::abs(a - frame_idx) < std::abs(b - frame_idx);
    });
    const int64_t room = max_cond_frame_num - static_cast<int64_t>(selected.size());
    for (int64_t i = 0; i < room && i < static_cast<int64_t>(remain.size()); ++i)
        selected.push_back(remain[static_cast<size_t>(i)]);
    std::vector<int64_t> unselected;
    for (int64_t t : cond_frames) {
        if (std::find(selected.begin(), selected.end(), t) == selected.end())
            unselected.push_back(t);
    }
    return {selected, unselected};
}

// Python's floor division for the strided frame choice.
int64_t floor_div(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

MemorySelection select_memories(int64_t frame_idx, const std::vector<int64_t>& cond_frames,
                                const std::vector<int64_t>& non_cond_frames, int64_t num_frames,
                                bool reverse, const MemoryBankOptions& options) {
    if (cond_frames.empty())
        throw std::invalid_argument("a tracked frame needs at least one conditioning frame");
    const auto [selected, unselected] =
        select_closest_cond_frames(frame_idx, cond_frames, options.max_cond_frames_in_attn);
    const std::set<int64_t> non_cond(non_cond_frames.begin(), non_cond_frames.end());
    const std::set<int64_t> unselected_set(unselected.begin(), unselected.end());
    // A frame's stored output: a tracked one, else an unselected conditioning one.
    const auto stored = [&](int64_t t) { return non_cond.count(t) || unselected_set.count(t); };

    MemorySelection out;
    for (int64_t t : selected) out.memories.push_back({t, 0});
    const int64_t stride = options.memory_temporal_stride;
    for (int64_t t_pos = 1; t_pos < options.num_maskmem; ++t_pos) {
        const int64_t t_rel = options.num_maskmem - t_pos;  // frames before (after) this one
        int64_t prev;
        if (t_rel == 1) {
            prev = reverse ? frame_idx + 1 : frame_idx - 1;
        } else if (!reverse) {
            prev = floor_div(frame_idx - 2, stride) * stride - (t_rel - 2) * stride;
        } else {
            prev = -floor_div(-(frame_idx + 2), stride) * stride + (t_rel - 2) * stride;
        }
        if (stored(prev)) out.memories.push_back({prev, t_pos});
    }

    const int64_t max_ptrs = std::min(num_frames, options.max_obj_ptrs_in_encoder);
    out.t_diff_max = max_ptrs - 1;
    const int64_t sign = reverse ? -1 : 1;
    for (int64_t t : selected) {
        // eval: only the conditioning frames at or before (reverse: at or after) this one
        if (options.only_obj_ptrs_in_the_past && (reverse ? t < frame_idx : t > frame_idx))
            continue;
        const int64_t distance = options.use_signed_tpos_enc_to_obj_ptrs ? (frame_idx - t) * sign
                                                                         : std::abs(frame_idx - t);
        out.pointers.push_back({t, distance});
    }
    for (int64_t t_diff = 1; t_diff < max_ptrs; ++t_diff) {
        const int64_t t = reverse ? frame_idx + t_diff : frame_idx - t_diff;
        if (t < 0 || t >= num_frames) break;
        if (stored(t)) out.pointers.push_back({t, t_diff});
    }
    return out;
}

at::Tensor sine_pe_1d(const at::Tensor& positions, int64_t dim, double temperature) {
    const int64_t pe_dim = dim / 2;
    at::Tensor dim_t =
        at::arange(pe_dim, at::TensorOptions().dtype(at::kFloat).device(positions.device()));
    dim_t = at::pow(temperature, 2 * at::floor_divide(dim_t, 2) / static_cast<double>(pe_dim));
    const at::Tensor pos = positions.unsqueeze(-1) / dim_t;
    return at::cat({pos.sin(), pos.cos()}, -1);
}

MemoryBank::MemoryBank(const runtime::Weights& w, const MemoryBankOptions& options)
    : options_(options) {
    const at::Tensor& tpos = w.get("maskmem_tpos_enc");
    if (tpos.dim() != 4 || tpos.size(0) != options.num_maskmem) {
        w.fail("tensor maskmem_tpos_enc has shape " + runtime::shape_string(tpos.sizes()) +
               ", expected [" + std::to_string(options.num_maskmem) + ", 1, 1, mem_dim]");
    }
    mem_dim_ = tpos.size(3);
    maskmem_tpos_enc_ = w.get("maskmem_tpos_enc", {options.num_maskmem, 1, 1, mem_dim_});
    // hidden_dim: the object pointers' width, that of no_obj_ptr / obj_ptr_proj.
    // hidden_dim (the pointers' width, SAM2Base.hidden_dim): the projection's input, since the
    // encoding it projects is as wide as a pointer.
    if (options.add_tpos_enc_to_obj_ptrs && options.proj_tpos_enc_in_obj_ptrs) {
        hidden_dim_ = w.get("obj_ptr_tpos_proj.weight").size(1);
        obj_ptr_tpos_proj_ = runtime::Linear::load(w, "obj_ptr_tpos_proj", hidden_dim_, mem_dim_);
    }
}

Result<MemoryBank> MemoryBank::load(const std::map<std::string, at::Tensor>& tensors,
                                    const std::string& file_label,
                                    const MemoryBankOptions& options) {
    return runtime::guarded(file_label + ": memory bank", [&]() -> Result<MemoryBank> {
        return MemoryBank(runtime::Weights(tensors, file_label), options);
    });
}

MemoryTokens MemoryBank::assemble(const MemorySelection& selection,
                                  const std::vector<at::Tensor>& features,
                                  const at::Tensor& pos_enc,
                                  const std::vector<at::Tensor>& pointers) const {
    if (features.size() != selection.memories.size() ||
        pointers.size() != selection.pointers.size()) {
        throw std::invalid_argument("memory bank: " + std::to_string(features.size()) +
                                    " memories and " + std::to_string(pointers.size()) +
                                    " pointers for a selection of " +
                                    std::to_string(selection.memories.size()) + " and " +
                                    std::to_string(selection.pointers.size()));
    }
    const at::ScalarType type = dtype();
    const at::Device device = maskmem_tpos_enc_.device();
    std::vector<at::Tensor> memory, memory_pos;
    // (HW)BC tokens of each memory, one block for all: stacked as stored (M x B x C x H x W),
    // cast once and laid out as M HW x B x C by one copy, where a cast, a flatten and a permute
    // per memory and their concatenation made some thirty calls. Their positions (spatial +
    // temporal) likewise one block.
    if (!features.empty()) {
        const at::Tensor stacked =
            features.size() == 1 ? features[0].unsqueeze(0) : at::stack(features, 0);
        const int64_t M = stacked.size(0), B = stacked.size(1), C = stacked.size(2);
        at::Tensor tokens = stacked.to(device, type).flatten(3).permute({0, 3, 1, 2});
        memory.push_back(tokens.reshape({M * tokens.size(1), B, C}));
        memory_pos.push_back(memory_positions(selection, pos_enc));
    }
    MemoryTokens out;
    if (!pointers.empty()) {
        const at::Tensor ptrs = at::stack(pointers, 0).to(device, type);  // P x B x C
        const int64_t B = ptrs.size(1), C = ptrs.size(2);
        if (obj_ptr_tpos_proj_.weight.defined() && C != hidden_dim_) {
            throw std::invalid_argument("memory bank: object pointers of width " +
                                        std::to_string(C) + ", the model's are " +
                                        std::to_string(hidden_dim_));
        }
        at::Tensor obj_pos;
        if (options_.add_tpos_enc_to_obj_ptrs) {
            obj_pos = pointer_positions(selection, C);
        } else {
            obj_pos = at::zeros({ptrs.size(0), 1, mem_dim_}, ptrs.options());
        }
        at::Tensor tokens = ptrs;
        if (mem_dim_ < C) {
            // a C-wide pointer becomes C / mem_dim tokens, each with the pointer's encoding
            tokens =
                ptrs.reshape({-1, B, C / mem_dim_, mem_dim_}).permute({0, 2, 1, 3}).flatten(0, 1);
            obj_pos = obj_pos.repeat_interleave(C / mem_dim_, 0);
        }
        out.num_obj_ptr_tokens = tokens.size(0);
        memory.push_back(tokens);
        memory_pos.push_back(obj_pos);
    }
    out.memory = memory.size() == 1 ? memory[0] : at::cat(memory, 0);
    // The same positions for every object of the batch: N x 1, expanded (no copy).
    const at::Tensor positions = memory_pos.size() == 1 ? memory_pos[0] : at::cat(memory_pos, 0);
    out.memory_pos = positions.expand({-1, out.memory.size(1), -1});
    return out;
}

at::Tensor MemoryBank::pointer_positions(const MemorySelection& selection, int64_t width) const {
    std::vector<int64_t> distances;
    for (const auto& p : selection.pointers) distances.push_back(p.tpos);
    const auto make = [&] {
        // torch.tensor(pos_list) / t_diff_max: int64 divided to float32 (the integers go up
        // without waiting for the GPU).
        const at::Tensor positions =
            runtime::upload(at::tensor(distances, at::TensorOptions().dtype(at::kLong)),
                            maskmem_tpos_enc_.device()) /
            selection.t_diff_max;
        const int64_t tpos_dim = options_.proj_tpos_enc_in_obj_ptrs ? width : mem_dim_;
        at::Tensor encoded = sine_pe_1d(positions, tpos_dim).to(dtype());
        if (obj_ptr_tpos_proj_.weight.defined()) encoded = obj_ptr_tpos_proj_.flat(encoded);
        return encoded.unsqueeze(1);
    };
    std::vector<int64_t> key = distances;
    key.push_back(selection.t_diff_max);
    key.push_back(width);
    std::lock_guard<std::mutex> lock(positions_->mutex);
    auto& cache = positions_->by_pointer_distances;
    if (cache.size() > 64) cache.clear();
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, make()).first;
    return it->second;
}

at::Tensor MemoryBank::memory_positions(const MemorySelection& selection,
                                        const at::Tensor& pos_enc) const {
    const auto make = [&] {
        const at::Tensor spatial =
            pos_enc.to(maskmem_tpos_enc_.device(), dtype()).flatten(2).permute({2, 0, 1});
        std::vector<at::Tensor> parts;
        for (const auto& m : selection.memories)
            parts.push_back(spatial + maskmem_tpos_enc_[options_.num_maskmem - m.t_pos - 1]);
        return at::cat(parts, 0);
    };
    std::vector<int64_t> t_pos;
    for (const auto& m : selection.memories) t_pos.push_back(m.t_pos);
    std::lock_guard<std::mutex> lock(positions_->mutex);
    PositionCache& cache = *positions_;
    // Keyed by the encoding too (one tensor for a model's sessions; a test may pass its own).
    if (!cache.pos_enc.defined() || !cache.pos_enc.is_same(pos_enc) || cache.by_tpos.size() > 64) {
        cache.by_tpos.clear();
        cache.pos_enc = pos_enc;
    }
    auto it = cache.by_tpos.find(t_pos);
    if (it == cache.by_tpos.end()) it = cache.by_tpos.emplace(t_pos, make()).first;
    return it->second;
}

}  // namespace ps::sam2
