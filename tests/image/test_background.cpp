// The background-removal pipeline on synthetic inputs whose answers are known by construction:
// background parsing, the default cut-out (image + matte as alpha), colour backgrounds,
// refinement reaching the result, and the preview checkerboard.
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "image/background.h"

namespace img = ps::image;

namespace {

cv::Mat random_rgb(cv::Size size, int seed) {
    cv::Mat rgb(size, CV_8UC3);
    cv::RNG rng(seed);
    rng.fill(rgb, cv::RNG::UNIFORM, 0, 256);
    return rgb;
}

// Every alpha value 0..255 appears, left to right, on every row.
cv::Mat ramp_matte(cv::Size size) {
    cv::Mat matte(size, CV_8UC1);
    for (int x = 0; x < size.width; ++x) matte.col(x).setTo(x * 255 / (size.width - 1));
    return matte;
}

int differing(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size() || a.type() != b.type()) return -1;
    cv::Mat diff;
    cv::absdiff(a, b, diff);
    return cv::countNonZero(diff.reshape(1));
}

}  // namespace

class TestBackground : public QObject {
    Q_OBJECT
  private slots:
    void parse_background_data();
    void parse_background();
    void defaults_give_the_image_with_the_matte_as_alpha();
    void colour_background_is_exact_where_alpha_is_0_or_1();
    void refinement_reaches_the_cutout_and_the_matte();
    void blurred_background_is_rgb();
    void bad_inputs_are_errors();
    void checkerboard_shows_colour_at_alpha_255_and_board_at_0();
};

void TestBackground::parse_background_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("r");
    QTest::addColumn<int>("g");
    QTest::addColumn<int>("b");
    const int transparent = int(img::BackgroundKind::Transparent);
    const int colour = int(img::BackgroundKind::Colour);
    const int blurred = int(img::BackgroundKind::Blurred);
    QTest::newRow("transparent") << "transparent" << true << transparent << 0 << 0 << 0;
    QTest::newRow("blurred") << "blurred" << true << blurred << 0 << 0 << 0;
    QTest::newRow("white") << "#ffffff" << true << colour << 255 << 255 << 255;
    QTest::newRow("mixed case") << "#20a0Fe" << true << colour << 0x20 << 0xa0 << 0xfe;
    QTest::newRow("black") << "#000000" << true << colour << 0 << 0 << 0;
    QTest::newRow("short") << "#fff" << false << 0 << 0 << 0 << 0;
    QTest::newRow("no hash") << "ffffff" << false << 0 << 0 << 0 << 0;
    QTest::newRow("not hex") << "#gg0000" << false << 0 << 0 << 0 << 0;
    QTest::newRow("empty") << "" << false << 0 << 0 << 0 << 0;
    QTest::newRow("name") << "white" << false << 0 << 0 << 0 << 0;
}

void TestBackground::parse_background() {
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(int, kind);
    auto parsed = img::parse_background(text.toStdString());
    QCOMPARE(parsed.ok(), ok);
    if (!ok) {
        QVERIFY2(QString::fromStdString(parsed.message()).contains("#RRGGBB"),
                 parsed.message().c_str());
        return;
    }
    QCOMPARE(int(parsed->kind), kind);
    if (parsed->kind == img::BackgroundKind::Colour) {
        QFETCH(int, r);
        QFETCH(int, g);
        QFETCH(int, b);
        QCOMPARE(parsed->colour, cv::Scalar(r, g, b));
    }
}

void TestBackground::defaults_give_the_image_with_the_matte_as_alpha() {
    const cv::Mat rgb = random_rgb({256, 7}, 1);
    const cv::Mat matte = ramp_matte(rgb.size());
    auto out = img::remove_background(rgb, matte, {}, {});
    QVERIFY(out.ok());
    QCOMPARE(out->image.type(), CV_8UC4);
    // Independent reference: the channels side by side.
    std::vector<cv::Mat> channels;
    cv::split(rgb, channels);
    channels.push_back(matte);
    cv::Mat expected;
    cv::merge(channels, expected);
    QCOMPARE(differing(out->image, expected), 0);
    QCOMPARE(differing(out->matte, matte), 0);
}

void TestBackground::colour_background_is_exact_where_alpha_is_0_or_1() {
    const cv::Mat rgb = random_rgb({40, 20}, 2);
    cv::Mat matte(rgb.size(), CV_8UC1, cv::Scalar(0));
    matte.colRange(0, 20).setTo(255);
    auto background = img::parse_background("#204080");
    QVERIFY(background.ok());
    auto out = img::remove_background(rgb, matte, {}, *background);
    QVERIFY(out.ok());
    QCOMPARE(out->image.type(), CV_8UC3);
    QCOMPARE(differing(out->image.colRange(0, 20), rgb.colRange(0, 20)), 0);
    const cv::Mat colour(rgb.rows, 20, CV_8UC3, cv::Scalar(0x20, 0x40, 0x80));
    QCOMPARE(differing(out->image.colRange(20, 40), colour), 0);
}

