// Track exports read back independently: PNG masks and RGBA cut-outs through OpenCV's own PNG
// reader, the YouTube-VIS JSON through Qt's JSON and a run-length decoder written here from the
// COCO RLE definition (column-major runs, background first), not annotation/rle.cpp. A failing
// frame leaves no export behind, and the prompts file's errors name the file and JSON path.
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <filesystem>

#include "coco_rle_reference.h"
#include "video/track_export.h"
#include "video/track_prompts.h"
#include "video/track_store.h"

using namespace ps;
using namespace ps::video;

namespace {

constexpr int kWidth = 64, kHeight = 48, kFrames = 6;

// Object 1 (a disc moving right) on every frame but 4, where it is stored empty; object 2 (a
// box) only on frames 2 and 3.
cv::Mat expected_mask(int object, int frame) {
    cv::Mat mask(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
    if (object == 1 && frame != 4) cv::circle(mask, {10 + 6 * frame, 20}, 7, 255, cv::FILLED);
    if (object == 2 && (frame == 2 || frame == 3))
        cv::rectangle(mask, cv::Rect(40, 5 + frame, 15, 9), 255, cv::FILLED);
    return mask;
}

bool stored(int object, int frame) {
    return object == 1 || frame == 2 || frame == 3;
}

cv::Mat frame_rgb(long long frame) {
    cv::Mat rgb(kHeight, kWidth, CV_8UC3);
    for (int y = 0; y < kHeight; ++y)
        for (int x = 0; x < kWidth; ++x)
            rgb.at<cv::Vec3b>(y, x) =
                cv::Vec3b(static_cast<uint8_t>(x * 4), static_cast<uint8_t>(y * 5),
                          static_cast<uint8_t>(frame * 40));
    return rgb;
}

std::unique_ptr<TrackStore> make_store(const std::string& folder) {
    TrackSource source;
    source.video = "/clips/walk.mp4";
    source.width = kWidth;
    source.height = kHeight;
    source.frame_count = kFrames;
    source.model = "tiny.pt";
    source.model_hash = "abc";
    auto store = TrackStore::open(folder, source);
    if (!store) qFatal("%s", store.message().c_str());
    TrackObject disc, box;
    disc.id = 1;
    disc.label = "ball";
    disc.prompts = {TrackPrompt{0, {{10, 20, true}}, std::nullopt, std::nullopt}};
    box.id = 2;
    box.prompts = {TrackPrompt{2, {}, TrackBox{40, 7, 55, 16}, std::nullopt}};
    if (!(*store)->set_objects({disc, box})) qFatal("set_objects");
    for (int object : {1, 2})
        for (int frame = 0; frame < kFrames; ++frame) {
            if (!stored(object, frame)) continue;
            TrackMask m;
            m.frame = frame;
            m.object_id = object;
            m.mask = annotation::rle_encode(expected_mask(object, frame));
            m.visible = cv::countNonZero(expected_mask(object, frame)) > 0;
            m.score = 0.9f;
            if (!(*store)->put(m)) qFatal("put");
        }
    return std::move(*store);
}

QJsonObject read_json(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

QString write_text(const QString& path, const QByteArray& text) {
    QFile file(path);
    file.open(QIODevice::WriteOnly);
    file.write(text);
    return path;
}

}  // namespace

class TestSam2TrackExport : public QObject {
    Q_OBJECT
  private slots:
    void masks_are_png_per_object_and_frame();
    void youtube_vis_json_decodes_to_the_masks();
    void cutouts_carry_the_frame_and_the_union_or_object_alpha();
    void a_failing_frame_leaves_no_export();
    void export_names_parse();
    void prompts_file_reads_points_box_and_mask();
    void prompts_file_errors_name_the_json_path_data();
    void prompts_file_errors_name_the_json_path();
};

void TestSam2TrackExport::masks_are_png_per_object_and_frame() {
    QTemporaryDir dir;
    auto store = make_store(dir.filePath("store").toStdString());
    const std::string out = dir.filePath("masks").toStdString();
    auto made = export_track_masks(*store, out);
    QVERIFY2(made.ok(), made.ok() ? "" : made.message().c_str());
    QCOMPARE(made->files, 8LL);
    for (int object : {1, 2})
        for (int frame = 0; frame < kFrames; ++frame) {
            const std::string path =
                out + "/" + std::to_string(object) + "/" + track_frame_file(frame);
            QCOMPARE(std::filesystem::exists(path), stored(object, frame));
            if (!stored(object, frame)) continue;
            const cv::Mat png = cv::imread(path, cv::IMREAD_UNCHANGED);
            QCOMPARE(png.type(), CV_8UC1);
            QCOMPARE(cv::countNonZero(png != expected_mask(object, frame)), 0);
            // Only 0 and 255.
            QCOMPARE(cv::countNonZero(png != 0 & png != 255), 0);
        }
}

void TestSam2TrackExport::youtube_vis_json_decodes_to_the_masks() {
    QTemporaryDir dir;
    auto store = make_store(dir.filePath("store").toStdString());
    const QString path = dir.filePath("vis.json");
    auto made = export_track_youtube_vis(*store, path.toStdString());
    QVERIFY2(made.ok(), made.ok() ? "" : made.message().c_str());
    const QJsonObject root = read_json(path);
    const QJsonArray videos = root["videos"].toArray();
    QCOMPARE(videos.size(), 1);
    const QJsonObject video = videos[0].toObject();
    QCOMPARE(video["width"].toInt(), kWidth);
    QCOMPARE(video["height"].toInt(), kHeight);
    QCOMPARE(video["length"].toInt(), kFrames);
    QCOMPARE(video["file_names"].toArray().size(), kFrames);
    QCOMPARE(video["file_names"].toArray()[3].toString(), QString("walk/00003.jpg"));
    const QJsonArray categories = root["categories"].toArray();
    QCOMPARE(categories.size(), 2);
    QCOMPARE(categories[0].toObject()["name"].toString(), QString("ball"));
    QCOMPARE(categories[1].toObject()["name"].toString(), QString("object"));
    const QJsonArray annotations = root["annotations"].toArray();
    QCOMPARE(annotations.size(), 2);
    for (int i = 0; i < 2; ++i) {
        const QJsonObject annotation = annotations[i].toObject();
        const int object = annotation["id"].toInt();
        QCOMPARE(object, i + 1);
        QCOMPARE(annotation["video_id"].toInt(), 1);
        QCOMPARE(annotation["category_id"].toInt(), i + 1);
        const QJsonArray segmentations = annotation["segmentations"].toArray();
        const QJsonArray areas = annotation["areas"].toArray();
        const QJsonArray boxes = annotation["bboxes"].toArray();
        QCOMPARE(segmentations.size(), kFrames);
        QCOMPARE(areas.size(), kFrames);
        QCOMPARE(boxes.size(), kFrames);
        for (int frame = 0; frame < kFrames; ++frame) {
            const cv::Mat expected = expected_mask(object, frame);
            const int area = cv::countNonZero(expected);
            if (area == 0) {  // absent or empty: null, as YouTube-VIS marks a missing frame
                QVERIFY(segmentations[frame].isNull());
                QVERIFY(areas[frame].isNull());
                QVERIFY(boxes[frame].isNull());
                continue;
            }
            const QJsonObject rle = segmentations[frame].toObject();
            QVERIFY(rle["counts"].isArray());  // the ground truth's uncompressed counts
            QCOMPARE(rle["size"].toArray()[0].toInt(), kHeight);
            const cv::Mat decoded = decode_coco_counts(rle);
            QVERIFY(!decoded.empty());
            QCOMPARE(cv::countNonZero(decoded != expected), 0);
            QCOMPARE(areas[frame].toInt(), area);
            const cv::Rect box = cv::boundingRect(expected);
            const QJsonArray b = boxes[frame].toArray();
            QCOMPARE(b[0].toDouble(), double(box.x));
            QCOMPARE(b[1].toDouble(), double(box.y));
            QCOMPARE(b[2].toDouble(), double(box.width));
            QCOMPARE(b[3].toDouble(), double(box.height));
        }
    }
}

void TestSam2TrackExport::cutouts_carry_the_frame_and_the_union_or_object_alpha() {
    QTemporaryDir dir;
    auto store = make_store(dir.filePath("store").toStdString());
    const auto frames = [](long long index) -> Result<cv::Mat> { return frame_rgb(index); };
    const std::string together = dir.filePath("cutout").toStdString();
    auto made = export_track_cutouts(*store, frames, together);
    QVERIFY2(made.ok(), made.ok() ? "" : made.message().c_str());
    QCOMPARE(made->files, static_cast<long long>(kFrames));
    for (int frame = 0; frame < kFrames; ++frame) {
        const cv::Mat bgra =
            cv::imread(together + "/" + track_frame_file(frame), cv::IMREAD_UNCHANGED);
        QCOMPARE(bgra.type(), CV_8UC4);
        std::vector<cv::Mat> channels;
        cv::split(bgra, channels);
        const cv::Mat alpha = expected_mask(1, frame) | expected_mask(2, frame);
        QCOMPARE(cv::countNonZero(channels[3] != alpha), 0);
        cv::Mat rgb;
        cv::cvtColor(bgra, rgb, cv::COLOR_BGRA2RGB);
        cv::Mat difference;
        cv::absdiff(rgb, frame_rgb(frame), difference);
        QCOMPARE(cv::countNonZero(difference.reshape(1) != 0), 0);
    }
    const std::string apart = dir.filePath("cutout_objects").toStdString();
    made = export_track_cutouts(*store, frames, apart, {true});
    QVERIFY(made.ok());
    QCOMPARE(made->files, 8LL);
    const cv::Mat box = cv::imread(apart + "/2/" + track_frame_file(3), cv::IMREAD_UNCHANGED);
    std::vector<cv::Mat> channels;
    cv::split(box, channels);
    QCOMPARE(cv::countNonZero(channels[3] != expected_mask(2, 3)), 0);
    QVERIFY(!std::filesystem::exists(apart + "/2/" + track_frame_file(0)));
}

void TestSam2TrackExport::a_failing_frame_leaves_no_export() {
    QTemporaryDir dir;
    auto store = make_store(dir.filePath("store").toStdString());
    const auto failing = [](long long index) -> Result<cv::Mat> {
        if (index == 4) return make_error(ErrorKind::Io, "walk.mp4: frame 4 cannot be decoded");
        return frame_rgb(index);
    };
    const std::string out = dir.filePath("cutout").toStdString();
    auto made = export_track_cutouts(*store, failing, out);
    QVERIFY(!made.ok());
    QVERIFY2(made.message().find("frame 4") != std::string::npos, made.message().c_str());
    QVERIFY(!std::filesystem::exists(out));
    // Nothing beside it either: the staging folder is gone.
    int entries = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path().toStdString()))
        entries += entry.path().filename() != "store";
    QCOMPARE(entries, 0);
    // The JSON into a missing folder: an error naming it, no file.
    auto json = export_track_youtube_vis(*store, dir.filePath("no/such/vis.json").toStdString());
    QVERIFY(!json.ok());
    QVERIFY(json.message().find("no/such") != std::string::npos);
}

