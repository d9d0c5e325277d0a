// COCO run-length encoding, bit for bit as pycocotools' maskApi.c (rleEncode, rleToString,
// rleFrString, rleArea, rleToBbox), so that our strings are the COCO API's strings.
#include "annotation/rle.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <limits>

namespace ps::annotation {
namespace {

// Every run length of a valid RLE, as the sum the API checks against height * width.
uint64_t total_of(const std::vector<uint32_t>& counts) {
    uint64_t total = 0;
    for (uint32_t count : counts) total += count;
    return total;
}

// The canonical counts of a run list: zero-length runs after the first merged away, so that two
// RLEs of one mask compare equal. rleEncode never makes a zero run but the first (a mask that
// starts with foreground); hand-made "counts" lists may hold more.
std::vector<uint32_t> canonical(const std::vector<uint32_t>& counts) {
    std::vector<uint32_t> runs;
    runs.reserve(counts.size());
    bool foreground = false;
    for (size_t i = 0; i < counts.size(); ++i, foreground = !foreground) {
        const uint32_t count = counts[i];
        // runs alternates background/foreground starting with background, like `counts`.
        const bool last_is_foreground = runs.size() % 2 == 0;
        if (i == 0) {
            runs.push_back(count);
        } else if (count == 0) {
            continue;
        } else if (foreground == last_is_foreground) {
            runs.back() += count;  // the run between was empty: same value continues
        } else {
            runs.push_back(count);
        }
    }
    if (runs.empty()) runs.push_back(0);
    return runs;
}

Error invalid(const std::string& context, const std::string& problem) {
    return make_error(ErrorKind::Format, context + ": " + problem);
}

}  // namespace

bool Rle::operator==(const Rle& other) const {
    return height == other.height && width == other.width && counts == other.counts;
}

Rle rle_encode(const cv::Mat& mask) {
    CV_Assert(mask.type() == CV_8UC1);
    Rle rle;
    rle.height = mask.rows;
    rle.width = mask.cols;
    // COCO scans column by column (the mask is Fortran-ordered in the API): the transpose's rows
    // are the mask's columns, in memory order.
    cv::Mat columns;
    cv::transpose(mask, columns);
    uint32_t run = 0;
    bool previous = false;  // the first run is background, empty when pixel 0 is foreground
    for (int column = 0; column < columns.rows; ++column) {
        const uint8_t* pixel = columns.ptr<uint8_t>(column);
        for (int row = 0; row < columns.cols; ++row) {
            const bool foreground = pixel[row] != 0;
            if (foreground != previous) {
                rle.counts.push_back(run);
                run = 0;
                previous = foreground;
            }
            ++run;
        }
    }
    rle.counts.push_back(run);
    return rle;
}

cv::Mat rle_decode(const Rle& rle) {
    cv::Mat columns(rle.width, rle.height, CV_8UC1, cv::Scalar(0));
    uint8_t* pixel = columns.data;  // continuous: freshly allocated
    const size_t total = static_cast<size_t>(rle.width) * static_cast<size_t>(rle.height);
    size_t position = 0;
    for (size_t i = 0; i < rle.counts.size() && position < total; ++i) {
        const size_t run = std::min<size_t>(rle.counts[i], total - position);
        if (i % 2 == 1) std::fill(pixel + position, pixel + position + run, uint8_t{255});
        position += run;
    }
    cv::Mat mask;
    cv::transpose(columns, mask);
    return mask;
}

uint64_t rle_area(const Rle& rle) {
    uint64_t area = 0;
    for (size_t i = 1; i < rle.counts.size(); i += 2) area += rle.counts[i];
    return area;
}

std::array<double, 4> rle_bbox(const Rle& rle) {
    // The extent of the foreground runs; a run may span columns, in which case it covers every
    // row (the API's `if(xp<x) { ys=0; ye=h-1; }`).
    if (rle.height <= 0) return {0, 0, 0, 0};
    const uint64_t h = static_cast<uint64_t>(rle.height);
    uint64_t x_min = std::numeric_limits<uint64_t>::max(), y_min = x_min, x_max = 0, y_max = 0;
    bool any = false;
    uint64_t start = 0;
    for (size_t i = 0; i < rle.counts.size(); ++i) {
        const uint64_t run = rle.counts[i];
        if (i % 2 == 1 && run > 0) {
            any = true;
            const uint64_t first = start, last = start + run - 1;
            const uint64_t x_first = first / h, x_last = last / h;
            x_min = std::min(x_min, x_first);
            x_max = std::max(x_max, x_last);
            if (x_first != x_last) {
                y_min = 0;
                y_max = h - 1;
            } else {
                y_min = std::min(y_min, first % h);
                y_max = std::max(y_max, last % h);
            }
        }
        start += run;
    }
    if (!any) return {0, 0, 0, 0};
    return {static_cast<double>(x_min), static_cast<double>(y_min),
            static_cast<double>(x_max - x_min + 1), static_cast<double>(y_max - y_min + 1)};
}

double rle_iou(const Rle& a, const Rle& b) {
    if (a.height != b.height || a.width != b.width) return 0;
    // Walk both run lists at once; each stretch between two run ends is uniform in both masks.
    uint64_t intersection = 0, union_area = 0;
    size_t ia = 0, ib = 0;
    uint64_t left_a = a.counts.empty() ? 0 : a.counts[0],
             left_b = b.counts.empty() ? 0 : b.counts[0];
    const uint64_t total = static_cast<uint64_t>(a.height) * static_cast<uint64_t>(a.width);
    uint64_t position = 0;
    while (position < total && ia < a.counts.size() && ib < b.counts.size()) {
        if (left_a == 0) {
            if (++ia < a.counts.size()) left_a = a.counts[ia];
            continue;
        }
        if (left_b == 0) {
            if (++ib < b.counts.size()) left_b = b.counts[ib];
            continue;
        }
        const uint64_t step = std::min(left_a, left_b);
        const bool in_a = ia % 2 == 1, in_b = ib % 2 == 1;
        if (in_a && in_b) intersection += step;
        if (in_a || in_b) union_area += step;
        left_a -= step;
        left_b -= step;
        position += step;
    }
    return union_area == 0 ? 0
                           : static_cast<double>(intersection) / static_cast<double>(union_area);
}

std::string rle_to_string(const Rle& rle) {
    // rleToString: each count (from index 3 on, its difference to the count two before, which
    // is usually small) as 5-bit groups, low first, plus 48; bit 0x20 says another group
    // follows, bit 0x10 of the last group is the sign.
    std::string text;
    text.reserve(rle.counts.size() * 2);
    for (size_t i = 0; i < rle.counts.size(); ++i) {
        int64_t value = rle.counts[i];
        if (i > 2) value -= static_cast<int64_t>(rle.counts[i - 2]);
        bool more = true;
        while (more) {
            char group = static_cast<char>(value & 0x1f);
            value >>= 5;  // arithmetic shift, as the API's `long`
            more = (group & 0x10) ? value != -1 : value != 0;
            if (more) group |= 0x20;
            text.push_back(static_cast<char>(group + 48));
        }
    }
    return text;
}

Result<Rle> rle_from_string(const std::string& counts, int height, int width,
                            const std::string& context) {
    std::vector<uint32_t> runs;
    size_t position = 0;
    while (position < counts.size()) {
        // rleFrString, with the checks the API leaves out.
        int64_t value = 0;
        int shift = 0;
        bool more = true;
        while (more) {
            if (position >= counts.size())
                return invalid(context, "RLE counts string ends inside a number");
            const int character = static_cast<unsigned char>(counts[position]);
            if (character < 48 || character > 48 + 63)
                return invalid(context, "RLE counts string has the character '" +
                                            std::string(1, counts[position]) + "' at position " +
                                            std::to_string(position) + " (expected '0'..'o')");
            if (shift > 35)
                return invalid(context, "RLE counts string holds a number over 32 bits");
            const int group = character - 48;
            value |= static_cast<int64_t>(group & 0x1f) << shift;
            more = (group & 0x20) != 0;
            ++position;
            shift += 5;
            if (!more && (group & 0x10)) value |= -(int64_t{1} << shift);  // sign-extend
        }
        if (runs.size() > 2) value += runs[runs.size() - 2];
        if (value < 0 || value > std::numeric_limits<uint32_t>::max())
            return invalid(context, "RLE run " + std::to_string(runs.size() + 1) + " has length " +
                                        std::to_string(value));
        runs.push_back(static_cast<uint32_t>(value));
    }
    return rle_from_counts(std::move(runs), height, width, context);
}

Result<Rle> rle_from_counts(std::vector<uint32_t> counts, int height, int width,
                            const std::string& context) {
    if (height < 0 || width < 0)
        return invalid(context, "RLE size [" + std::to_string(height) + ", " +
                                    std::to_string(width) + "] is negative");
    const uint64_t expected = static_cast<uint64_t>(height) * static_cast<uint64_t>(width);
    const uint64_t total = total_of(counts);
    if (total != expected)
        return invalid(context, "RLE runs cover " + std::to_string(total) + " pixels, size [" +
                                    std::to_string(height) + ", " + std::to_string(width) +
                                    "] has " + std::to_string(expected));
    Rle rle;
    rle.height = height;
    rle.width = width;
    rle.counts = canonical(counts);
    return rle;
}

}  // namespace ps::annotation
