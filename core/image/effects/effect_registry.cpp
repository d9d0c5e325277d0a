// The effect table: names, parameter specifications with their defaults, and dispatch.
#include "image/effects/effect_registry.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <exception>
#include <sstream>

#include "image/effects/effect_bw.h"
#include "image/effects/effect_dither.h"
#include "image/effects/effect_duotone.h"
#include "image/effects/effect_halftone.h"
#include "image/effects/effect_pop_art.h"
#include "image/effects/palette.h"

namespace ps::image {

namespace {

using ApplyFunction = cv::Mat (*)(const cv::Mat& rgb, const EffectParams& params);

struct Entry {
    EffectInfo info;
    ApplyFunction apply;
};

cv::Mat apply_bw(const cv::Mat& rgb, const EffectParams& p) {
    return effect_bw(rgb, BwParams{p.real("clahe_clip"), p.integer("clahe_tiles"),
                                   p.real("contrast"), p.real("brightness"), p.real("gamma")});
}

cv::Mat apply_pop_art(const cv::Mat& rgb, const EffectParams& p) {
    return effect_pop_art(rgb, PopArtParams{p.colours("palette"), p.real("smooth")});
}

cv::Mat apply_pop_art_grid(const cv::Mat& rgb, const EffectParams& p) {
    return effect_pop_art_grid(rgb, PopArtGridParams{p.integer("levels"), p.real("smooth")});
}

cv::Mat apply_dither(const cv::Mat& rgb, const EffectParams& p) {
    DitherParams params;
    const std::string& method = p.text("method");
    params.method = method == "atkinson" ? DitherMethod::Atkinson
                    : method == "bayer4" ? DitherMethod::Bayer4
                    : method == "bayer8" ? DitherMethod::Bayer8
                                         : DitherMethod::FloydSteinberg;
    const std::string& palette = p.text("palette");
    if (palette == "uniform")
        params.palette = uniform_palette(p.integer("colors"));
    else if (palette == "median_cut")
        params.palette = median_cut_palette(rgb, p.integer("colors"));
    else if (palette != "bw")
        params.palette = p.colours("palette");
    params.serpentine = p.boolean("serpentine");
    return effect_dither(rgb, params);
}

cv::Mat apply_halftone(const cv::Mat& rgb, const EffectParams& p) {
    return effect_halftone(
        rgb, HalftoneParams{p.integer("cell"), p.real("angle"), p.boolean("antialias")});
}

cv::Mat apply_duotone(const cv::Mat& rgb, const EffectParams& p) {
    return effect_duotone(rgb, DuotoneParams{p.colour("dark"), p.colour("light")});
}

// Defaults come from the parameter structs, so each has one source.
const std::vector<Entry>& entries() {
    using K = ParamKind;
    const BwParams bw;
    const PopArtParams pop;
    const PopArtGridParams grid;
    const HalftoneParams halftone;
    const DuotoneParams duotone;
    const DitherParams dither;  // its method and palette are the first choices below
    const auto n = number_text;
    static const std::vector<Entry> table = {
        {{"bw",
          "enhanced black & white: Rec.709 luma, CLAHE local contrast, tone curve",
          {{"clahe_clip",
            K::Real,
            n(bw.clahe_clip),
            0,
            40,
            {},
            "CLAHE clip limit, 0 = no local contrast"},
           {"clahe_tiles", K::Integer, n(bw.clahe_tiles), 1, 64, {}, "CLAHE tiles per side"},
           {"contrast", K::Real, n(bw.contrast), 0, 3, {}, "tone curve slope about mid grey"},
           {"brightness",
            K::Real,
            n(bw.brightness),
            -1,
            1,
            {},
            "tone curve offset, fraction of full scale"},
           {"gamma",
            K::Real,
            n(bw.gamma),
            0.1,
            10,
            {},
            "out = in^(1/gamma); > 1 lifts mid-tones"}}},
         apply_bw},
        {{"pop_art",
          "posterised bold palette by luma quantiles",
          {{"palette", K::Colours, palette_text(pop.palette), 2, 16, {}, "colours, dark to light"},
           {"smooth", K::Real, n(pop.smooth_px), 0, 20, {}, "Gaussian sigma (px) before banding"}}},
         apply_pop_art},
        {{"pop_art_grid",
          "2x2 grid of the image in four tinted pop-art palettes",
          {{"levels", K::Integer, n(grid.levels), 2, 4, {}, "colours per quadrant"},
           {"smooth",
            K::Real,
            n(grid.smooth_px),
            0,
            20,
            {},
            "Gaussian sigma (px) before banding"}}},
         apply_pop_art_grid},
        {{"dither",
          "dithering to 1-bit black/white or an N-colour palette",
          {{"method",
            K::Choice,
            "floyd_steinberg",
            0,
            0,
            {"floyd_steinberg", "atkinson", "bayer4", "bayer8"},
            "algorithm"},
           {"palette",
            K::Colours,
            "bw",
            2,
            256,
            {"bw", "uniform", "median_cut"},
            "bw, uniform, median_cut or a colour list"},
           {"colors", K::Integer, "16", 2, 256, {}, "colours for uniform and median_cut"},
           {"serpentine",
            K::Boolean,
            dither.serpentine ? "true" : "false",
            0,
            0,
            {},
            "alternate row direction (diffusion)"}}},
         apply_dither},
        {{"halftone",
          "black dot screen on paper white, dot size from local darkness",
          {{"cell", K::Integer, n(halftone.cell_px), 2, 256, {}, "screen period (px)"},
           {"angle", K::Real, n(halftone.angle_deg), -360, 360, {}, "screen angle (degrees)"},
           {"antialias",
            K::Boolean,
            halftone.antialias ? "true" : "false",
            0,
            0,
            {},
            "soft dot edges"}}},
         apply_halftone},
        {{"duotone",
          "luma mapped to a gradient between two colours",
          {{"dark", K::Colour, colour_text(duotone.dark), 0, 0, {}, "colour of black"},
           {"light", K::Colour, colour_text(duotone.light), 0, 0, {}, "colour of white"}}},
         apply_duotone},
    };
    return table;
}

const Entry* find_entry(const std::string& name) {
    for (const Entry& entry : entries())
        if (entry.info.name == name) return &entry;
    return nullptr;
}

std::string effect_names() {
    std::vector<std::string> names;
    for (const Entry& entry : entries()) names.push_back(entry.info.name);
    return join_words(names, ", ");
}

}  // namespace

const std::vector<EffectInfo>& effect_catalogue() {
    static const std::vector<EffectInfo> catalogue = [] {
        std::vector<EffectInfo> infos;
        for (const Entry& entry : entries()) infos.push_back(entry.info);
        return infos;
    }();
    return catalogue;
}

const EffectInfo* find_effect(const std::string& name) {
    const Entry* entry = find_entry(name);
    return entry ? &entry->info : nullptr;
}

Result<EffectParams> parse_effect_params(const std::string& effect,
                                         const std::vector<std::string>& assignments) {
    const EffectInfo* info = find_effect(effect);
    if (!info)
        return make_error(
            ErrorKind::InvalidArgument,
            "unknown effect '" + effect + "' (expected one of " + effect_names() + ")");
    EffectParams params;
    params.effect = effect;
    for (const ParamSpec& spec : info->params) params.values[spec.name] = spec.default_value;
    std::vector<std::string> names;
    for (const ParamSpec& spec : info->params) names.push_back(spec.name);

    for (const std::string& assignment : assignments) {
        const size_t eq = assignment.find('=');
        if (eq == std::string::npos || eq == 0)
            return make_error(ErrorKind::InvalidArgument,
                              effect + ": '" + assignment + "' is not k=v (e.g. " +
                                  info->params.front().name + "=" +
                                  info->params.front().default_value + ")");
        const std::string name = assignment.substr(0, eq), value = assignment.substr(eq + 1);
        const auto spec = std::find_if(info->params.begin(), info->params.end(),
                                       [&](const ParamSpec& s) { return s.name == name; });
        if (spec == info->params.end())
            return make_error(ErrorKind::InvalidArgument, effect + ": unknown parameter '" + name +
                                                              "' (" + effect + " takes " +
                                                              join_words(names, ", ") + ")");
        if (!params.given.insert(name).second)
            return make_error(ErrorKind::InvalidArgument, effect + ": " + name + " is given twice");
        auto canonical = validate_param(effect, *spec, value);
        if (!canonical) return canonical.error();
        params.values[name] = *canonical;
    }
    // A count that would be silently ignored is more likely a mistake than a wish.
    if (effect == "dither" && params.given.count("colors") && params.text("palette") != "uniform" &&
        params.text("palette") != "median_cut")
        return make_error(ErrorKind::InvalidArgument,
                          "dither: colors applies only to palette=uniform or palette=median_cut");
    return params;
}

Result<cv::Mat> apply_effect(const std::string& effect, const cv::Mat& rgb,
                             const EffectParams& params) {
    const Entry* entry = find_entry(effect);
    if (!entry)
        return make_error(
            ErrorKind::InvalidArgument,
            "unknown effect '" + effect + "' (expected one of " + effect_names() + ")");
    if (params.effect != effect)
        return make_error(ErrorKind::InvalidArgument,
                          effect + ": parameters were parsed for '" + params.effect + "'");
    try {
        return entry->apply(rgb, params);
    } catch (const std::invalid_argument& e) {
        return make_error(ErrorKind::InvalidArgument, effect + ": " + e.what());
    } catch (const std::exception& e) {  // cv::Exception, std::bad_alloc on huge images
        return make_error(ErrorKind::Runtime, effect + ": " + e.what());
    }
}

Result<EffectTarget> parse_effect_target(const std::string& text) {
    if (text == "all") return EffectTarget::All;
    if (text == "object") return EffectTarget::Object;
    if (text == "background") return EffectTarget::Background;
    return make_error(ErrorKind::InvalidArgument,
                      "target '" + text + "' is not one of all, object, background");
}

std::string describe_effects() {
    std::ostringstream text;
    for (const EffectInfo& info : effect_catalogue()) {
        text << info.name << ": " << info.help << "\n";
        for (const ParamSpec& spec : info.params) text << "    " << describe_param(spec) << "\n";
    }
    return text.str();
}

}  // namespace ps::image
