// `photosynth-cli bench-effects`: times every effect and its matte blend on a synthetic image.
// A benchmark program, not a test: it prints numbers and asserts nothing about them.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <opencv2/core.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "image/effects/effect_registry.h"
#include "io/atomic_file.h"
#include "output_checks.h"

namespace ps::cli {

const char kBenchEffectsUsage[] =
    "usage: photosynth-cli bench-effects [--width 6000] [--height 4000] [--iterations 3] "
    "[--seed 1] [--json FILE]";

namespace {

struct Case {
    std::string effect;
    std::vector<std::string> params;
};

// Gradients in every channel plus seeded Gaussian noise (sigma 24): smooth areas for the tone
// maps, texture for the error diffusion, a realistic spread of colours for median cut.
cv::Mat synthetic_image(cv::Size size, int seed) {
    cv::Mat rgb(size, CV_8UC3);
    cv::parallel_for_(cv::Range(0, size.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            cv::Vec3b* row = rgb.ptr<cv::Vec3b>(y);
            for (int x = 0; x < size.width; ++x) {
                const double u = double(x) / size.width, v = double(y) / size.height;
                row[x] =
                    cv::Vec3b(cv::saturate_cast<uchar>(255 * u), cv::saturate_cast<uchar>(255 * v),
                              cv::saturate_cast<uchar>(128 + 100 * std::sin(12 * (u + v))));
            }
        }
    });
    cv::Mat noise(size, CV_16SC3);
    cv::RNG(seed).fill(noise, cv::RNG::NORMAL, 0, 24);
    cv::Mat noisy;
    cv::add(rgb, noise, noisy, cv::noArray(), CV_8UC3);
    return noisy;
}

// A centred disc with a 40-px linear soft edge, the shape of a typical subject matte.
cv::Mat synthetic_matte(cv::Size size) {
    cv::Mat matte(size, CV_8UC1);
    const double cx = size.width / 2.0, cy = size.height / 2.0;
    const double radius = 0.35 * std::min(size.width, size.height), feather = 40;
    cv::parallel_for_(cv::Range(0, size.height), [&](const cv::Range& rows) {
        for (int y = rows.start; y < rows.end; ++y) {
            uchar* row = matte.ptr<uchar>(y);
            for (int x = 0; x < size.width; ++x) {
                const double d = std::hypot(x + 0.5 - cx, y + 0.5 - cy);
                row[x] = cv::saturate_cast<uchar>(
                    255 * std::clamp((radius - d) / feather + 0.5, 0.0, 1.0));
            }
        }
    });
    return matte;
}

struct Timing {
    double min_ms, median_ms;
};

template <typename Work>
Timing time_runs(int iterations, Work work) {
    std::vector<double> ms;
    for (int i = 0; i < iterations; ++i) {
        const auto start = std::chrono::steady_clock::now();
        work();
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    std::sort(ms.begin(), ms.end());
    const size_t n = ms.size();
    return {ms.front(), n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2};
}

Result<int> positive(const Args& args, const std::string& key, int fallback, int max) {
    if (!args.has(key)) return fallback;
    bool ok = false;
    const int value = QString::fromStdString(args.get(key)).toInt(&ok);
    if (!ok || value < 1 || value > max)
        return make_error(ErrorKind::InvalidArgument, "bench-effects: --" + key + " " +
                                                          args.get(key) + ": expected 1.." +
                                                          std::to_string(max));
    return value;
}

}  // namespace

int run_bench_effects(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"width", "height", "iterations", "seed", "json"}, {});
    if (!args) return fail(args.message() + " (" + kBenchEffectsUsage + ")", 2);
    const auto width = positive(*args, "width", 6000, 65535),
               height = positive(*args, "height", 4000, 65535),
               iterations = positive(*args, "iterations", 3, 1000),
               seed = positive(*args, "seed", 1, 1 << 30);
    for (const auto* value : {&width, &height, &iterations, &seed})
        if (!*value) return fail(value->message() + " (" + kBenchEffectsUsage + ")", 2);
    if (args->has("json"))
        if (auto ok = check_output_file("json", args->get("json")); !ok) return fail(ok.message());

    const std::vector<Case> cases = {{"bw", {}},
                                     {"pop_art", {}},
                                     {"pop_art_grid", {}},
                                     {"dither", {}},
                                     {"dither", {"method=atkinson"}},
                                     {"dither", {"method=bayer8"}},
                                     {"dither", {"palette=median_cut", "colors=16"}},
                                     {"dither", {"method=bayer8", "palette=uniform", "colors=27"}},
                                     {"halftone", {}},
                                     {"duotone", {}}};
    const cv::Size size(*width, *height);
    const cv::Mat rgb = synthetic_image(size, *seed);
    const cv::Mat matte = synthetic_matte(size);
    std::cout << "bench-effects: " << size.width << "x" << size.height << " (" << size.area() / 1e6
              << " MP), " << *iterations << " iteration(s), " << cv::getNumThreads()
              << " OpenCV thread(s)\n";
    std::printf("%-52s %10s %10s %12s %12s\n", "effect", "min ms", "median ms", "blend min",
                "blend median");

    QJsonArray rows;
    for (const Case& c : cases) {
        auto params = image::parse_effect_params(c.effect, c.params);
        if (!params) return fail(params.message());
        cv::Mat styled;
        std::string error;
        const Timing effect = time_runs(*iterations, [&] {
            auto out = image::apply_effect(c.effect, rgb, *params);
            if (out)
                styled = *out;
            else
                error = out.message();
        });
        if (!error.empty()) return fail(error);
        // Object target: the full per-pixel blend, the worst case of the three targets.
        const Timing blend = time_runs(*iterations, [&] {
            image::apply_with_target(rgb, styled, matte, image::EffectTarget::Object);
        });
        std::string label = c.effect;
        for (const std::string& p : c.params) label += " " + p;
        std::printf("%-52s %10.1f %10.1f %12.1f %12.1f\n", label.c_str(), effect.min_ms,
                    effect.median_ms, blend.min_ms, blend.median_ms);
        std::fflush(stdout);
        QJsonArray assignments;
        for (const std::string& p : c.params) assignments.append(QString::fromStdString(p));
        rows.append(QJsonObject{{"effect", QString::fromStdString(c.effect)},
                                {"params", assignments},
                                {"min_ms", effect.min_ms},
                                {"median_ms", effect.median_ms},
                                {"blend_min_ms", blend.min_ms},
                                {"blend_median_ms", blend.median_ms}});
    }
    if (args->has("json")) {
        const QJsonObject report{{"width", size.width},
                                 {"height", size.height},
                                 {"iterations", *iterations},
                                 {"seed", *seed},
                                 {"opencv_threads", cv::getNumThreads()},
                                 {"effects", rows}};
        const QByteArray bytes = QJsonDocument(report).toJson();
        if (auto ok = io::atomic_write(args->get("json"), bytes.toStdString()); !ok)
            return fail(ok.message());
    }
    return 0;
}

}  // namespace ps::cli
