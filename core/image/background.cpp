// The background-removal pipeline: matte -> refinement -> composite (background.h).
#include "image/background.h"

#include <algorithm>
#include <stdexcept>

#include "image/composite.h"

namespace ps::image {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

cv::Mat composite(const cv::Mat& rgb, const RefinedMatte& refined,
                  const BackgroundOptions& background) {
    switch (background.kind) {
        case BackgroundKind::Colour:
            return on_colour(refined.foreground, refined.matte, background.colour);
        case BackgroundKind::Blurred:
            return on_blurred(rgb, refined.matte, std::max(4.0, rgb.cols / 80.0),
                              refined.foreground);
        case BackgroundKind::Image:
            if (background.image.empty())
                throw std::invalid_argument("remove_background: no background image given");
            return on_image(refined.foreground, refined.matte, background.image);
        case BackgroundKind::Transparent:
            break;
    }
    return rgba_straight(refined.foreground, refined.matte);
}

}  // namespace

Result<BackgroundOptions> parse_background(const std::string& text) {
    BackgroundOptions options;
    if (text == "transparent") return options;
    if (text == "blurred") {
        options.kind = BackgroundKind::Blurred;
        return options;
    }
    const bool hex =
        text.size() == 7 && text[0] == '#' &&
        std::all_of(text.begin() + 1, text.end(), [](char c) { return hex_digit(c) >= 0; });
    if (!hex) {
        return make_error(
            ErrorKind::InvalidArgument,
            "background \"" + text + "\": expected transparent, blurred or a colour #RRGGBB");
    }
    const auto component = [&](int at) {
        return hex_digit(text[at]) * 16 + hex_digit(text[at + 1]);
    };
    options.kind = BackgroundKind::Colour;
    options.colour = cv::Scalar(component(1), component(3), component(5));
    return options;
}

Result<Cutout> remove_background(const cv::Mat& rgb, const cv::Mat& matte_u8,
                                 const RefineOptions& refine, const BackgroundOptions& background) {
    if (matte_u8.empty() || matte_u8.type() != CV_8UC1) {
        return make_error(ErrorKind::InvalidArgument,
                          "remove_background: the matte must be a non-empty 8-bit single-channel "
                          "image");
    }
    if (rgb.size() != matte_u8.size()) {
        return make_error(ErrorKind::InvalidArgument,
                          "remove_background: the matte is " + std::to_string(matte_u8.cols) + "x" +
                              std::to_string(matte_u8.rows) + ", the image " +
                              std::to_string(rgb.cols) + "x" + std::to_string(rgb.rows));
    }
    try {
        const RefinedMatte refined = refine_matte(matte_from_u8(matte_u8), rgb, refine);
        return Cutout{composite(rgb, refined, background), matte_to_u8(refined.matte)};
    } catch (const std::invalid_argument& e) {
        return make_error(ErrorKind::InvalidArgument, e.what());
    }
}

cv::Mat over_checkerboard(const cv::Mat& rgba, int cell_px) {
    if (rgba.empty() || rgba.type() != CV_8UC4)
        throw std::invalid_argument("over_checkerboard: expected a non-empty CV_8UC4 image");
    if (cell_px < 1) throw std::invalid_argument("over_checkerboard: cell_px must be >= 1");
    cv::Mat out(rgba.size(), CV_8UC3);
    for (int y = 0; y < rgba.rows; ++y) {
        const auto* in = rgba.ptr<cv::Vec4b>(y);
        auto* o = out.ptr<cv::Vec3b>(y);
        for (int x = 0; x < rgba.cols; ++x) {
            const int check = ((x / cell_px + y / cell_px) % 2) ? 200 : 240;
            const int a = in[x][3];
            for (int c = 0; c < 3; ++c)
                o[x][c] = uchar((in[x][c] * a + check * (255 - a) + 127) / 255);
        }
    }
    return out;
}

}  // namespace ps::image
