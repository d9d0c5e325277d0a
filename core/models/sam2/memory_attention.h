// SAM 2's memory attention (sam2/modeling/memory_attention.py with transformer.py's RoPEAttention)
// and SAM2Base._prepare_memory_conditioned_features's memory bank: which past frames and object
// pointers a frame attends to, and their tokens with spatial and temporal position encodings.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/result.h"
#include "models/runtime/attention_projections.h"
#include "models/runtime/layers.h"

namespace ps::sam2 {

// Not stored in the checkpoint (sam2/configs/sam2.1/*.yaml, the same in all four).
struct MemoryAttentionOptions {
    int64_t num_heads = 1;         // self_attention / cross_attention num_heads
    double rope_theta = 10000.0;   // RoPEAttention rope_theta
    bool pos_enc_at_input = true;  // curr + 0.1 * curr_pos before the layers
    bool pos_enc_at_attn = false;  // self-attention queries / keys get curr_pos
    bool pos_enc_at_cross_attn_queries = false;
    bool pos_enc_at_cross_attn_keys = true;  // memory + memory_pos as keys
    // Queries are attended a slice at a time so that one attention matrix stays under this many
    // bytes: at 1024² the cross attention is 4096 queries x (7 x 4096 + 64) keys, 470 MB in
    // float32. Rows of a softmax are independent: the peak memory changes, and the matrix
    // products' float32 rounding (1.3e-6 on outputs up to 4.2, test_sam2_memory).
    int64_t attention_chunk_bytes = int64_t(128) << 20;
};

// The axial rotations of a query grid, made once per (head width, grid side, theta, device) and
// shared by every layer: they were rebuilt (a dozen kernels) in each attention of each tracked
// frame. Thread-safe; the model is shared by sessions.
class RopeTables {
  public:
    at::Tensor get(int64_t dim, int64_t side, double theta, const at::Device& device);

  private:
    std::mutex mutex_;
    std::map<std::tuple<int64_t, int64_t, double, int, int>, at::Tensor> tables_;
};

// The cross attention's key layouts (objects, keys) seen so far. cuDNN's fused attention, the
// first choice of scaled_dot_product_attention on Hopper in PyTorch 2.11, builds an execution
// plan for every new layout (~40 ms of host time each on an H100): a video's first 16 tracked
// frames bring a new key count each (the bank filling up, and again after a new prompt), while
// later frames repeat one. New layouts go through FlashAttention, which has no plan; a layout
// seen before may earn cuDNN's. Thread-safe; the model is shared by sessions.
// One object's cross attention split per memory frame on the GPU in half precision (the frames
// as heads of one cuDNN call, merged by their log-sum-exps) once its layout recurs; process-wide,
// set by the engine (GpuSwitches::split_attention, PHOTOSYNTH_SPLIT_ATTENTION=0 for one call).
void set_split_attention(bool enabled);

class KeyLayouts {
  public:
    // Whether (batch, keys) came before; records it.
    bool recurring(int64_t batch, int64_t keys);

  private:
    std::mutex mutex_;
    std::set<std::pair<int64_t, int64_t>> seen_;
};

// Attention with 2-D axial rotary position encoding on queries and keys (RoPEAttention). The
// token grid is square (w = h = sqrt(queries), as the reference assumes); with `rope_k_repeat`
// the keys are several such grids (one per memory frame) and get the queries' rotation repeated.
// The last `num_k_exclude_rope` keys (object pointers) are not rotated.
struct RopeAttention : runtime::AttentionProjections {
    double theta = 10000.0;
    bool rope_k_repeat = false;
    int64_t chunk_bytes = int64_t(128) << 20;  // MemoryAttentionOptions::attention_chunk_bytes
    std::shared_ptr<RopeTables> tables;        // null: the rotations made on each call
    // q_proj, k_proj and v_proj stacked (made at load for the self-attention, whose queries, keys
    // and values are one tensor): one product instead of three. Undefined: three products.
    runtime::Linear qkv_proj;
    void stack_projections();
    static RopeAttention load(const runtime::Weights& w, const std::string& prefix, int64_t dim,
                              int64_t kv_in_dim, int64_t heads, double theta, bool rope_k_repeat);
    // Batch first: q B x Nq x dim, k and v B x Nk x kv_in_dim. `recurring`: this layout came
    // before (KeyLayouts), so a fused kernel with a per-layout plan is worth its plan.
    at::Tensor operator()(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          int64_t num_k_exclude_rope = 0, bool recurring = false) const;

