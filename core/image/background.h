// Background removal after the matte: refinement, then the cut-out or a new background. The one
// pipeline behind the Remove Background panel and `photosynth-cli remove-bg`.
//
//   auto options = image::parse_background("#ffffff");              // Result<BackgroundOptions>
//   auto out = image::remove_background(rgb, matte_u8, refine, *options);  // Result<Cutout>
//   write_rgba_png(path, out->image) when out->image has 4 channels, else write_png
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <string>

#include "common/result.h"
#include "image/matte_refine.h"

namespace ps::image {

enum class BackgroundKind { Transparent, Colour, Blurred, Image };

struct BackgroundOptions {
    BackgroundKind kind = BackgroundKind::Transparent;
    cv::Scalar colour{255, 255, 255};  // Colour: in the image's channel order, 0..255
    cv::Mat image;  // Image: CV_8UC3, any size (cover-cropped); read by the caller
};

// "transparent", "blurred" or a colour "#RRGGBB" (hex digits in either case). Anything else is
// an InvalidArgument error quoting the text and the accepted forms.
Result<BackgroundOptions> parse_background(const std::string& text);

struct Cutout {
    cv::Mat image;  // CV_8UC4 straight alpha (Transparent), else CV_8UC3 in rgb's channel order
    cv::Mat matte;  // CV_8UC1 0..255: the refined matte the image was made with
};

// rgb: CV_8UC3; matte_u8: CV_8UC1 0..255 of rgb's size (a model's matte, a mask). Applies
// refine_matte, then composites as `background` says; the blurred background's sigma is
// max(4, width / 80) px, so a preview and a full-resolution export look alike. With default
// RefineOptions and a transparent background the result is rgb with the matte as alpha.
// Invalid inputs or options are InvalidArgument errors naming the problem.
Result<Cutout> remove_background(const cv::Mat& rgb, const cv::Mat& matte_u8,
                                 const RefineOptions& refine, const BackgroundOptions& background);

// RGBA (CV_8UC4) over a grey checkerboard of cell_px squares (>= 1), as CV_8UC3, so that
// transparency is visible in a preview. out = (c·a + check·(255 − a) + 127) / 255, integer.
cv::Mat over_checkerboard(const cv::Mat& rgba, int cell_px = 12);

}  // namespace ps::image
