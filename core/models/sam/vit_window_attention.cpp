#include "models/sam/vit_window_attention.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include <c10/cuda/CUDAStream.h>

#include "models/sam/cuda/vit_window_kernels.h"
#endif

namespace ps::sam {

bool window_kernels_compiled() {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    return at::hasCUDA();
#else
    return false;
#endif
}

bool window_kernels_usable(const at::Tensor& like) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::ScalarType type = like.scalar_type();
    return like.is_cuda() && (type == at::kBFloat16 || type == at::kHalf);
#else
    (void)like;
    return false;
#endif
}

at::Tensor pad_rel_table(const at::Tensor& table) {
    const int64_t rows = table.size(1), padded = (rows + 15) / 16 * 16;
    return padded == rows ? table : at::constant_pad_nd(table, {0, 0, 0, padded - rows});
}

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
namespace {

cuda::ElementType element_type(const at::Tensor& t) {
    switch (t.scalar_type()) {
        case at::kFloat:
            return cuda::ElementType::F32;
        case at::kHalf:
            return cuda::ElementType::F16;
        case at::kBFloat16:
            return cuda::ElementType::BF16;
        default:
            throw std::invalid_argument("ViT window kernels: unsupported element type");
    }
}

void check(cudaError_t status, const char* what) {
    if (status != cudaSuccess) {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
    }
}

int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

}  // namespace

WindowAttentionRows split_qkv_rel_pos(const at::Tensor& qkv, const at::Tensor& bias,
                                      const at::Tensor& rel_h, const at::Tensor& rel_w,
                                      int64_t heads, int64_t span_h, int64_t span_w, double scale) {
    const at::Tensor input = qkv.contiguous();
    const int64_t B = input.size(0), H = input.size(1), W = input.size(2);
    const int64_t head_dim = input.size(3) / 3 / heads;
    const at::Tensor table_h = pad_rel_table(rel_h.to(input.scalar_type())).contiguous();
    const at::Tensor table_w = pad_rel_table(rel_w.to(input.scalar_type())).contiguous();
    const at::Tensor bias_row = bias.defined() ? bias.to(input.scalar_type()).contiguous() : bias;
    if (table_h.size(0) != span_h || table_h.size(1) < span_h || table_h.size(2) != head_dim ||
        table_w.size(0) != span_w || table_w.size(1) < span_w || table_w.size(2) != head_dim) {
        throw std::invalid_argument(
            "ViT window kernels: relative-position tables do not match the window");
    }
    const int64_t rows = B * ceil_div(H, span_h) * ceil_div(W, span_w) * heads;
    const int64_t tokens = span_h * span_w, ext = extended_head_dim(head_dim, span_h, span_w);
    WindowAttentionRows out{at::empty({rows, tokens, ext}, input.options()),
                            at::empty({rows, tokens, ext}, input.options()),
                            at::empty({rows, tokens, head_dim}, input.options())};
    cuda::SplitQkvArgs args;
    args.qkv = input.data_ptr();
    args.bias = bias_row.defined() ? bias_row.data_ptr() : nullptr;
    args.rel_h = table_h.data_ptr();
    args.rel_w = table_w.data_ptr();
    args.table_rows_h = table_h.size(1);
    args.table_rows_w = table_w.size(1);
    args.q_ext = out.q.data_ptr();
    args.k_ext = out.k.data_ptr();
    args.v = out.v.data_ptr();
    args.batch = B;
    args.height = H;
    args.width = W;
    args.span_h = span_h;
    args.span_w = span_w;
    args.heads = heads;
    args.head_dim = head_dim;
    args.ext_dim = ext;
    args.scale = static_cast<float>(scale);
    check(cuda::split_qkv_rel_pos(args, element_type(input), c10::cuda::getCurrentCUDAStream()),
          "ViT window split kernel");
    return out;
}

at::Tensor merge_window_heads(const at::Tensor& attn, int64_t batch, int64_t height, int64_t width,
                              int64_t heads, int64_t span_h, int64_t span_w) {
    const at::Tensor input = attn.stride(-1) == 1 ? attn : attn.contiguous();
    const int64_t head_dim = input.size(2);
    at::Tensor out = at::empty({batch, height, width, heads * head_dim}, input.options());
    cuda::MergeArgs args;
    args.attn = input.data_ptr();
    args.stride_row = input.stride(0);
    args.stride_token = input.stride(1);
    args.out = out.data_ptr();
    args.batch = batch;
    args.height = height;
    args.width = width;
    args.span_h = span_h;
    args.span_w = span_w;
    args.heads = heads;
    args.head_dim = head_dim;
    check(cuda::merge_window_heads(args, element_type(input), c10::cuda::getCurrentCUDAStream()),
          "ViT window merge kernel");
    return out;
}

#else

WindowAttentionRows split_qkv_rel_pos(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                      const at::Tensor&, int64_t, int64_t, int64_t, double) {
    throw std::logic_error("ViT window kernels are not compiled into this build (no CUDA toolkit)");
}

at::Tensor merge_window_heads(const at::Tensor&, int64_t, int64_t, int64_t, int64_t, int64_t,
                              int64_t) {
    throw std::logic_error("ViT window kernels are not compiled into this build (no CUDA toolkit)");
}

#endif

}  // namespace ps::sam