void TestBackground::refinement_reaches_the_cutout_and_the_matte() {
    // A 20 px square grown by 3 px is 26 px wide; the alpha of the cut-out is that matte.
    const cv::Mat rgb = random_rgb({60, 60}, 3);
    cv::Mat matte(rgb.size(), CV_8UC1, cv::Scalar(0));
    matte(cv::Rect(20, 20, 20, 20)).setTo(255);
    img::RefineOptions grow;
    grow.grow_px = 3;
    auto out = img::remove_background(rgb, matte, grow, {});
    QVERIFY(out.ok());
    const int row = 30;
    int opaque = 0;
    for (int x = 0; x < 60; ++x) opaque += out->matte.at<uchar>(row, x) == 255;
    QVERIFY2(opaque >= 25 && opaque <= 27, qPrintable(QString::number(opaque)));
    cv::Mat alpha;
    cv::extractChannel(out->image, alpha, 3);
    QCOMPARE(differing(alpha, out->matte), 0);
    // Feathering makes soft values that the hard input did not have.
    img::RefineOptions feather;
    feather.feather_sigma_px = 2;
    auto soft = img::remove_background(rgb, matte, feather, {});
    QVERIFY(soft.ok());
    QVERIFY(soft->matte.at<uchar>(30, 20) > 0 && soft->matte.at<uchar>(30, 20) < 255);
}

void TestBackground::blurred_background_is_rgb() {
    const cv::Mat rgb = random_rgb({80, 40}, 4);
    const cv::Mat matte = ramp_matte(rgb.size());
    auto background = img::parse_background("blurred");
    auto out = img::remove_background(rgb, matte, {}, *background);
    QVERIFY(out.ok());
    QCOMPARE(out->image.type(), CV_8UC3);
    QCOMPARE(out->image.size(), rgb.size());
    // Where alpha is 1 the subject is kept exactly.
    QCOMPARE(differing(out->image.col(79), rgb.col(79)), 0);
}

void TestBackground::bad_inputs_are_errors() {
    const cv::Mat rgb = random_rgb({20, 10}, 5);
    auto wrong_size = img::remove_background(rgb, cv::Mat(5, 5, CV_8UC1, cv::Scalar(0)), {}, {});
    QVERIFY(!wrong_size.ok());
    QVERIFY(QString::fromStdString(wrong_size.message()).contains("5x5"));
    auto wrong_type = img::remove_background(rgb, cv::Mat(10, 20, CV_32FC1, cv::Scalar(0)), {}, {});
    QVERIFY(!wrong_type.ok());
    img::RefineOptions bad;
    bad.feather_sigma_px = -1;
    QVERIFY(!img::remove_background(rgb, cv::Mat(10, 20, CV_8UC1, cv::Scalar(0)), bad, {}).ok());
    img::BackgroundOptions no_image;
    no_image.kind = img::BackgroundKind::Image;
    auto missing =
        img::remove_background(rgb, cv::Mat(10, 20, CV_8UC1, cv::Scalar(0)), {}, no_image);
    QVERIFY(!missing.ok());
    QCOMPARE(missing.error().kind, ps::ErrorKind::InvalidArgument);
}

void TestBackground::checkerboard_shows_colour_at_alpha_255_and_board_at_0() {
    cv::Mat rgba(24, 24, CV_8UC4, cv::Scalar(10, 20, 30, 0));
    rgba.row(0).setTo(cv::Scalar(10, 20, 30, 255));
    const cv::Mat out = img::over_checkerboard(rgba, 12);
    QCOMPARE(out.type(), CV_8UC3);
    QCOMPARE(out.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
    QCOMPARE(out.at<cv::Vec3b>(1, 0), cv::Vec3b(240, 240, 240));    // cell (0, 0)
    QCOMPARE(out.at<cv::Vec3b>(1, 12), cv::Vec3b(200, 200, 200));   // cell (1, 0)
    QCOMPARE(out.at<cv::Vec3b>(12, 12), cv::Vec3b(240, 240, 240));  // cell (1, 1)
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, img::over_checkerboard(cv::Mat(2, 2, CV_8UC3)));
}

QTEST_GUILESS_MAIN(TestBackground)
#include "test_background.moc"
