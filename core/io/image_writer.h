// PNG files of 8-bit images (masks, mattes, RGB results, cut-outs with alpha), written atomically.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

#include "common/result.h"

namespace ps::io {

// Writes an 8-bit single-channel (grey) or RGB image as PNG, atomically (io::atomic_write): a
// failed or interrupted export never leaves a partial file nor clobbers the previous one. The
// folder must exist.
Status write_png(const std::string& path, const cv::Mat& image);

// Writes a CV_8UC4 image with straight (not premultiplied) alpha, channels R, G, B, A (as
// image::cutout_rgba makes them), as an RGBA PNG, atomically.
Status write_rgba_png(const std::string& path, const cv::Mat& rgba);

}  // namespace ps::io
