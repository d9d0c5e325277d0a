// Stylised effects on synthetic images whose right answer is known by construction: palettes,
// preserved brightness, exact end points of tone maps, dot growth, matte blending, parsing.
#include <QtTest>

#include <opencv2/core.hpp>

#include <set>
#include <tuple>

#include "image/effects/effect_bw.h"
#include "image/effects/effect_dither.h"
#include "image/effects/effect_duotone.h"
#include "image/effects/effect_halftone.h"
#include "image/effects/effect_pop_art.h"
#include "image/effects/effect_registry.h"
#include "image/effects/effect_target.h"
#include "image/effects/palette.h"

using ps::image::Palette;

namespace {

using Colour = std::tuple<int, int, int>;

Colour key(const cv::Vec3b& c) {
    return {c[0], c[1], c[2]};
}

std::set<Colour> colours_of(const cv::Mat& rgb) {
    std::set<Colour> colours;
    for (int y = 0; y < rgb.rows; ++y)
        for (int x = 0; x < rgb.cols; ++x) colours.insert(key(rgb.at<cv::Vec3b>(y, x)));
    return colours;
}

std::set<Colour> colours_of(const Palette& palette) {
    std::set<Colour> colours;
    for (const cv::Vec3b& c : palette) colours.insert(key(c));
    return colours;
}

bool subset(const std::set<Colour>& inner, const std::set<Colour>& outer) {
    return std::includes(outer.begin(), outer.end(), inner.begin(), inner.end());
}

// Grey ramp from 0 at the left to 255 at the right, rows identical.
cv::Mat grey_gradient(cv::Size size) {
    cv::Mat rgb(size, CV_8UC3);
    for (int x = 0; x < size.width; ++x) {
        const uchar v = cv::saturate_cast<uchar>(255.0 * x / std::max(1, size.width - 1));
        rgb.col(x).setTo(cv::Scalar(v, v, v));
    }
    return rgb;
}

// Red rises to the right, green downwards, blue stays at 96: smooth in every channel.
cv::Mat colour_gradient(cv::Size size) {
    cv::Mat rgb(size, CV_8UC3);
    for (int y = 0; y < size.height; ++y)
        for (int x = 0; x < size.width; ++x)
            rgb.at<cv::Vec3b>(y, x) =
                cv::Vec3b(cv::saturate_cast<uchar>(255.0 * x / (size.width - 1)),
                          cv::saturate_cast<uchar>(255.0 * y / (size.height - 1)), 96);
    return rgb;
}

cv::Mat constant(cv::Size size, int grey) {
    return cv::Mat(size, CV_8UC3, cv::Scalar::all(grey));
}

cv::Mat random_rgb(cv::Size size, int seed) {
    cv::Mat rgb(size, CV_8UC3);
    cv::RNG rng(seed);
    rng.fill(rgb, cv::RNG::UNIFORM, 0, 256);
    return rgb;
}

double fraction_below(const cv::Mat& rgb, int level) {
    cv::Mat channel;
    cv::extractChannel(rgb, channel, 0);
    return cv::countNonZero(channel < level) / static_cast<double>(channel.total());
}

bool is_grey(const cv::Mat& rgb) {
    std::vector<cv::Mat> c;
    cv::split(rgb, c);
    return cv::norm(c[0], c[1], cv::NORM_INF) == 0 && cv::norm(c[1], c[2], cv::NORM_INF) == 0;
}

const Palette kBlackWhite = {{0, 0, 0}, {255, 255, 255}};

}  // namespace

Q_DECLARE_METATYPE(ps::image::DitherMethod)

class TestEffects : public QObject {
    Q_OBJECT

