// Duotone through a 256-entry colour table indexed by luma.
#include "image/effects/effect_duotone.h"

#include <opencv2/core.hpp>

#include "image/effects/effect_common.h"

namespace ps::image {

cv::Mat effect_duotone(const cv::Mat& rgb, const DuotoneParams& p) {
    require_rgb8(rgb, "effect_duotone");
    LumaColourTable table;
    for (int i = 0; i < 256; ++i) {
        for (int c = 0; c < 3; ++c) {
            table[i][c] =
                cv::saturate_cast<uchar>(p.dark[c] + (p.light[c] - p.dark[c]) * i / 255.0);
        }
    }
    return map_luma_to_colours(luminance_709(rgb), table);
}

}  // namespace ps::image
