// COCO RLE: our encoder and strings against an independent decoder written here from the
// published description of the format, and against counts and strings worked out by hand.
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <random>

#include "annotation/rle.h"

using namespace ps::annotation;

namespace {

// The COCO RLE description (cocodataset/cocoapi, PythonAPI/pycocotools/_mask.pyx and mask.py):
// "counts" lists run lengths over the image in column-major (Fortran) order, alternating 0s and
// 1s and starting with 0s. The compressed string stores each count as a little-endian sequence
// of 5-bit groups, each written as the character 48 + group, where 0x20 in a character means
// "another group follows" and 0x10 in the last group is the sign; counts from the fourth on are
// stored as the difference to the count two places before.
std::vector<long long> independent_counts(const std::string& text) {
    std::vector<long long> counts;
    size_t i = 0;
    while (i < text.size()) {
        long long value = 0;
        int groups = 0;
        int character = 0;
        do {
            character = text[i++] - 48;
            value += static_cast<long long>(character & 31) * (1LL << (5 * groups));
            ++groups;
        } while (character & 32);
        if (character & 16) value -= 1LL << (5 * groups);  // two's complement of 5*groups bits
        if (counts.size() >= 3) value += counts[counts.size() - 2];
        counts.push_back(value);
    }
    return counts;
}

// Decodes into a mask by walking pixel index p = x * height + y.
cv::Mat independent_decode(const std::string& text, int height, int width) {
    cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
    long long p = 0;
    const std::vector<long long> counts = independent_counts(text);
    for (size_t run = 0; run < counts.size(); ++run) {
        for (long long k = 0; k < counts[run]; ++k, ++p) {
            const int x = static_cast<int>(p / height), y = static_cast<int>(p % height);
            if (run % 2 == 1) mask.at<uint8_t>(y, x) = 255;
        }
    }
    if (p != static_cast<long long>(height) * width) return {};  // runs do not cover the image
    return mask;
}

cv::Mat random_mask(std::mt19937& random, int height, int width, double density, bool blobs) {
    cv::Mat mask(height, width, CV_8UC1, cv::Scalar(0));
    std::uniform_real_distribution<double> unit(0, 1);
    if (!blobs) {
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) mask.at<uint8_t>(y, x) = unit(random) < density ? 255 : 0;
        return mask;
    }
    // Rectangles give long runs (multi-group counts and negative differences).
    std::uniform_int_distribution<int> xs(0, width - 1), ys(0, height - 1);
    for (int i = 0; i < 6; ++i) {
        const int x0 = xs(random), y0 = ys(random), x1 = xs(random), y1 = ys(random);
        mask(cv::Range(std::min(y0, y1), std::max(y0, y1) + 1), cv::Range(std::min(x0, x1), std::max(x0, x1) + 1)) =
            i % 3 == 2 ? 0 : 255;
    }
    return mask;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::countNonZero(a != b) == 0;
}

cv::Mat mask_from_rows(const std::vector<std::string>& rows) {
    cv::Mat mask(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()), CV_8UC1, cv::Scalar(0));
    for (int y = 0; y < mask.rows; ++y)
        for (int x = 0; x < mask.cols; ++x) mask.at<uint8_t>(y, x) = rows[y][x] == '#' ? 255 : 0;
    return mask;
}

}  // namespace

class TestRle : public QObject {
    Q_OBJECT

private slots:
    void known_vectors_data() {
        QTest::addColumn<QStringList>("rows");
        QTest::addColumn<QList<uint>>("counts");
        QTest::addColumn<QString>("text");
        // Worked by hand from the description above.
        QTest::newRow("1x1 empty") << QStringList{"."} << QList<uint>{1} << "1";
        QTest::newRow("1x1 full") << QStringList{"#"} << QList<uint>{0, 1} << "01";
        // Column-major: (0,0) (1,0) (0,1) (1,1) = 0 1 0 0.
        QTest::newRow("2x2 one pixel") << QStringList{"..", "#."} << QList<uint>{1, 1, 2} << "112";
        // 100 = 3 * 32 + 4: group 4 with the continuation bit (4 + 32 + 48 = 'T'), then 3 -> '3'.
        QTest::newRow("10x10 empty")
            << QStringList(10, "..........") << QList<uint>{100} << "T3";
        // Column 0 = 0 1 1 1 0 1 0 0 0 0: counts 1 3 1 1 4; the fourth is stored as 1 - 3 = -2:
        // one group 30 (sign bit 16 set) -> 30 + 48 = 'N'; the fifth as 4 - 1 = 3 -> '3'.
        QTest::newRow("negative difference")
            << QStringList{".", "#", "#", "#", ".", "#", ".", ".", ".", "."} << QList<uint>{1, 3, 1, 1, 4}
            << "131N3";
        // 16 must take two groups: alone, its bit 0x10 would read as the sign. So 16 with the
        // continuation bit (16 + 32 + 48 = '`'), then 0 -> '0'.
        QTest::newRow("sixteen") << QStringList(16, "#") << QList<uint>{0, 16} << "0`0";
    }

    void known_vectors() {
        QFETCH(QStringList, rows);
        QFETCH(QList<uint>, counts);
        QFETCH(QString, text);
        std::vector<std::string> lines;
        for (const QString& row : rows) lines.push_back(row.toStdString());
        const cv::Mat mask = mask_from_rows(lines);
        const Rle rle = rle_encode(mask);
        QCOMPARE(QList<uint>(rle.counts.begin(), rle.counts.end()), counts);
        QCOMPARE(QString::fromStdString(rle_to_string(rle)), text);
        auto back = rle_from_string(text.toStdString(), mask.rows, mask.cols, "vector");
        QVERIFY2(back.ok(), back.ok() ? "" : back.message().c_str());
        QVERIFY(*back == rle);
        QVERIFY(same(rle_decode(*back), mask));
        QVERIFY(same(independent_decode(text.toStdString(), mask.rows, mask.cols), mask));
    }