  private slots:
    // Every dither holds only palette colours and keeps the mean within 2 % of full scale.
    void dither_keeps_palette_and_mean_data() {
        using M = ps::image::DitherMethod;
        QTest::addColumn<M>("method");
        QTest::addColumn<bool>("colour");  // colour gradient + 27-colour cube, else grey + 1-bit
        QTest::addColumn<bool>("keeps_mean");
        QTest::newRow("floyd_steinberg 1-bit") << M::FloydSteinberg << false << true;
        QTest::newRow("atkinson 1-bit") << M::Atkinson << false << true;
        QTest::newRow("bayer4 1-bit") << M::Bayer4 << false << true;
        QTest::newRow("bayer8 1-bit") << M::Bayer8 << false << true;
        QTest::newRow("floyd_steinberg cube") << M::FloydSteinberg << true << true;
        QTest::newRow("bayer8 cube") << M::Bayer8 << true << true;
        // Atkinson drops 2/8 of each error by design, so a flat tone between two palette levels
        // (the gradient's blue, 96, between 0 and 128) drifts towards the nearer level (to ~106).
        QTest::newRow("atkinson cube") << M::Atkinson << true << false;
    }
    void dither_keeps_palette_and_mean() {
        QFETCH(ps::image::DitherMethod, method);
        QFETCH(bool, colour);
        QFETCH(bool, keeps_mean);
        const cv::Mat input = colour ? colour_gradient({256, 128}) : grey_gradient({256, 64});
        ps::image::DitherParams params;
        params.method = method;
        params.palette = colour ? ps::image::uniform_palette(27) : kBlackWhite;
        const cv::Mat out = ps::image::effect_dither(input, params);
        QCOMPARE(out.size(), input.size());
        QVERIFY(subset(colours_of(out), colours_of(params.palette)));
        if (!colour) QCOMPARE(colours_of(out).size(), size_t(2));
        const cv::Scalar in_mean = cv::mean(input), out_mean = cv::mean(out);
        for (int c = 0; c < 3 && keeps_mean; ++c)
            QVERIFY2(std::abs(in_mean[c] - out_mean[c]) <= 0.02 * 255,
                     qPrintable(
                         QString("channel %1: %2 vs %3").arg(c).arg(in_mean[c]).arg(out_mean[c])));
    }

    // Thresholds (M + 0.5)/n² straddle 50 % grey exactly in half.
    void bayer_of_half_grey_is_half_white_data() {
        QTest::addColumn<ps::image::DitherMethod>("method");
        QTest::newRow("bayer4") << ps::image::DitherMethod::Bayer4;
        QTest::newRow("bayer8") << ps::image::DitherMethod::Bayer8;
    }
    void bayer_of_half_grey_is_half_white() {
        QFETCH(ps::image::DitherMethod, method);
        ps::image::DitherParams params;
        params.method = method;
        const cv::Mat out = ps::image::effect_dither(constant({64, 48}, 128), params);
        QCOMPARE(1.0 - fraction_below(out, 128), 0.5);
    }