void TestSam2TrackExport::export_names_parse() {
    auto all = parse_track_exports("vis,masks,cutout,masks");
    QVERIFY(all.ok());
    QCOMPARE(all->size(), size_t(3));
    QVERIFY((*all)[0] == TrackExportKind::YouTubeVis);
    auto bad = parse_track_exports("masks,pngs");
    QVERIFY(!bad.ok());
    QVERIFY(bad.message().find("'pngs'") != std::string::npos);
}

void TestSam2TrackExport::prompts_file_reads_points_box_and_mask() {
    QTemporaryDir dir;
    cv::Mat mask(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
    cv::rectangle(mask, cv::Rect(3, 4, 10, 12), 255, cv::FILLED);
    QVERIFY(cv::imwrite(dir.filePath("m.png").toStdString(), mask));
    const QString path = write_text(dir.filePath("prompts.json"), R"({"objects": [
        {"id": 4, "label": "car", "color": [1, 2, 3], "prompts": [
            {"frame": 5, "box": [1, 2, 30, 40], "points": [[10, 12.5, 1]]},
            {"frame": 0, "points": [[10, 20, 1], [30, 5, 0]]}]},
        {"id": 2, "prompts": [{"frame": 3, "mask": "m.png"}]}]})");
    auto objects = read_track_prompts(path.toStdString(), {kWidth, kHeight, kFrames});
    QVERIFY2(objects.ok(), objects.ok() ? "" : objects.message().c_str());
    QCOMPARE(objects->size(), size_t(2));
    const TrackObject& car = (*objects)[0];
    QCOMPARE(car.id, 4);
    QCOMPARE(car.label, std::string("car"));
    QVERIFY((car.color == std::array<uint8_t, 3>{{1, 2, 3}}));
    QCOMPARE(car.prompts.size(), size_t(2));
    QCOMPARE(car.prompts[0].frame, 0LL);  // sorted by frame
    QVERIFY(!car.prompts[0].points[1].positive);
    QVERIFY(car.prompts[1].box.has_value());
    QCOMPARE(car.prompts[1].box->x1, 30.0);
    QCOMPARE(car.prompts[1].points[0].y, 12.5);
    const TrackObject& second = (*objects)[1];
    QVERIFY(second.prompts[0].mask.has_value());
    QCOMPARE(cv::countNonZero(annotation::rle_decode(*second.prompts[0].mask) != mask), 0);
}

