// Restricting an effect to the object or the background through a soft matte.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

enum class EffectTarget { All, Object, Background };

// Blends an effect's output back into the original:
//   All:        effect_output (the matte is not read and may be empty);
//   Object:     out = E·a + I·(1 - a), a = matte/255;
//   Background: the same with a = 1 - matte/255,
// in integers rounded to nearest, so a = 0 gives I and a = 1 gives E exactly (object pixels,
// matte 255, stay untouched under Background; matte-0 pixels stay untouched under Object).
// rgb, effect_output: CV_8UC3 of one size; matte: CV_8UC1 of that size. Throws
// std::invalid_argument otherwise.
cv::Mat apply_with_target(const cv::Mat& rgb, const cv::Mat& effect_output, const cv::Mat& matte,
                          EffectTarget target);

}  // namespace ps::image
