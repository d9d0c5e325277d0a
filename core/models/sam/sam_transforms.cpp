// Pre- and post-processing exactly as ../shared/golden/SAM.md states it.
#include "models/sam/sam_transforms.h"

#include <ATen/ATen.h>

#include <opencv2/core/utility.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "image/pil_resize.h"
#include "image/prefaulted_allocator.h"
#include "models/sam/sam_types.h"

namespace ps::sam {

Size2 longest_side_size(Size2 original, int target) {
    const double scale = static_cast<double>(target) / std::max(original.height, original.width);
    // SAM's get_preprocess_shape rounds a 5000×1 image to 1024×0; one pixel is the least a side
    // can keep, so thin images work (the only departure from the reference, for sides < 0.5 px).
    return {std::max(1, static_cast<int>(original.height * scale + 0.5)),
            std::max(1, static_cast<int>(original.width * scale + 0.5))};
}

cv::Mat resize_longest_side(const cv::Mat& rgb, int target) {
    const Size2 size = longest_side_size({rgb.rows, rgb.cols}, target);
    return image::pil_resize_bilinear(rgb, size.width, size.height);
}

at::Tensor normalize_and_pad(const at::Tensor& resized_hwc, int target) {
    const auto opts = at::TensorOptions().dtype(at::kFloat).device(resized_hwc.device());
    const at::Tensor mean = at::tensor({123.675f, 116.28f, 103.53f}, opts).view({1, 3, 1, 1});
    const at::Tensor std = at::tensor({58.395f, 57.12f, 57.375f}, opts).view({1, 3, 1, 1});
    const at::Tensor chw = resized_hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
    const at::Tensor normalised = (chw - mean) / std;
    const int64_t pad_h = target - resized_hwc.size(0), pad_w = target - resized_hwc.size(1);
    return at::constant_pad_nd(normalised, {0, pad_w, 0, pad_h});
}

float scale_coord(double value, int resized_extent, int original_extent) {
    return static_cast<float>(value * (static_cast<double>(resized_extent) / original_extent));
}

PromptTensors prompt_to_tensors(const SamPrompt& prompt, Size2 original, Size2 resized,
                                at::Device device) {
    PromptTensors out;
    std::vector<float> coords;
    for (const SamPoint& p : prompt.points) {
        coords.push_back(scale_coord(p.x, resized.width, original.width));
        coords.push_back(scale_coord(p.y, resized.height, original.height));
        out.labels.push_back(p.label);
    }
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    if (!coords.empty()) out.point_coords = at::tensor(coords, opts).view({-1, 2}).to(device);
    if (prompt.box) {
        // apply_boxes treats the box as two points.
        const auto& b = *prompt.box;
        out.box = at::tensor({scale_coord(b[0], resized.width, original.width),
                              scale_coord(b[1], resized.height, original.height),
                              scale_coord(b[2], resized.width, original.width),
                              scale_coord(b[3], resized.height, original.height)},
                             opts)
                      .to(device);
    }
    if (prompt.mask_input) out.mask_input = prompt.mask_input->logits;
    return out;
}

at::Tensor upscale_logits(const at::Tensor& low_res_logits, int target, Size2 resized,
                          Size2 original) {
    at::Tensor masks = at::upsample_bilinear2d(low_res_logits, {target, target}, false);
    masks = masks.slice(2, 0, resized.height).slice(3, 0, resized.width);
    return at::upsample_bilinear2d(masks, {original.height, original.width}, false);
}

namespace {

// One axis of cv::resize's INTER_LINEAR on floats (resizeGeneric_ with HResizeLinear and
// VResizeLinear): the same float weights computed the same way, so that
// src[first] * weight_first + src[second] * weight_second, horizontal pass first, reproduces
// OpenCV to the bit. OpenCV clamps the position at the borders along x (weight 1 on the edge
// sample) but only the row indices along y (the weights keep their unclamped fraction).
// `used` outputs are laid out: the first stage only needs the crop [:H', :W'] of target x target.
struct LinearAxis {
    std::vector<int> first, second;
    std::vector<float> weight_first, weight_second;
};

LinearAxis linear_axis(int in_size, int out_size, int used, bool clamp_position) {
    LinearAxis axis;
    axis.first.resize(used);
    axis.second.resize(used);
    axis.weight_first.resize(used);
    axis.weight_second.resize(used);
    // 1 / (out / in), not in / out: OpenCV's scale, which can differ in the last bit.
    const double scale = 1.0 / (static_cast<double>(out_size) / in_size);
    for (int o = 0; o < used; ++o) {
        float fraction = static_cast<float>((o + 0.5) * scale - 0.5);
        int source = cvFloor(fraction);
        fraction -= static_cast<float>(source);
        if (clamp_position && source < 0) fraction = 0.f, source = 0;
        if (clamp_position && source >= in_size - 1) fraction = 0.f, source = in_size - 1;
        axis.first[o] = std::clamp(source, 0, in_size - 1);
        axis.second[o] = std::clamp(source + 1, 0, in_size - 1);
        axis.weight_first[o] = 1.f - fraction;
        axis.weight_second[o] = fraction;
    }
    return axis;
}

// Outputs [begin, end) of one row resampled along `axis` into out[begin, end). Plain multiply
// and add, as OpenCV's float path does (the build targets baseline x86-64: no FMA contraction).
void resample_row(const float* src, const LinearAxis& axis, int begin, int end, float* out) {
    const int* first = axis.first.data();
    const int* second = axis.second.data();
    const float* weight_first = axis.weight_first.data();
    const float* weight_second = axis.weight_second.data();
    for (int x = begin; x < end; ++x) {
        out[x] = src[first[x]] * weight_first[x] + src[second[x]] * weight_second[x];
    }
}

// The vertical pass; __restrict lets GCC vectorise both loops.
void blend_rows(const float* __restrict a, float weight_a, const float* __restrict b,
                float weight_b, int length, float* __restrict out) {
    for (int x = 0; x < length; ++x) out[x] = a[x] * weight_a + b[x] * weight_b;
}

void blend_rows_threshold(const float* __restrict a, float weight_a, const float* __restrict b,
                          float weight_b, int length, uint8_t* __restrict out) {
    for (int x = 0; x < length; ++x) out[x] = a[x] * weight_a + b[x] * weight_b > 0.f ? 255 : 0;
}

// The output is cut into tiles; a tile whose low-res neighbourhood (every logit any of its
// pixels interpolates from, through both resizes) has one sign is filled with memset, since a
// bilinear value of same-signed samples with non-negative weights keeps their sign (up to
// underflow of products of ~1e-38 logits). Only tiles on the mask's edge are interpolated.
// 64 x 32 measured best among 32..128 x 32..128 on smooth and on noise logits.
constexpr int kTileCols = 64, kTileRows = 32;

enum class TileSign : signed char { mixed = 0, positive = 1, not_positive = -1 };

struct MaskUpscalePlan {
    int low_cols = 0, mid_cols = 0, out_rows = 0, out_cols = 0;
    int tile_rows = 0, tile_cols = 0;
    LinearAxis low_x, low_y;  // low-res logits -> the target x target square, cropped
    LinearAxis mid_x, mid_y;  // crop -> original size
    // Per tile column / row: the inclusive range of low-res columns / rows it reads.
    std::vector<int> low_col_first, low_col_last, low_row_first, low_row_last;
};

MaskUpscalePlan make_plan(Size2 low, int target, Size2 resized, Size2 original) {
    MaskUpscalePlan plan;
    plan.low_cols = low.width;
    plan.mid_cols = resized.width;
    plan.out_rows = original.height;
    plan.out_cols = original.width;
    plan.low_x = linear_axis(low.width, target, resized.width, true);
    plan.low_y = linear_axis(low.height, target, resized.height, false);
    plan.mid_x = linear_axis(resized.width, original.width, original.width, true);
    plan.mid_y = linear_axis(resized.height, original.height, original.height, false);
    plan.tile_cols = (original.width + kTileCols - 1) / kTileCols;
    plan.tile_rows = (original.height + kTileRows - 1) / kTileRows;
    for (int t = 0; t < plan.tile_cols; ++t) {
        const int last = std::min(original.width, (t + 1) * kTileCols) - 1;
        plan.low_col_first.push_back(plan.low_x.first[plan.mid_x.first[t * kTileCols]]);
        plan.low_col_last.push_back(plan.low_x.second[plan.mid_x.second[last]]);
    }
    for (int t = 0; t < plan.tile_rows; ++t) {
        const int last = std::min(original.height, (t + 1) * kTileRows) - 1;
        plan.low_row_first.push_back(plan.low_y.first[plan.mid_y.first[t * kTileRows]]);
        plan.low_row_last.push_back(plan.low_y.second[plan.mid_y.second[last]]);
    }
    return plan;
}

std::vector<TileSign> tile_signs(const float* low, const MaskUpscalePlan& plan) {
    std::vector<TileSign> signs(static_cast<size_t>(plan.tile_rows) * plan.tile_cols);
    for (int ty = 0; ty < plan.tile_rows; ++ty) {
        for (int tx = 0; tx < plan.tile_cols; ++tx) {
            int positive = 0, total = 0;
            for (int y = plan.low_row_first[ty]; y <= plan.low_row_last[ty]; ++y) {
                const float* row = low + static_cast<size_t>(y) * plan.low_cols;
                for (int x = plan.low_col_first[tx]; x <= plan.low_col_last[tx]; ++x) {
                    positive += row[x] > 0.f;
                    ++total;
                }
            }
            signs[static_cast<size_t>(ty) * plan.tile_cols + tx] =
                positive == total ? TileSign::positive
                                  : (positive == 0 ? TileSign::not_positive : TileSign::mixed);
        }
    }
    return signs;
}

// A row of an intermediate image and its index. Rows are visited in increasing order, so two
// per stage suffice: the one about to be read together with the newest.
struct CachedRow {
    int index = -1;
    std::vector<float> values;
    std::vector<float> resampled;      // mid rows: `values` resampled to the output width...
    std::vector<char> tile_resampled;  // ...filled tile by tile, where a mixed tile needs it
};

template <class Fill>
CachedRow& cached_row(CachedRow (&rows)[2], int index, int keep_index, const Fill& fill) {
    for (CachedRow& row : rows) {
        if (row.index == index) return row;
    }
    CachedRow& row = rows[0].index == keep_index ? rows[1] : rows[0];
    row.index = index;
    fill(row);
    return row;
}

// Output rows [row_begin, row_end) of one mask.
void threshold_rows(const float* low, const MaskUpscalePlan& plan, const TileSign* signs,
                    int row_begin, int row_end, cv::Mat& mask) {
    CachedRow low_rows[2], mid_rows[2];
    for (CachedRow& row : low_rows) row.values.resize(plan.mid_cols);
    for (CachedRow& row : mid_rows) {
        row.values.resize(plan.mid_cols);
        row.resampled.resize(plan.out_cols);
        row.tile_resampled.resize(plan.tile_cols);
    }
    const auto fill_low_row = [&](CachedRow& row) {
        resample_row(low + static_cast<size_t>(row.index) * plan.low_cols, plan.low_x, 0,
                     plan.mid_cols, row.values.data());
    };
    const auto fill_mid_row = [&](CachedRow& row) {
        const int a = plan.low_y.first[row.index], b = plan.low_y.second[row.index];
        const CachedRow& row_a = cached_row(low_rows, a, b, fill_low_row);
        const CachedRow& row_b = cached_row(low_rows, b, a, fill_low_row);
        blend_rows(row_a.values.data(), plan.low_y.weight_first[row.index], row_b.values.data(),
                   plan.low_y.weight_second[row.index], plan.mid_cols, row.values.data());
        std::fill(row.tile_resampled.begin(), row.tile_resampled.end(), 0);
    };
    const auto resampled_tile = [&](CachedRow& row, int tile, int begin, int end) {
        if (!row.tile_resampled[tile]) {
            resample_row(row.values.data(), plan.mid_x, begin, end, row.resampled.data());
            row.tile_resampled[tile] = 1;
        }
        return row.resampled.data() + begin;
    };
    for (int y = row_begin; y < row_end; ++y) {
        const TileSign* row_signs = signs + static_cast<size_t>(y / kTileRows) * plan.tile_cols;
        uint8_t* out = mask.ptr<uint8_t>(y);
        const int r0 = plan.mid_y.first[y], r1 = plan.mid_y.second[y];
        for (int tx = 0; tx < plan.tile_cols; ++tx) {
            const int begin = tx * kTileCols, end = std::min(plan.out_cols, begin + kTileCols);
            if (row_signs[tx] != TileSign::mixed) {
                std::memset(out + begin, row_signs[tx] == TileSign::positive ? 255 : 0,
                            end - begin);
                continue;
            }
            CachedRow& mid0 = cached_row(mid_rows, r0, r1, fill_mid_row);
            CachedRow& mid1 = cached_row(mid_rows, r1, r0, fill_mid_row);
            blend_rows_threshold(resampled_tile(mid0, tx, begin, end), plan.mid_y.weight_first[y],
                                 resampled_tile(mid1, tx, begin, end), plan.mid_y.weight_second[y],
                                 end - begin, out + begin);
        }
    }
}

}  // namespace

// The two resizes and the threshold fused row by row, so that no full-size float image is
// written (12.6 MB per mask at 2048x1536, written and read back, was most of the cost), and
// tiles away from the mask's edge are filled without interpolating. Exactly cv::resize's values
// where pixels are interpolated. Row bands of all masks run in parallel: three masks on two
// cores would leave one idle for a third of the time.
std::vector<cv::Mat> threshold_masks_cpu(const at::Tensor& low_res_logits, int target,
                                         Size2 resized, Size2 original) {
    if (low_res_logits.dim() != 4 || low_res_logits.size(0) != 1 ||
        low_res_logits.scalar_type() != at::kFloat || !low_res_logits.device().is_cpu()) {
        throw std::invalid_argument(
            "threshold_masks_cpu: expected 1 x M x h x w float32 logits on the CPU");
    }
    if (resized.height < 1 || resized.width < 1 || resized.height > target ||
        resized.width > target || original.height < 1 || original.width < 1) {
        throw std::invalid_argument(
            "threshold_masks_cpu: resized size " + std::to_string(resized.width) + "x" +
            std::to_string(resized.height) + " does not fit target " + std::to_string(target) +
            ", or original size " + std::to_string(original.width) + "x" +
            std::to_string(original.height) + " is empty");
    }
    const at::Tensor logits = low_res_logits.contiguous();
    const int count = static_cast<int>(logits.size(1));
    const Size2 low{static_cast<int>(logits.size(2)), static_cast<int>(logits.size(3))};
    const MaskUpscalePlan plan = make_plan(low, target, resized, original);
    const float* logits_data = logits.data_ptr<float>();
    const size_t mask_stride = static_cast<size_t>(low.height) * low.width;

    std::vector<cv::Mat> masks;
    std::vector<std::vector<TileSign>> signs;
    for (int i = 0; i < count; ++i) {
        masks.push_back(image::make_prefaulted_mat(original.height, original.width, CV_8UC1));
        signs.push_back(tile_signs(logits_data + i * mask_stride, plan));
    }
    // Up to 4 bands of whole tile rows per mask, so that both cores stay busy to the end; each
    // band recomputes at most two intermediate rows of each stage at its top.
    const int bands = std::clamp(plan.tile_rows, 1, 4);
    cv::parallel_for_(cv::Range(0, count * bands), [&](const cv::Range& range) {
        for (int task = range.start; task < range.end; ++task) {
            const int i = task / bands, band = task % bands;
            const int first_tile = plan.tile_rows * band / bands;
            const int last_tile = plan.tile_rows * (band + 1) / bands;
            threshold_rows(logits_data + i * mask_stride, plan, signs[i].data(),
                           first_tile * kTileRows, std::min(original.height, last_tile * kTileRows),
                           masks[i]);
        }
    });
    return masks;
}

}  // namespace ps::sam