  private:
    // From the projected, head-split q, k and v on: rotations, attention, out_proj.
    at::Tensor attend_rotated(at::Tensor q, at::Tensor k, const at::Tensor& v,
                              const at::Tensor& v_in, bool fold_values,
                              int64_t num_k_exclude_rope) const;
};

// compute_axial_cis(dim, end_x, end_y, theta): (end_x * end_y) x dim/2 complex64 rotations, the
// x frequencies then the y ones, token t at (t % end_x, t / end_x).
at::Tensor axial_rotary_frequencies(int64_t dim, int64_t end_x, int64_t end_y, double theta,
                                    const at::Device& device);

struct MemoryAttentionLayer {
    RopeAttention self_attn, cross_attn_image;
    runtime::Linear linear1, linear2;  // ReLU between (yaml activation: relu)
    runtime::LayerNorm norm1, norm2, norm3;
    // Batch first: tgt B x HW x C, memory and pos B x N x mem_dim, query_pos B x HW x C.
    at::Tensor operator()(const at::Tensor& tgt, const at::Tensor& memory, const at::Tensor& pos,
                          const at::Tensor& query_pos, int64_t num_k_exclude_rope,
                          const MemoryAttentionOptions& options) const;
    // The same with the cross attention's keys given (memory + pos when
    // pos_enc_at_cross_attn_keys): the same for every layer, so MemoryAttention adds them once.
    at::Tensor with_keys(const at::Tensor& tgt, const at::Tensor& memory, const at::Tensor& keys,
                         const at::Tensor& query_pos, int64_t num_k_exclude_rope,
                         const MemoryAttentionOptions& options, bool recurring = false) const;
};

class MemoryAttention {
  public:
    // memory_attention.*: d_model, the memory width (kv_in_dim), the FFN width and the layer
    // count from the shapes.
    MemoryAttention(const runtime::Weights& w, const MemoryAttentionOptions& options = {});
    static Result<MemoryAttention> load(const std::map<std::string, at::Tensor>& tensors,
                                        const std::string& file_label,
                                        const MemoryAttentionOptions& options = {});

    // MemoryAttention.forward, sequence first as SAM2Base calls it: curr HW x B x C (the frame's
    // lowest-resolution features), curr_pos alike, memory and memory_pos N x B x mem_dim, the
    // last num_obj_ptr_tokens of them object pointers. Returns the normed output, HW x B x C.
    at::Tensor forward(const at::Tensor& curr, const at::Tensor& curr_pos, const at::Tensor& memory,
                       const at::Tensor& memory_pos, int64_t num_obj_ptr_tokens) const;

    int64_t d_model() const { return d_model_; }
    int64_t mem_dim() const { return mem_dim_; }
    at::ScalarType dtype() const { return norm_.weight.scalar_type(); }