void TestSam2TrackExport::prompts_file_errors_name_the_json_path_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("message");
    QTest::newRow("frame past the end")
        << QByteArray(R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 1, 1]]}]},
               {"id": 2, "prompts": [{"frame": 900, "points": [[1, 1, 1]]}]}]})")
        << "prompts.json: objects[1].prompts[0].frame 900 is past the video's 6 frames";
    QTest::newRow("point outside")
        << QByteArray(
               R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[70, 1, 1]]}]}]})")
        << "objects[0].prompts[0].points[0][0] 70 is outside the video's 0..64";
    QTest::newRow("point just outside")
        << QByteArray(
               R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 48.25, 1]]}]}]})")
        << "objects[0].prompts[0].points[0][1] 48.25 is outside the video's 0..48";
    QTest::newRow("label")
        << QByteArray(
               R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 1, 2]]}]}]})")
        << "objects[0].prompts[0].points[0][2] is not a label 1 (positive) or 0 (negative)";
    QTest::newRow("empty box")
        << QByteArray(R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [9, 1, 3, 5]}]}]})")
        << "objects[0].prompts[0].box is empty";
    QTest::newRow("duplicate id")
        << QByteArray(R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [1, 1, 3, 5]}]},
               {"id": 1, "prompts": [{"frame": 1, "box": [1, 1, 3, 5]}]}]})")
        << "objects[1].id 1 is used by another object";
    QTest::newRow("two prompts on a frame")
        << QByteArray(R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [1, 1, 3, 5]},
               {"frame": 0, "points": [[1, 1, 1]]}]}]})")
        << "objects[0].prompts[1] is a second prompt on frame 0";
    QTest::newRow("typo")
        << QByteArray(
               R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "pionts": [[1, 1, 1]]}]}]})")
        << "objects[0].prompts[0] has an unknown key \"pionts\"";
    QTest::newRow("mask and points")
        << QByteArray(
               R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "mask": "m.png", "points": [[1, 1, 1]]}]}]})")
        << "a mask prompt stands alone";
    QTest::newRow("missing mask")
        << QByteArray(R"({"objects": [{"id": 1, "prompts": [{"frame": 0, "mask": "gone.png"}]}]})")
        << "objects[0].prompts[0].mask ";
    QTest::newRow("no objects") << QByteArray(R"({"objects": []})")
                                << "prompts.json: objects is not a list of at least one object";
    QTest::newRow("not json") << QByteArray("{\"objects\": [") << "prompts.json: not JSON";
    QTest::newRow("id zero")
        << QByteArray(R"({"objects": [{"id": 0, "prompts": [{"frame": 0, "box": [1, 1, 3, 5]}]}]})")
        << "objects[0].id is not a whole number from 1";
}

void TestSam2TrackExport::prompts_file_errors_name_the_json_path() {
    QFETCH(QByteArray, json);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(QDir::setCurrent(dir.path()));  // so the file is named as the user typed it
    write_text("prompts.json", json);
    auto objects = read_track_prompts("prompts.json", {kWidth, kHeight, kFrames});
    QVERIFY(!objects.ok());
    QVERIFY2(objects.message().find(message.toStdString()) != std::string::npos,
             objects.message().c_str());
    QVERIFY(objects.message().find('\n') == std::string::npos);
}

QTEST_MAIN(TestSam2TrackExport)
#include "test_sam2_track_export.moc"