    void bayer_matrix_is_a_permutation() {
        const cv::Mat two = ps::image::bayer_matrix(2);
        QCOMPARE(two.at<int>(0, 0), 0);
        QCOMPARE(two.at<int>(0, 1), 2);
        QCOMPARE(two.at<int>(1, 0), 3);
        QCOMPARE(two.at<int>(1, 1), 1);
        const cv::Mat eight = ps::image::bayer_matrix(8);
        std::set<int> values(eight.begin<int>(), eight.end<int>());
        QCOMPARE(values.size(), size_t(64));
        QCOMPARE(*values.rbegin(), 63);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ps::image::bayer_matrix(6));
    }

    // Four flat colours in equal areas: median cut finds exactly them.
    void median_cut_finds_flat_colours() {
        cv::Mat rgb(40, 40, CV_8UC3);
        const Palette truth = {{200, 10, 10}, {10, 200, 10}, {10, 10, 200}, {240, 240, 240}};
        for (int q = 0; q < 4; ++q)
            rgb(cv::Rect((q % 2) * 20, (q / 2) * 20, 20, 20)).setTo(cv::Scalar(truth[q]));
        QCOMPARE(colours_of(ps::image::median_cut_palette(rgb, 4)), colours_of(truth));
        QCOMPARE(ps::image::median_cut_palette(rgb, 16).size(), size_t(4));  // no more than exist
        QCOMPARE(ps::image::uniform_palette(16).size(), size_t(8));
        QCOMPARE(ps::image::uniform_palette(27).size(), size_t(27));
    }

    void bw_is_grey_and_identity_on_grey() {
        const cv::Mat out = ps::image::effect_bw(random_rgb({37, 21}, 3), {});
        QVERIFY(is_grey(out));
        ps::image::BwParams plain;
        plain.clahe_clip = 0;  // no local contrast; identity tone curve
        const cv::Mat grey = grey_gradient({256, 3});
        QCOMPARE(cv::norm(ps::image::effect_bw(grey, plain), grey, cv::NORM_INF), 0.0);
    }

    // A low-contrast texture (grey 120..135) gets a wider spread from CLAHE.
    void clahe_raises_local_contrast() {
        cv::Mat grey(128, 128, CV_8UC1);
        cv::RNG(5).fill(grey, cv::RNG::UNIFORM, 120, 136);
        cv::Mat rgb;
        cv::merge(std::vector<cv::Mat>{grey, grey, grey}, rgb);
        const cv::Rect patch(32, 32, 64, 64);
        cv::Scalar mean_in, std_in, mean_out, std_out;
        cv::meanStdDev(rgb(patch), mean_in, std_in);
        cv::meanStdDev(ps::image::effect_bw(rgb, {})(patch), mean_out, std_out);
        QVERIFY2(std_out[0] > 1.5 * std_in[0],
                 qPrintable(QString("std %1 -> %2").arg(std_in[0]).arg(std_out[0])));
    }

    void tone_curve_is_identity_by_default_and_monotone() {
        const cv::Mat identity = ps::image::tone_curve_lut(1, 0, 1);
        for (int i = 0; i < 256; ++i) QCOMPARE(int(identity.at<uchar>(i)), i);
        const cv::Mat lifted = ps::image::tone_curve_lut(1.5, 0.1, 2.0);
        for (int i = 1; i < 256; ++i) QVERIFY(lifted.at<uchar>(i) >= lifted.at<uchar>(i - 1));
        QVERIFY(ps::image::tone_curve_lut(1, 0, 2).at<uchar>(128) > 128);  // gamma > 1 lifts
        QCOMPARE(int(ps::image::tone_curve_lut(2, 0, 1).at<uchar>(64)), 0);
    }

    // On a ramp every palette colour is used, in order from dark to light.
    void pop_art_uses_palette_in_order() {
        ps::image::PopArtParams params;
        params.smooth_px = 0;
        const cv::Mat out = ps::image::effect_pop_art(grey_gradient({256, 4}), params);
        QCOMPARE(colours_of(out), colours_of(params.palette));
        int last = 0;
        for (int x = 0; x < out.cols; ++x) {
            const auto at =
                std::find(params.palette.begin(), params.palette.end(), out.at<cv::Vec3b>(0, x));
            const int index = static_cast<int>(at - params.palette.begin());
            QVERIFY(index >= last);
            last = index;
        }
        params.smooth_px = 2;
        QVERIFY(subset(colours_of(ps::image::effect_pop_art(random_rgb({50, 30}, 1), params)),
                       colours_of(params.palette)));
    }

    void pop_art_grid_has_four_distinct_tints() {
        const cv::Mat input = colour_gradient({81, 61});  // odd: the left/top take the extra pixel
        const cv::Mat out = ps::image::effect_pop_art_grid(input, {});
        QCOMPARE(out.size(), input.size());
        const cv::Rect quadrants[4] = {
            {0, 0, 41, 31}, {41, 0, 40, 31}, {0, 31, 41, 30}, {41, 31, 40, 30}};
        std::vector<cv::Scalar> means;
        for (const cv::Rect& q : quadrants) {
            QCOMPARE(colours_of(out(q)).size(), size_t(3));  // levels = 3
            means.push_back(cv::mean(out(q)));
        }
        for (int a = 0; a < 4; ++a)
            for (int b = a + 1; b < 4; ++b)
                QVERIFY2(cv::norm(means[a] - means[b]) > 30,
                         qPrintable(QString("%1 vs %2").arg(a).arg(b)));
    }

    // Ink grows monotonically with darkness, from bare paper to solid ink, area ≈ darkness.
    void halftone_dots_grow_with_darkness() {
        double previous = -1;
        for (int grey = 255; grey >= 0; grey -= 15) {
            const cv::Mat out = ps::image::effect_halftone(constant({96, 64}, grey), {});
            QVERIFY(is_grey(out));
            const double ink = fraction_below(out, 128);
            QVERIFY2(ink >= previous,
                     qPrintable(QString("grey %1: %2 < %3").arg(grey).arg(ink).arg(previous)));
            QVERIFY2(std::abs(ink - (1 - grey / 255.0)) < 0.12,
                     qPrintable(QString("grey %1: %2").arg(grey).arg(ink)));
            previous = ink;
        }
        QCOMPARE(cv::countNonZero(
                     ps::image::effect_halftone(constant({30, 20}, 255), {}).reshape(1) != 255),
                 0);
        QCOMPARE(cv::countNonZero(ps::image::effect_halftone(constant({30, 20}, 0), {}).reshape(1)),
                 0);

        cv::Mat halves = constant({128, 64}, 200);
        halves(cv::Rect(0, 0, 64, 64)).setTo(cv::Scalar::all(60));
        ps::image::HalftoneParams params;
        params.angle_deg = 15;
        const cv::Mat out = ps::image::effect_halftone(halves, params);
        QVERIFY(fraction_below(out(cv::Rect(8, 8, 48, 48)), 128) >
                2 * fraction_below(out(cv::Rect(72, 8, 48, 48)), 128));
    }

    void duotone_maps_black_and_white_to_its_colours() {
        cv::Mat input(2, 3, CV_8UC3, cv::Scalar::all(0));
        input.col(1).setTo(cv::Scalar::all(255));
        input.col(2).setTo(cv::Scalar::all(51));  // a fifth of the way
        const ps::image::DuotoneParams params{{10, 200, 30}, {250, 40, 130}};
        const cv::Mat out = ps::image::effect_duotone(input, params);
        QCOMPARE(out.at<cv::Vec3b>(1, 0), params.dark);
        QCOMPARE(out.at<cv::Vec3b>(0, 1), params.light);
        QCOMPARE(out.at<cv::Vec3b>(0, 2), cv::Vec3b(58, 168, 50));
    }

    // Hard matte: the untargeted side is bit-exact; soft matte: out = (E·a + I·(255-a))/255.
    void target_blends_with_the_matte() {
        const cv::Size size(40, 30);
        const cv::Mat image = random_rgb(size, 11), effect = random_rgb(size, 12);
        cv::Mat matte(size, CV_8UC1, cv::Scalar(0));
        matte(cv::Rect(0, 0, 20, 30)).setTo(255);
        using T = ps::image::EffectTarget;
        const cv::Mat left(image, cv::Rect(0, 0, 20, 30)), right(image, cv::Rect(20, 0, 20, 30));
        const cv::Mat background =
            ps::image::apply_with_target(image, effect, matte, T::Background);
        QCOMPARE(cv::norm(background(cv::Rect(0, 0, 20, 30)), left, cv::NORM_INF), 0.0);
        QCOMPARE(cv::norm(background(cv::Rect(20, 0, 20, 30)), effect(cv::Rect(20, 0, 20, 30)),
                          cv::NORM_INF),
                 0.0);
        const cv::Mat object = ps::image::apply_with_target(image, effect, matte, T::Object);
        QCOMPARE(cv::norm(object(cv::Rect(20, 0, 20, 30)), right, cv::NORM_INF), 0.0);
        QCOMPARE(
            cv::norm(object(cv::Rect(0, 0, 20, 30)), effect(cv::Rect(0, 0, 20, 30)), cv::NORM_INF),
            0.0);
        QCOMPARE(cv::norm(ps::image::apply_with_target(image, effect, cv::Mat(), T::All), effect,
                          cv::NORM_INF),
                 0.0);

        cv::Mat ramp(size, CV_8UC1);
        cv::RNG(13).fill(ramp, cv::RNG::UNIFORM, 0, 256);
        const cv::Mat soft = ps::image::apply_with_target(image, effect, ramp, T::Object);
        for (int y = 0; y < size.height; ++y)
            for (int x = 0; x < size.width; ++x)
                for (int c = 0; c < 3; ++c) {
                    const int a = ramp.at<uchar>(y, x);
                    const double expected = (effect.at<cv::Vec3b>(y, x)[c] * a +
                                             image.at<cv::Vec3b>(y, x)[c] * (255 - a)) /
                                            255.0;
                    QCOMPARE(int(soft.at<cv::Vec3b>(y, x)[c]), int(std::lround(expected)));
                }
        // Black image, white effect: the object blend reproduces the matte itself.
        const cv::Mat linear =
            ps::image::apply_with_target(constant(size, 0), constant(size, 255), ramp, T::Object);
        cv::Mat red;
        cv::extractChannel(linear, red, 0);
        QCOMPARE(cv::norm(red, ramp, cv::NORM_INF), 0.0);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 ps::image::apply_with_target(image, effect, cv::Mat(), T::Object));
    }

    void registry_parse_errors_are_clear_data() {
        QTest::addColumn<QString>("effect");
        QTest::addColumn<QStringList>("assignments");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown effect") << "blur" << QStringList{}
                                        << "unknown effect 'blur' (expected one of bw, pop_art, "
                                           "pop_art_grid, dither, halftone, duotone)";
        QTest::newRow("unknown parameter") << "dither" << QStringList{"methd=atkinson"}
                                           << "dither: unknown parameter 'methd' (dither takes "
                                              "method, palette, colors, serpentine)";
        QTest::newRow("no equals")
            << "halftone" << QStringList{"cell"} << "halftone: 'cell' is not k=v (e.g. cell=8)";
        QTest::newRow("choice")
            << "dither" << QStringList{"method=foo"}
            << "dither: method=foo is not one of floyd_steinberg, atkinson, bayer4, bayer8";
        QTest::newRow("range") << "halftone" << QStringList{"cell=1"}
                               << "halftone: cell=1 is out of range 2..256";
        QTest::newRow("whole") << "halftone" << QStringList{"cell=2.5"}
                               << "halftone: cell=2.5 is not a whole number (expected 2..256)";
        QTest::newRow("number") << "bw" << QStringList{"gamma=abc"}
                                << "bw: gamma=abc is not a number (expected 0.1..10)";
        QTest::newRow("colour")
            << "duotone" << QStringList{"dark=#12345"}
            << "duotone: dark=#12345 is not a colour (expected #RRGGBB, e.g. #ff8800)";
        QTest::newRow("too few colours")
            << "pop_art" << QStringList{"palette=#ff0000"}
            << "pop_art: palette=#ff0000 has 1 colours, expected 2..16";
        QTest::newRow("twice") << "halftone" << QStringList{"cell=4", "cell=6"}
                               << "halftone: cell is given twice";
        QTest::newRow("boolean") << "halftone" << QStringList{"antialias=maybe"}
                                 << "halftone: antialias=maybe is not true or false";
        QTest::newRow("ignored count")
            << "dither" << QStringList{"colors=8"}
            << "dither: colors applies only to palette=uniform or palette=median_cut";
    }
    void registry_parse_errors_are_clear() {
        QFETCH(QString, effect);
        QFETCH(QStringList, assignments);
        QFETCH(QString, message);
        std::vector<std::string> list;
        for (const QString& a : assignments) list.push_back(a.toStdString());
        const auto parsed = ps::image::parse_effect_params(effect.toStdString(), list);
        QVERIFY(!parsed);
        QCOMPARE(parsed.error().kind, ps::ErrorKind::InvalidArgument);
        QCOMPARE(QString::fromStdString(parsed.message()), message);
    }

    void registry_fills_defaults_and_canonicalises() {
        const auto parsed =
            ps::image::parse_effect_params("dither", {"palette=FF0000,#00ff00", "serpentine=off"});
        QVERIFY(parsed);
        QCOMPARE(parsed->text("method"), std::string("floyd_steinberg"));
        QCOMPARE(parsed->text("palette"), std::string("#ff0000,#00ff00"));
        QCOMPARE(parsed->colours("palette").size(), size_t(2));
        QCOMPARE(parsed->boolean("serpentine"), false);
        QVERIFY(!ps::image::parse_effect_target("everything"));
        QCOMPARE(*ps::image::parse_effect_target("background"),
                 ps::image::EffectTarget::Background);
        const auto bw = ps::image::parse_effect_params("bw", {});
        QVERIFY(!ps::image::apply_effect("duotone", constant({4, 4}, 9), *bw));  // wrong params
        QVERIFY(!ps::image::apply_effect("bw", cv::Mat(), *bw));                 // error, no throw
        QVERIFY(ps::image::describe_effects().find("halftone: ") != std::string::npos);
    }

    // Every effect and variant through the registry on degenerate and odd sizes.
    void every_effect_handles_tiny_and_odd_sizes_data() {
        QTest::addColumn<QString>("effect");
        QTest::addColumn<QStringList>("assignments");
        for (const cv::Size size :
             {cv::Size(1, 1), cv::Size(1, 7), cv::Size(7, 1), cv::Size(2, 2), cv::Size(33, 17)}) {
            const QString tag = QString(" %1x%2").arg(size.width).arg(size.height);
            const QList<QPair<QString, QStringList>> variants = {
                {"bw", {}},
                {"pop_art", {}},
                {"pop_art_grid", {"levels=4"}},
                {"halftone", {}},
                {"halftone", {"cell=3", "angle=0", "antialias=false"}},
                {"duotone", {}},
                {"dither", {}},
                {"dither", {"method=atkinson"}},
                {"dither", {"method=bayer4", "palette=uniform", "colors=27"}},
                {"dither", {"method=bayer8", "palette=median_cut", "colors=4"}},
                {"dither", {"palette=#ff0000,#00ff00,#0000ff"}}};
            for (const auto& v : variants)
                QTest::newRow(qPrintable(v.first + " " + v.second.join(' ') + tag))
                    << v.first << v.second;
        }
    }
    void every_effect_handles_tiny_and_odd_sizes() {
        QFETCH(QString, effect);
        QFETCH(QStringList, assignments);
        const QString tag = QTest::currentDataTag();
        const QStringList size = tag.section(' ', -1).split('x');
        const cv::Mat input = random_rgb({size[0].toInt(), size[1].toInt()}, 21);
        std::vector<std::string> list;
        for (const QString& a : assignments) list.push_back(a.toStdString());
        const auto params = ps::image::parse_effect_params(effect.toStdString(), list);
        QVERIFY2(params, params ? "" : params.message().c_str());
        const auto out = ps::image::apply_effect(effect.toStdString(), input, *params);
        QVERIFY2(out, out ? "" : out.message().c_str());
        QCOMPARE(out->size(), input.size());
        QCOMPARE(out->type(), CV_8UC3);
    }
};

QTEST_GUILESS_MAIN(TestEffects)
#include "test_effects.moc"
