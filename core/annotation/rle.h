// COCO run-length encoding of binary masks, exactly as the COCO API (pycocotools maskApi.c)
// defines it: runs over the mask in column-major order, alternating background and foreground
// and starting with background; the compressed form is the API's LEB128-like ASCII string.
#pragma once

#include <opencv2/core/mat.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace ps::annotation {

struct Rle {
    int height = 0, width = 0;
    std::vector<uint32_t> counts;  // run lengths; sum == height * width
    bool operator==(const Rle& other) const;
    bool operator!=(const Rle& other) const { return !(*this == other); }
};

// Any non-zero pixel of a CV_8UC1 mask is foreground.
Rle rle_encode(const cv::Mat& mask);
// CV_8UC1, 0 / 255.
cv::Mat rle_decode(const Rle& rle);
uint64_t rle_area(const Rle& rle);
// x, y, width, height of the foreground (COCO's toBbox); zeros when empty.
std::array<double, 4> rle_bbox(const Rle& rle);
double rle_iou(const Rle& a, const Rle& b);

// COCO's compressed counts string ("counts" of an RLE whose value is a string).
std::string rle_to_string(const Rle& rle);
// Validates: the runs must sum to height * width; the message names `context` (a file name).
Result<Rle> rle_from_string(const std::string& counts, int height, int width,
                            const std::string& context);
// Uncompressed COCO RLE ("counts" as a list of integers), validated the same way.
Result<Rle> rle_from_counts(std::vector<uint32_t> counts, int height, int width,
                            const std::string& context);

}  // namespace ps::annotation