  private:
    MemoryAttentionOptions options_;
    std::shared_ptr<RopeTables> rope_tables_ = std::make_shared<RopeTables>();
    std::shared_ptr<KeyLayouts> key_layouts_ = std::make_shared<KeyLayouts>();
    int64_t d_model_ = 256, mem_dim_ = 64;
    std::vector<MemoryAttentionLayer> layers_;
    runtime::LayerNorm norm_;
};

// ---- the memory bank (SAM2Base._prepare_memory_conditioned_features, eval) ----

// SAM2Base's defaults and the sam2.1 yaml; none is stored.
struct MemoryBankOptions {
    int64_t num_maskmem = 7;               // maskmem_tpos_enc's first dimension
    int64_t max_cond_frames_in_attn = -1;  // -1: every conditioning frame
    int64_t memory_temporal_stride = 1;    // memory_temporal_stride_for_eval
    int64_t max_obj_ptrs_in_encoder = 16;
    bool only_obj_ptrs_in_the_past = true;  // only_obj_ptrs_in_the_past_for_eval
    bool use_signed_tpos_enc_to_obj_ptrs = true;
    bool add_tpos_enc_to_obj_ptrs = true;
    bool proj_tpos_enc_in_obj_ptrs = true;
};

// Which stored outputs a frame attends to, in the order their tokens are concatenated.
struct MemorySelection {
    struct Memory {
        int64_t frame;
        int64_t t_pos;  // 0: conditioning frame; else num_maskmem - frames away
    };
    struct Pointer {
        int64_t frame;
        int64_t tpos;  // the signed distance the temporal encoding sees
    };
    std::vector<Memory> memories;
    std::vector<Pointer> pointers;
    int64_t t_diff_max = 1;  // min(num_frames, max_obj_ptrs_in_encoder) - 1: tpos is divided by it
};

// cond_frames: the object's conditioning frames in the order they were added (the reference's
// dict order); non_cond_frames: frames with a tracked (non-conditioning) output. `reverse`:
// tracking backwards in time.
MemorySelection select_memories(int64_t frame_idx, const std::vector<int64_t>& cond_frames,
                                const std::vector<int64_t>& non_cond_frames, int64_t num_frames,
                                bool reverse, const MemoryBankOptions& options = {});

struct MemoryTokens {
    at::Tensor memory;      // N x B x mem_dim
    at::Tensor memory_pos;  // N x B x mem_dim (expanded from N x 1 when the batch shares it)
    int64_t num_obj_ptr_tokens = 0;
};

// The end of _prepare_memory_conditioned_features for a tracked frame: pix_feat (B x C x H x W,
// the frame's lowest-resolution features without no_mem_embed) and pix_pos (its sine encoding,
// 1 or B x C x H x W) attend to the bank; returns the conditioned features, B x C x H x W.
at::Tensor condition_on_memory(const MemoryAttention& attention, const at::Tensor& pix_feat,
                               const at::Tensor& pix_pos, const MemoryTokens& tokens);

// maskmem_tpos_enc and obj_ptr_tpos_proj: the temporal encodings of memories and pointers.
class MemoryBank {
  public:
    MemoryBank(const runtime::Weights& w, const MemoryBankOptions& options = {});
    static Result<MemoryBank> load(const std::map<std::string, at::Tensor>& tensors,
                                   const std::string& file_label,
                                   const MemoryBankOptions& options = {});

    // The tokens of `selection`: features[i] (B x mem_dim x H x W, the stored bf16-rounded
    // maskmem_features) for selection.memories[i], pos_enc the memory encoder's maskmem_pos_enc
    // (1 x mem_dim x H x W), pointers[i] (B x C) for selection.pointers[i]. Everything is cast to
    // the bank's dtype (the reference's torch.cat promotes the bf16 memories to it). A batch of
    // B objects shares the selection, so its position encodings are made once and expanded.
    MemoryTokens assemble(const MemorySelection& selection, const std::vector<at::Tensor>& features,
                          const at::Tensor& pos_enc, const std::vector<at::Tensor>& pointers) const;

    const MemoryBankOptions& options() const { return options_; }
    at::ScalarType dtype() const { return maskmem_tpos_enc_.scalar_type(); }

  private:
    // The memories' position encodings (spatial + temporal, (M HW) x 1 x mem_dim) for one list
    // of t_pos and one pos_enc: the same on nearly every tracked frame, so made once.
    at::Tensor memory_positions(const MemorySelection& selection, const at::Tensor& pos_enc) const;
    // The object pointers' temporal encodings (P x 1 x width, projected where the checkpoint has
    // the projection) for `selection`'s pointers, `width` channels wide; cached likewise.
    at::Tensor pointer_positions(const MemorySelection& selection, int64_t width) const;

    struct PositionCache {
        std::mutex mutex;
        at::Tensor pos_enc;  // the pos_enc the entries were made from
        std::map<std::vector<int64_t>, at::Tensor> by_tpos;
        // The pointers' encodings by their distances, t_diff_max and width (appended to the key):
        // the same on every tracked frame once the bank is full, so made once, not ~12 launches
        // a frame.
        std::map<std::vector<int64_t>, at::Tensor> by_pointer_distances;
    };
    MemoryBankOptions options_;
    std::shared_ptr<PositionCache> positions_ = std::make_shared<PositionCache>();
    int64_t hidden_dim_ = 256, mem_dim_ = 64;
    at::Tensor maskmem_tpos_enc_;        // num_maskmem x 1 x 1 x mem_dim
    runtime::Linear obj_ptr_tpos_proj_;  // undefined when the checkpoint has none (identity)
};

// get_1d_sine_pe(pos_inds, dim, temperature 10000): N x dim, the sines then the cosines.
at::Tensor sine_pe_1d(const at::Tensor& positions, int64_t dim, double temperature = 10000.0);

}  // namespace ps::sam2
