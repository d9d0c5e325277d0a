// PNG files of 8-bit images (masks, mattes, RGB results, cut-outs with alpha), written atomically.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

#include "common/result.h"

namespace ps::io {

// The PNG bytes of a CV_8UC1 (grey), CV_8UC3 (RGB) or CV_8UC4 (RGBA, straight alpha) image, at
// the fixed density every export uses, for writers that stage several files; `label` names the
// target in errors.
Result<std::string> encode_png(const cv::Mat& image, const std::string& label);

// Writes an 8-bit single-channel (grey) or RGB image as PNG, atomically (io::atomic_write): a
// failed or interrupted export never leaves a partial file nor clobbers the previous one. The
// folder must exist.
Status write_png(const std::string& path, const cv::Mat& image);

// Writes a CV_8UC4 image with straight (not premultiplied) alpha, channels R, G, B, A (as
// image::cutout_rgba makes them), as an RGBA PNG, atomically.
Status write_rgba_png(const std::string& path, const cv::Mat& rgba);

}  // namespace ps::io
