// See swin_windows.h. The CPU twins follow cuda/swin_window_kernels.cu token for token: the same
// source rows (cuda/swin_window_indexing.h), the mean, then the mean squared deviation, then
// (x - mean) / sqrt(var + eps) * weight + bias.
#include "models/runtime/swin_windows.h"

#include <ATen/ATen.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "models/runtime/cuda/swin_window_indexing.h"

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/swin_window_kernels.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {

cuda::SwinWindowIndexing indexing_of(const at::Tensor& x, int64_t window, int64_t shift) {
    return cuda::swin_window_indexing(x.size(1), x.size(2), window, shift);
}

// The (B * nW) x w² windows of B x H x W maps.
int64_t window_rows(const at::Tensor& x, const cuda::SwinWindowIndexing& ix) {
    return x.size(0) * ix.windows_per_image * ix.window * ix.window;
}

void check_windows(const at::Tensor& windows, const at::Tensor& x,
                   const cuda::SwinWindowIndexing& ix) {
    if (windows.dim() != 3 || windows.size(0) * windows.size(1) != window_rows(x, ix) ||
        windows.size(2) != x.size(3)) {
        throw std::invalid_argument("Swin window merge: windows do not tile the map");
    }
}

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
// Two passes over the map instead of ATen's nine (layer_norm, pad, roll, partition copy; the
// reverse copy, roll, crop, add, layer_norm).
bool kernels_apply(const at::Tensor& x, const LayerNorm& norm) {
    const at::ScalarType type = x.scalar_type();
    const auto like_x = [&](const at::Tensor& t) {
        return t.defined() && t.device() == x.device() && t.scalar_type() == type &&
               t.is_contiguous() && t.dim() == 1 && t.size(0) == x.size(3);
    };
    return x.is_cuda() && x.dim() == 4 && x.is_contiguous() &&
           (type == at::kFloat || type == at::kHalf || type == at::kBFloat16) &&
           like_x(norm.weight) && like_x(norm.bias);
}

cuda::SwinWindowGeometry window_geometry(const at::Tensor& x, int64_t window, int64_t shift) {
    cuda::SwinWindowGeometry g;
    g.batch = x.size(0);
    g.height = x.size(1);
    g.width = x.size(2);
    g.channels = x.size(3);
    g.window = window;
    g.shift = shift;
    return g;
}

cuda::SwinTokenNorm token_norm(const LayerNorm& norm) {
    cuda::SwinTokenNorm n;
    n.weight = norm.weight.data_ptr();
    n.bias = norm.bias.data_ptr();
    n.eps = static_cast<float>(norm.eps);
    return n;
}

#endif

// The twins' per-token normalisation of `channels` values value(c) into out(c, normalised).
template <typename F, typename Value, typename Out>
void normalise_token(int64_t channels, const F* weight, const F* bias, double eps, Value value,
                     Out out) {
    F sum = 0;
    for (int64_t c = 0; c < channels; ++c) sum += value(c);
    const F mean = sum / static_cast<F>(channels);
    F squares = 0;
    for (int64_t c = 0; c < channels; ++c) {
        const F d = value(c) - mean;
        squares += d * d;
    }
    const F variance = squares / static_cast<F>(channels);
    const F rstd = F(1) / std::sqrt(variance + static_cast<F>(eps));
    for (int64_t c = 0; c < channels; ++c) out(c, (value(c) - mean) * rstd * weight[c] + bias[c]);
}

void check_twin(const at::Tensor& x, const LayerNorm& norm) {
    const at::ScalarType type = x.scalar_type();
    if (!x.device().is_cpu() || x.dim() != 4 || (type != at::kFloat && type != at::kDouble) ||
        norm.weight.scalar_type() != type || norm.bias.scalar_type() != type) {
        throw std::invalid_argument("Swin window twins: CPU float or double tensors only");
    }
}

template <typename F>
void partition_norm_twin(const F* tokens, const F* weight, const F* bias, double eps, F* windows,
                         const cuda::SwinWindowIndexing& ix, int64_t rows, int64_t channels) {
    for (int64_t token = 0; token < rows; ++token) {
        F* out = windows + token * channels;
        const int64_t source = cuda::window_source_token(ix, token);
        if (source < 0) {
            for (int64_t c = 0; c < channels; ++c) out[c] = F(0);
            continue;
        }
        const F* in = tokens + source * channels;
        normalise_token<F>(
            channels, weight, bias, eps, [&](int64_t c) { return in[c]; },
            [&](int64_t c, F v) { out[c] = v; });
    }
}

template <typename F>
void merge_add_norm_twin(const F* windows, const F* residual, const F* weight, const F* bias,
                         double eps, F* sums, F* normed, const cuda::SwinWindowIndexing& ix,
                         int64_t tokens, int64_t channels) {
    for (int64_t token = 0; token < tokens; ++token) {
        const F* row = windows + cuda::merged_window_row(ix, token) * channels;
        const F* res = residual + token * channels;
        F* sum = sums + token * channels;
        for (int64_t c = 0; c < channels; ++c) sum[c] = res[c] + row[c];
        normalise_token<F>(
            channels, weight, bias, eps, [&](int64_t c) { return sum[c]; },
            [&](int64_t c, F v) { normed[token * channels + c] = v; });
    }
}

}  // namespace

at::Tensor swin_window_partition(const at::Tensor& x, int64_t w) {
    const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
    return x.view({B, H / w, w, W / w, w, C}).permute({0, 1, 3, 2, 4, 5}).reshape({-1, w * w, C});
}

