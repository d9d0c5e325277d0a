// Decodes image files into 8-bit RGB for the engine.
#pragma once

#include <opencv2/core/mat.hpp>

#include <string>

#include "common/result.h"

namespace ps::io {

struct ImageReadOptions {
    static constexpr long long kDefaultMaxFileMegabytes = 512;
    static constexpr long long kDefaultMaxPixels = 300LL * 1000 * 1000;

    long long max_file_bytes = kDefaultMaxFileMegabytes * 1024 * 1024;
    long long max_pixels = kDefaultMaxPixels;  // decompression-bomb guard, checked on the header

    // The defaults, overridden by PHOTOSYNTH_MAX_FILE_MB (megabytes of 2^20 bytes) and
    // PHOTOSYNTH_MAX_PIXELS (a pixel count, e.g. 300000000) where they hold a positive whole
    // number; any other value is ignored with a qWarning. The one reader of the environment
    // outside EngineSettings::from_environment (which fills EngineSettings::image_read from it):
    // the annotation layer, which has no engine, checks mask sizes against the same limit.
    static ImageReadOptions from_environment();
};

// Reads any format Qt's image plugins know (EXIF orientation applied; grey, alpha, indexed,
// 16-bit and CMYK converted) into a CV_8UC3 matrix in RGB order (not OpenCV's BGR). Refuses files
// over max_file_bytes, headers over max_pixels (before any pixel memory is allocated), and
// truncated JPEG and PNG files, which Qt would otherwise return partly grey. Also sets Qt's
// process-wide QImageReader allocation limit to what max_pixels needs.
Result<cv::Mat> read_rgb_image(const std::string& path, const ImageReadOptions& options = {});

}  // namespace ps::io
