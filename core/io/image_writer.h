// Atomic PNG writing for exports: masks, cut-outs with alpha and overlays.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

#include "common/result.h"

class QImage;

namespace ps::io {

// Writes `image` as PNG through QSaveFile: the data goes to a temporary file beside `path` that
// replaces it only once complete, so a failed or interrupted export never leaves a partial file
// nor clobbers the previous one. Shared by write_png and write_rgba_png.
Status write_png_atomically(const std::string& path, const QImage& image);

// Writes a CV_8UC4 image with straight (not premultiplied) alpha, channels R, G, B, A (as
// image::cutout_rgba makes them), as an RGBA PNG, atomically.
Status write_rgba_png(const std::string& path, const cv::Mat& rgba);

}  // namespace ps::io