    void random_masks_match_independent_decoder_data() {
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("width");
        QTest::addColumn<double>("density");
        QTest::addColumn<bool>("blobs");
        QTest::newRow("1x1") << 1 << 1 << 0.5 << false;
        QTest::newRow("1x37 row") << 1 << 37 << 0.5 << false;
        QTest::newRow("41x1 column") << 41 << 1 << 0.5 << false;
        QTest::newRow("odd 13x29 sparse") << 13 << 29 << 0.1 << false;
        QTest::newRow("odd 31x17 dense") << 31 << 17 << 0.9 << false;
        QTest::newRow("noise 64x48") << 64 << 48 << 0.5 << false;
        QTest::newRow("blobs 480x640") << 480 << 640 << 0.0 << true;
        QTest::newRow("blobs 1001x333") << 1001 << 333 << 0.0 << true;
    }

    void random_masks_match_independent_decoder() {
        QFETCH(int, height);
        QFETCH(int, width);
        QFETCH(double, density);
        QFETCH(bool, blobs);
        std::mt19937 random(static_cast<unsigned>(height * 7919 + width));
        for (int trial = 0; trial < 5; ++trial) {
            const cv::Mat mask = random_mask(random, height, width, density, blobs);
            const Rle rle = rle_encode(mask);
            const std::string text = rle_to_string(rle);
            QVERIFY(same(independent_decode(text, height, width), mask));
            QVERIFY(same(rle_decode(rle), mask));
            auto parsed = rle_from_string(text, height, width, "random");
            QVERIFY(parsed.ok());
            QVERIFY(*parsed == rle);
            QCOMPARE(rle_area(rle), static_cast<uint64_t>(cv::countNonZero(mask)));
            const cv::Rect box = cv::countNonZero(mask) ? cv::boundingRect(mask) : cv::Rect();
            const auto bbox = rle_bbox(rle);
            QCOMPARE(bbox[0], double(box.x));
            QCOMPARE(bbox[1], double(box.y));
            QCOMPARE(bbox[2], double(box.width));
            QCOMPARE(bbox[3], double(box.height));
        }
    }

    void empty_and_full() {
        for (const auto& size : {cv::Size(1, 1), cv::Size(7, 3), cv::Size(640, 480)}) {
            const cv::Mat empty(size, CV_8UC1, cv::Scalar(0)), full(size, CV_8UC1, cv::Scalar(255));
            const Rle empty_rle = rle_encode(empty), full_rle = rle_encode(full);
            QCOMPARE(empty_rle.counts, std::vector<uint32_t>{uint32_t(size.area())});
            QCOMPARE(full_rle.counts, (std::vector<uint32_t>{0, uint32_t(size.area())}));
            QVERIFY(same(independent_decode(rle_to_string(empty_rle), size.height, size.width), empty));
            QVERIFY(same(independent_decode(rle_to_string(full_rle), size.height, size.width), full));
            QCOMPARE(rle_bbox(empty_rle), (std::array<double, 4>{0, 0, 0, 0}));
            QCOMPARE(rle_bbox(full_rle), (std::array<double, 4>{0, 0, double(size.width), double(size.height)}));
            QCOMPARE(rle_iou(empty_rle, full_rle), 0.0);
            QCOMPARE(rle_iou(full_rle, full_rle), 1.0);
        }
    }

    void iou_counts_overlap() {
        cv::Mat a(20, 30, CV_8UC1, cv::Scalar(0)), b = a.clone();
        a(cv::Rect(0, 0, 10, 10)) = 255;  // 100 px
        b(cv::Rect(5, 0, 10, 10)) = 255;  // 100 px, 50 shared
        QCOMPARE(rle_iou(rle_encode(a), rle_encode(b)), 50.0 / 150.0);
    }

    void counts_list_is_made_canonical() {
        // A hand-made list with empty runs is the same mask as the encoder's.
        auto rle = rle_from_counts({2, 0, 3, 1, 0, 0, 4}, 2, 5, "list");
        QVERIFY(rle.ok());
        QCOMPARE(rle->counts, (std::vector<uint32_t>{5, 1, 4}));
    }

    void invalid_input_names_context_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("width");
        QTest::addColumn<QString>("problem");
        QTest::newRow("short") << "T3" << 10 << 11 << "cover 100 pixels";
        QTest::newRow("bad character") << "1~" << 1 << 1 << "character '~'";
        QTest::newRow("cut") << "T" << 10 << 10 << "ends inside a number";
        QTest::newRow("negative run") << "N" << 1 << 1 << "length -2";
    }

    void invalid_input_names_context() {
        QFETCH(QString, text);
        QFETCH(int, height);
        QFETCH(int, width);
        QFETCH(QString, problem);
        auto rle = rle_from_string(text.toStdString(), height, width, "cats.json: annotation 7");
        QVERIFY(!rle.ok());
        const QString message = QString::fromStdString(rle.message());
        QVERIFY2(message.startsWith("cats.json: annotation 7: "), qPrintable(message));
        QVERIFY2(message.contains(problem), qPrintable(message));
    }
};

QTEST_MAIN(TestRle)
#include "test_rle.moc"
