// Pillow's BILINEAR and BICUBIC resizes (libImaging/Resample.c, Pillow 9.4) reproduced bit for bit.
#include "image/pil_resize.h"

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ps::image {
namespace {

// Pillow's PRECISION_BITS = 32 - 8 - 2: 8 bits of pixel, 2 of headroom for the sum of taps.
constexpr int kPrecisionBits = 22;
constexpr int32_t kRoundingHalf = 1 << (kPrecisionBits - 1);

// Fixed-point filter taps for one axis: output index i reads `count[i]` source samples starting
// at `first[i]`, weighted by `weights[i * stride .. i * stride + count[i])`.
struct AxisKernel {
    int stride = 0;
    std::vector<int> first;
    std::vector<int> count;
    std::vector<int32_t> weights;
};

double triangle(double t) {
    t = std::fabs(t);
    return t < 1.0 ? 1.0 - t : 0.0;
}

// Resample.c's bicubic_filter (a = -0.5), written in its order of operations.
double bicubic(double x) {
    constexpr double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

struct Filter {
    double (*fn)(double);
    double support;  // bilinear 1, bicubic 2
    const char* name;
};
constexpr Filter kBilinear{triangle, 1.0, "pil_resize_bilinear"};
constexpr Filter kBicubic{bicubic, 2.0, "pil_resize_bicubic"};

// Pillow's precompute_coeffs + normalize_coeffs_8bpc, including its order of floating-point
// operations: the tap position is multiplied by 1/filterscale (not divided by filterscale), since
// a last-bit difference in a weight can move a rounded coefficient.
AxisKernel make_axis_kernel(int in_size, int out_size, const Filter& filter) {
    const double scale = static_cast<double>(in_size) / out_size;
    const double filterscale = std::max(scale, 1.0);
    const double support = filter.support * filterscale;  // widened when shrinking
    const double inverse_filterscale = 1.0 / filterscale;

    AxisKernel kernel;
    kernel.stride = static_cast<int>(std::ceil(support)) * 2 + 1;
    kernel.first.resize(out_size);
    kernel.count.resize(out_size);
    kernel.weights.assign(static_cast<size_t>(out_size) * kernel.stride, 0);

    std::vector<double> taps(kernel.stride);
    for (int i = 0; i < out_size; ++i) {
        const double center = (i + 0.5) * scale;
        const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
        const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size);
        const int count = xmax - xmin;
        double sum = 0.0;
        for (int x = 0; x < count; ++x) {
            taps[x] = filter.fn((x + xmin - center + 0.5) * inverse_filterscale);
            sum += taps[x];
        }
        int32_t* weights = &kernel.weights[static_cast<size_t>(i) * kernel.stride];
        for (int x = 0; x < count; ++x) {
            const double w = sum != 0.0 ? taps[x] / sum : taps[x];
            // Pillow rounds half away from zero (bicubic weights can be negative).
            weights[x] = static_cast<int32_t>(w < 0 ? -0.5 + w * (1 << kPrecisionBits)
                                                    : 0.5 + w * (1 << kPrecisionBits));
        }
        kernel.first[i] = xmin;
        kernel.count[i] = count;
    }
    return kernel;
}

inline uint8_t clip_to_u8(int32_t accumulator) {
    const int32_t value = accumulator >> kPrecisionBits;  // arithmetic shift, as Pillow's clip8
    return static_cast<uint8_t>(value < 0 ? 0 : (value > 255 ? 255 : value));
}

// Too little work per row makes threads cost more than they save.
double row_stripes(int rows, long long work_per_row) {
    const long long total = static_cast<long long>(rows) * work_per_row;
    return static_cast<double>(std::clamp<long long>(total / (1 << 16), 1, rows));
}

// Rows [first_row, first_row + dst.rows) of src, resampled along x into dst.
template <int Channels>
void resample_horizontal(const cv::Mat& src, int first_row, const AxisKernel& kernel,
                         cv::Mat& dst) {
    const int out_width = dst.cols;
    auto process_rows = [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            const uint8_t* src_row = src.ptr<uint8_t>(first_row + y);
            uint8_t* out = dst.ptr<uint8_t>(y);
            for (int x = 0; x < out_width; ++x) {
                const uint8_t* in = src_row + kernel.first[x] * Channels;
                const int32_t* weights = &kernel.weights[static_cast<size_t>(x) * kernel.stride];
                const int count = kernel.count[x];
                int32_t acc[Channels];
                for (int c = 0; c < Channels; ++c) acc[c] = kRoundingHalf;
                for (int t = 0; t < count; ++t, in += Channels) {
                    const int32_t w = weights[t];
                    for (int c = 0; c < Channels; ++c) acc[c] += in[c] * w;
                }
                for (int c = 0; c < Channels; ++c) *out++ = clip_to_u8(acc[c]);
            }
        }
    };
    const long long work = static_cast<long long>(out_width) * kernel.stride * Channels;
    cv::parallel_for_(cv::Range(0, dst.rows), process_rows, row_stripes(dst.rows, work));
}

// Resamples along y. Each output row is a weighted sum of whole source rows, so the inner loop
// runs along contiguous memory and vectorises (Pillow walks columns instead).
void resample_vertical_rows(const cv::Mat& src, const AxisKernel& kernel, int row_offset,
                            cv::Mat& dst, const cv::Range& rows) {
    // Locals, not captures: through a closure GCC cannot prove that the stores leave the bound
    // unchanged, and then vectorises neither inner loop.
    const int row_length = dst.cols * dst.channels();
    std::vector<int32_t> acc(row_length);
    int32_t* sum = acc.data();
    for (int y = rows.start; y < rows.end; ++y) {
        std::fill(acc.begin(), acc.end(), kRoundingHalf);
        const int32_t* weights = &kernel.weights[static_cast<size_t>(y) * kernel.stride];
        const int first = kernel.first[y] - row_offset;
        const int count = kernel.count[y];
        for (int t = 0; t < count; ++t) {
            const uint8_t* in = src.ptr<uint8_t>(first + t);
            const int32_t w = weights[t];
            for (int j = 0; j < row_length; ++j) sum[j] += in[j] * w;
        }
        uint8_t* out = dst.ptr<uint8_t>(y);
        for (int j = 0; j < row_length; ++j) out[j] = clip_to_u8(sum[j]);
    }
}

void resample_vertical(const cv::Mat& src, const AxisKernel& kernel, int row_offset, cv::Mat& dst) {
    const long long work = static_cast<long long>(dst.cols) * dst.channels() * kernel.stride;
    cv::parallel_for_(
        cv::Range(0, dst.rows),
        [&](const cv::Range& rows) { resample_vertical_rows(src, kernel, row_offset, dst, rows); },
        row_stripes(dst.rows, work));
}

void dispatch_horizontal(const cv::Mat& src, int first_row, const AxisKernel& kernel,
                         cv::Mat& dst) {
    switch (src.channels()) {
        case 1:
            resample_horizontal<1>(src, first_row, kernel, dst);
            break;
        case 3:
            resample_horizontal<3>(src, first_row, kernel, dst);
            break;
        case 4:
            resample_horizontal<4>(src, first_row, kernel, dst);
            break;
        default:
            break;  // rejected by validate()
    }
}

void validate(const cv::Mat& src, int out_width, int out_height, const char* name) {
    if (src.empty() || src.dims != 2)
        throw std::invalid_argument(std::string(name) + ": the input image is empty");
    const int type = src.type();
    if (type != CV_8UC1 && type != CV_8UC3 && type != CV_8UC4)
        throw std::invalid_argument(std::string(name) + ": unsupported image type " +
                                    cv::typeToString(type) +
                                    ", expected CV_8UC1, CV_8UC3 or CV_8UC4");
    if (out_width <= 0 || out_height <= 0)
        throw std::invalid_argument(std::string(name) + ": output size " +
                                    std::to_string(out_width) + "x" + std::to_string(out_height) +
                                    " is not positive");
}

cv::Mat pil_resize(const cv::Mat& src, int out_width, int out_height, const Filter& filter) {
    validate(src, out_width, out_height, filter.name);
    const bool need_horizontal = out_width != src.cols;
    const bool need_vertical = out_height != src.rows;
    if (!need_horizontal && !need_vertical) return src.clone();

    AxisKernel vertical;
    int first_row = 0;
    int row_count = src.rows;
    if (need_vertical) {
        vertical = make_axis_kernel(src.rows, out_height, filter);
        // As Pillow does, the horizontal pass skips source rows the vertical pass never reads.
        first_row = vertical.first.front();
        row_count = vertical.first.back() + vertical.count.back() - first_row;
    }

    cv::Mat horizontal_out;
    if (need_horizontal) {
        horizontal_out.create(row_count, out_width, src.type());
        dispatch_horizontal(src, first_row, make_axis_kernel(src.cols, out_width, filter),
                            horizontal_out);
        if (!need_vertical) return horizontal_out;
    }

    cv::Mat out(out_height, out_width, src.type());
    if (need_horizontal)
        resample_vertical(horizontal_out, vertical, first_row, out);
    else
        resample_vertical(src, vertical, 0, out);
    return out;
}

}  // namespace

cv::Mat pil_resize_bilinear(const cv::Mat& src, int out_width, int out_height) {
    return pil_resize(src, out_width, out_height, kBilinear);
}

cv::Mat pil_resize_bicubic(const cv::Mat& src, int out_width, int out_height) {
    return pil_resize(src, out_width, out_height, kBicubic);
}

}  // namespace ps::image
