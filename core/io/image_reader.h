// Decodes image files into 8-bit RGB for the engine.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

#include "common/result.h"

namespace ps::io {

struct ImageReadOptions {
    long long max_file_bytes = 512LL * 1024 * 1024;
    long long max_pixels = 300LL * 1000 * 1000;  // decompression-bomb guard
};

// Reads any format Qt's image plugins know (EXIF orientation applied; grey, alpha, indexed, 16-bit
// converted) into a CV_8UC3 RGB matrix (RGB order, not OpenCV's BGR).
Result<cv::Mat> read_rgb_image(const std::string& path, const ImageReadOptions& options = {});

// Writes an 8-bit single-channel (grey) or RGB image as PNG atomically (QSaveFile).
Status write_png(const std::string& path, const cv::Mat& image);

}  // namespace ps::io
