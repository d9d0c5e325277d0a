// Outputs of background removal: straight-alpha RGBA, the matte alone, and the subject
// composited over a colour, a blurred copy of the original, or another image.
//
// Mattes are the canonical CV_32FC1 alpha in [0, 1] of matte_refine.h (values outside are
// clamped); images CV_8UC3 in any channel order, kept. `foreground` / `rgb` is the subject's
// colour: decontaminate_colours' output, or the original image. Every blend is
// out = F·α + B·(1−α) in float, rounded, so α = 1 gives F and α = 0 gives B exactly.
// Invalid inputs throw std::invalid_argument naming the function.
#pragma once

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

namespace ps::image {

// CV_8UC4: the foreground's channels plus alpha = round(255·matte), straight (not
// premultiplied): colour is kept where alpha is 0, as PNG expects.
cv::Mat rgba_straight(const cv::Mat& foreground, const cv::Mat& matte);

// The matte alone as CV_8UC1 0..255, for saving as a greyscale PNG.
cv::Mat matte_image(const cv::Mat& matte);

// The subject over a solid colour (in the image's channel order, each component 0..255).
cv::Mat on_colour(const cv::Mat& foreground, const cv::Mat& matte, const cv::Scalar& colour);

// The subject over a Gaussian-blurred (sigma_px > 0) copy of `rgb`, the original image.
// The blur is normalised by the background's weight, blur(I·(1−α)) / blur(1−α), so the
// subject's own colours do not smear into a halo around it. For sigma_px > 4 the blur is done
// at 1/⌊sigma_px/2⌋ resolution (area-resized, then bilinearly upsampled): a wide blur has no
// detail to lose, and the cost stays flat as sigma grows. `foreground` empty = use rgb.
cv::Mat on_blurred(const cv::Mat& rgb, const cv::Mat& matte, double sigma_px,
                   const cv::Mat& foreground = cv::Mat());

// `image` (any type cv::resize takes) scaled by max(W/w, H/h) so it covers `size`, then
// centre-cropped to it: cv::INTER_AREA when shrinking (no aliasing), cv::INTER_LINEAR when
// enlarging. When the excess is odd the extra pixel is cropped from the right/bottom.
cv::Mat cover_crop(const cv::Mat& image, cv::Size size);

// The subject over `background` (CV_8UC3, any size), cover-cropped to the subject's size.
cv::Mat on_image(const cv::Mat& foreground, const cv::Mat& matte, const cv::Mat& background);

}  // namespace ps::image