at::Tensor swin_window_reverse(const at::Tensor& windows, int64_t w, int64_t B, int64_t H,
                               int64_t W) {
    const int64_t C = windows.size(-1);
    return windows.view({B, H / w, W / w, w, w, C})
        .permute({0, 1, 3, 2, 4, 5})
        .reshape({B, H, W, C});
}

at::Tensor swin_norm_partition(const at::Tensor& x, const LayerNorm& norm, int64_t window,
                               int64_t shift) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (kernels_apply(x, norm)) {
        const cuda::SwinWindowIndexing ix = indexing_of(x, window, shift);
        at::Tensor windows = at::empty(
            {window_rows(x, ix) / (window * window), window * window, x.size(3)}, x.options());
        check_launch(
            cuda::swin_partition_windows_norm(x.data_ptr(), token_norm(norm), windows.data_ptr(),
                                              window_geometry(x, window, shift),
                                              cuda_element_type(x.scalar_type()), stream_of(x)),
            "Swin window partition");
        return windows;
    }
#endif
    const int64_t H = x.size(1), W = x.size(2);
    const int64_t pad_r = (window - W % window) % window, pad_b = (window - H % window) % window;
    // Padded tokens are zeros after the norm; they are not masked out, as in the reference.
    at::Tensor h = norm(x);
    if (pad_r > 0 || pad_b > 0) h = at::constant_pad_nd(h, {0, 0, 0, pad_r, 0, pad_b});
    if (shift > 0) h = at::roll(h, {-shift, -shift}, {1, 2});
    return swin_window_partition(h, window);
}

SwinResidual swin_merge_add_norm(const at::Tensor& windows, const at::Tensor& x,
                                 const LayerNorm& norm, int64_t window, int64_t shift,
                                 const at::Tensor& sum_bias) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (kernels_apply(x, norm) && windows.scalar_type() == x.scalar_type() &&
        (!sum_bias.defined() ||
         (sum_bias.scalar_type() == x.scalar_type() && sum_bias.device() == x.device() &&
          sum_bias.is_contiguous() && sum_bias.numel() == x.size(-1)))) {
        check_windows(windows, x, indexing_of(x, window, shift));
        const at::Tensor rows = windows.contiguous();
        SwinResidual r{at::empty_like(x), at::empty_like(x)};
        check_launch(cuda::swin_merge_windows_add_norm(
                         rows.data_ptr(), x.data_ptr(), token_norm(norm), r.sum.data_ptr(),
                         r.normed.data_ptr(), window_geometry(x, window, shift),
                         cuda_element_type(x.scalar_type()), stream_of(x),
                         sum_bias.defined() ? sum_bias.data_ptr() : nullptr),
                     "Swin window merge");
        return r;
    }
#endif
    const int64_t B = x.size(0), H = x.size(1), W = x.size(2);
    const cuda::SwinWindowIndexing ix = indexing_of(x, window, shift);
    at::Tensor h = swin_window_reverse(windows, window, B, ix.padded_h, ix.padded_w);
    if (shift > 0) h = at::roll(h, {shift, shift}, {1, 2});
    if (ix.padded_h > H || ix.padded_w > W) h = h.slice(1, 0, H).slice(2, 0, W);
    SwinResidual r;
    r.sum = x + h;
    r.normed = norm(r.sum);
    if (sum_bias.defined()) r.sum = r.sum + sum_bias;
    return r;
}

at::Tensor swin_norm_partition_twin(const at::Tensor& x_, const LayerNorm& norm, int64_t window,
                                    int64_t shift) {
    check_twin(x_, norm);
    const at::Tensor x = x_.contiguous();
    const at::Tensor weight = norm.weight.contiguous(), bias = norm.bias.contiguous();
    const cuda::SwinWindowIndexing ix = indexing_of(x, window, shift);
    const int64_t rows = window_rows(x, ix), C = x.size(3);
    at::Tensor windows = at::empty({rows / (window * window), window * window, C}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "swin_norm_partition_twin", [&] {
        partition_norm_twin<scalar_t>(x.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
                                      bias.data_ptr<scalar_t>(), norm.eps,
                                      windows.data_ptr<scalar_t>(), ix, rows, C);
    });
    return windows;
}

SwinResidual swin_merge_add_norm_twin(const at::Tensor& windows_, const at::Tensor& x_,
                                      const LayerNorm& norm, int64_t window, int64_t shift) {
    check_twin(x_, norm);
    if (windows_.scalar_type() != x_.scalar_type())
        throw std::invalid_argument("Swin window twins: windows and map of different types");
    const at::Tensor x = x_.contiguous(), windows = windows_.contiguous();
    const at::Tensor weight = norm.weight.contiguous(), bias = norm.bias.contiguous();
    const cuda::SwinWindowIndexing ix = indexing_of(x, window, shift);
    check_windows(windows, x, ix);
    SwinResidual r{at::empty_like(x), at::empty_like(x)};
    const int64_t tokens = x.size(0) * x.size(1) * x.size(2), C = x.size(3);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "swin_merge_add_norm_twin", [&] {
        merge_add_norm_twin<scalar_t>(windows.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(),
                                      weight.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(),
                                      norm.eps, r.sum.data_ptr<scalar_t>(),
                                      r.normed.data_ptr<scalar_t>(), ix, tokens, C);
    });
    return r;
}

}  // namespace ps::runtime
