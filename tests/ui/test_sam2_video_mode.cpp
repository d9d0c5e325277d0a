// Video mode driven like a user, with the tiny golden SAM 2.1 checkpoint as the window's model: a
// clip written with cv::VideoWriter dropped on the window, a click on the canvas (its mask shows),
// keyboard scrubbing on the focused timeline, propagation forward (every frame gets a mask),
// a backward propagation cancelled midway (the frames done are kept), a rename with F2, typing
// and Enter, and the video reopened with everything restored from the `.photosynth` store, read
// back here through core's TrackStore. Errors (an unreadable video, a SAM 1 model, no model)
// reach the banner as one line.
#include <QApplication>
#include <QDir>
#include <QDropEvent>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "golden_dir.h"
#include "main_window.h"
#include "message_banner.h"
#include "sam2_test_data.h"
#include "shortcut_sheet.h"
#include "video/track_store.h"
#include "video_export_dialog.h"
#include "video_mode_controller.h"
#include "video_objects_dock.h"
#include "video_store.h"
#include "video_timeline.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

constexpr int kFrames = 16, kWidth = 128, kHeight = 96;

// A red disc moving right over a smooth texture (as the golden's clip): the tiny model's scaled
// random weights give it a mask.
QString write_clip(const QString& path) {
    cv::VideoWriter writer(path.toStdString(), cv::CAP_FFMPEG,
                           cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0,
                           cv::Size(kWidth, kHeight));
    if (!writer.isOpened()) return "cannot write " + path;
    for (int i = 0; i < kFrames; ++i) {
        cv::Mat bgr(kHeight, kWidth, CV_8UC3);
        for (int y = 0; y < kHeight; ++y)
            for (int x = 0; x < kWidth; ++x)
                bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(120 + x / 4, 90 + y / 3, 60 + (x + y) / 8);
        cv::circle(bgr, cv::Point(30 + i * 3, 40), 14, cv::Scalar(40, 40, 220), cv::FILLED);
        writer.write(bgr);
    }
    return {};
}

bool wait_until(const std::function<bool()>& done, int timeout_ms = 30000) {
    QElapsedTimer timer;
    timer.start();
    while (!done() && timer.elapsed() < timeout_ms) QTest::qWait(5);
    return done();
}

// A click at a video pixel; the tracker's answer on screen.
bool click_frame(ui::MainWindow& window, double x, double y, Qt::MouseButton button) {
    QSignalSpy shown(window.video(), &ui::VideoModeController::masks_shown);
    const QPoint at = window.canvas()->image_to_viewport(QPointF(x, y)).toPoint();
    QTest::mouseClick(window.canvas()->viewport(), button, {}, at);
    return shown.wait(30000) && wait_idle(window);
}

bool load_model(ui::MainWindow& window, const QString& path,
                const sam2::Sam2LayoutOverrides& layout = {}) {
    QSignalSpy ready(&window, &ui::MainWindow::model_ready);
    window.set_sam_model(path, layout);
    return ready.wait(30000) && wait_idle(window);
}

// Keys to the focused timeline: the frame on screen follows.
bool press_on_timeline(ui::MainWindow& window, Qt::Key key, int expected_frame) {
    window.timeline()->slider()->setFocus();
    if (QApplication::focusWidget() != window.timeline()->slider()) return false;
    QTest::keyClick(QApplication::focusWidget(), key);
    return wait_until([&] { return window.video()->current_frame() == expected_frame; }) &&
           wait_idle(window);
}

int mask_pixels(const ui::VideoModeController& video, int object_id, int frame) {
    const cv::Mat mask = video.mask_of(object_id, frame);
    return mask.empty() ? -1 : cv::countNonZero(mask);
}

// COCO's uncompressed RLE, decoded from its definition: runs over the mask in column-major
// order, alternating background and foreground, starting with background.
cv::Mat decode_rle(const QJsonObject& rle) {
    const QJsonArray size = rle["size"].toArray();
    const int height = size[0].toInt(), width = size[1].toInt();
    cv::Mat transposed(width, height, CV_8UC1, cv::Scalar(0));  // row-major over columns
    long long at = 0;
    bool inside = false;
    for (const QJsonValue& run : rle["counts"].toArray()) {
        const long long length = run.toInteger();
        if (inside)
            for (long long i = at; i < at + length; ++i) transposed.data[i] = 255;
        at += length;
        inside = !inside;
    }
    return at == (long long)width * height ? cv::Mat(transposed.t()) : cv::Mat();
}

bool same_mask(const cv::Mat& a, const cv::Mat& b) {
    return !a.empty() && a.size() == b.size() && cv::countNonZero((a > 0) != (b > 0)) == 0;
}

void check_exports(const QString& out, const ui::VideoModeController& video, int first,
                   int second) {
    // PNG masks per object and frame.
    for (int frame = 0; frame < kFrames; ++frame) {
        const QString png =
            QString("%1/masks/%2/%3.png").arg(out).arg(first).arg(frame, 6, 10, QChar('0'));
        const cv::Mat read = cv::imread(png.toStdString(), cv::IMREAD_UNCHANGED);
        QVERIFY2(same_mask(read, video.mask_of(first, frame)), qPrintable(png));
    }
    // YouTube-VIS: one annotation per object, the segmentation of each frame its mask.
    QFile file(out + "/vis.json");
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject vis = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(vis["videos"].toArray().size(), 1);
    QCOMPARE(vis["videos"].toArray()[0].toObject()["length"].toInt(), kFrames);
    const QJsonArray annotations = vis["annotations"].toArray();
    QCOMPARE(annotations.size(), 2);
    const QJsonArray segmentations = annotations[0].toObject()["segmentations"].toArray();
    QCOMPARE(segmentations.size(), kFrames);
    for (int frame = 0; frame < kFrames; ++frame) {
        const cv::Mat mask = video.mask_of(first, frame);
        if (cv::countNonZero(mask) == 0) continue;  // null in the file
        QVERIFY2(same_mask(decode_rle(segmentations[frame].toObject()), mask),
                 qPrintable(QString("vis.json frame %1").arg(frame)));
    }
    // Cut-outs: RGBA, alpha the union of the objects' masks.
    const QString png = out + "/cutout/000015.png";
    const cv::Mat rgba = cv::imread(png.toStdString(), cv::IMREAD_UNCHANGED);
    QVERIFY2(rgba.channels() == 4, qPrintable(png));
    cv::Mat alpha;
    cv::extractChannel(rgba, alpha, 3);
    cv::Mat both = video.mask_of(first, 15) | video.mask_of(second, 15);
    QVERIFY(same_mask(alpha, both));
}

}  // namespace

class TestSam2VideoMode : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase();
    void click_track_cancel_rename_reopen();
    void errors_go_to_the_banner();
    void keys_are_unique_and_text_fields_keep_theirs();
    void frames_folder_opens_with_thumbnails();

  private:
    QTemporaryDir dir_;
    QString clip_;
    std::unique_ptr<engine::Engine> engine_;
};

void TestSam2VideoMode::initTestCase() {
    QVERIFY(dir_.isValid());
    clip_ = dir_.filePath("clip.avi");
    const QString written = write_clip(clip_);
    QVERIFY2(written.isEmpty(), qPrintable(written));
    engine_ = std::make_unique<engine::Engine>(cpu_settings());
}

void TestSam2VideoMode::click_track_cancel_rename_reopen() {
    const sam2::Sam2LayoutOverrides tiny =
        tiny_sam2_options("cpu", runtime::Precision::Fp32).layout;
    const QString checkpoint = QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt"));
    std::map<int64_t, cv::Mat> tracked_before;
    {
        ui::MainWindow window(*engine_);
        QVERIFY(activate(window));
        QVERIFY(load_model(window, checkpoint, tiny));
        QVERIFY(drop_video(window, clip_));
        ui::VideoModeController& video = *window.video();
        QCOMPARE(video.frame_count(), kFrames);
        QVERIFY(window.timeline()->isVisible());
        QVERIFY(window.canvas()->has_image());

        // A click on the disc: object 1 is made and selected, its mask shows at once.
        QVERIFY(click_frame(window, 30, 40, Qt::LeftButton));
        QCOMPARE(video.annotations().objects.size(), size_t(1));
        const int first = video.annotations().objects.front().id;
        const auto& prompt = video.annotations().prompts.at({0, first});
        QCOMPARE(prompt.points.size(), size_t(1));
        QVERIFY(std::abs(prompt.points[0].x - 30) <= 1 && std::abs(prompt.points[0].y - 40) <= 1);
        QVERIFY2(mask_pixels(video, first, 0) > 0, "no mask after the click");
        // A background point (right click) far from the disc: the prompt has both.
        QVERIFY(click_frame(window, 110, 85, Qt::RightButton));
        QCOMPARE(video.annotations().prompts.at({0, first}).points.at(1).label, 0);

        // Scrubbing with the keyboard on the focused timeline.
        QVERIFY(press_on_timeline(window, Qt::Key_Right, 1));
        QVERIFY(press_on_timeline(window, Qt::Key_Right, 2));
        QVERIFY(press_on_timeline(window, Qt::Key_Left, 1));
        QVERIFY(press_on_timeline(window, Qt::Key_End, kFrames - 1));
        QVERIFY(press_on_timeline(window, Qt::Key_Home, 0));
        QCOMPARE(window.timeline()->frame_field()->value(), 0);

        // Propagate forward (T): every frame gets a mask, and the status said "frame k of n".
        {
            QSignalSpy finished(&video, &ui::VideoModeController::propagation_finished);
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_T);
            QVERIFY(video.propagating());
            QVERIFY(finished.wait(30000));
            QVERIFY2(finished.first().first().toString().contains("done"),
                     qPrintable(finished.first().first().toString()));
        }
        QVERIFY(wait_idle(window));
        int shown_frames = 0;
        for (int frame = 0; frame < kFrames; ++frame) {
            const int pixels = mask_pixels(video, first, frame);
            QVERIFY2(pixels >= 0, qPrintable(QString("frame %1 has no mask").arg(frame)));
            shown_frames += pixels > 0;
        }
        QVERIFY2(shown_frames >= kFrames / 2, qPrintable(QString::number(shown_frames)));
        qInfo("forward: %d of %d frames with mask pixels; frame 0: %d px", shown_frames, kFrames,
              mask_pixels(video, first, 0));
        // The live preview followed the propagation to its last frame.
        QCOMPARE(video.current_frame(), kFrames - 1);
        // The metrics dock's latency rows time each tracked frame.
        auto* tracked_row = window.findChild<QLabel*>("p50_track_frame");
        QVERIFY(tracked_row != nullptr);
        // The dock refreshes on a timer: wait for the last frames to reach it.
        const auto runs = [&] {
            return tracked_row->text().section(" · ", -1).section(' ', 0, 0).toInt();
        };
        QTRY_VERIFY_WITH_TIMEOUT(runs() >= kFrames - 1, 5000);
        QVERIFY2(tracked_row->text().startsWith("Tracked video frame p50 "),
                 qPrintable(tracked_row->text()));

        // A correction on frame 8 (a background point), then Propagate from there: frames 8 to
        // the end are tracked again, the frames before it keep their masks.
        std::vector<cv::Mat> before_correction;
        for (int frame = 0; frame < kFrames; ++frame)
            before_correction.push_back(video.mask_of(first, frame));
        QVERIFY(press_on_timeline(window, Qt::Key_Home, 0));
        for (int frame = 1; frame <= 8; ++frame)
            QVERIFY(press_on_timeline(window, Qt::Key_Right, frame));
        QVERIFY(click_frame(window, 100, 20, Qt::RightButton));
        QVERIFY(video.annotations().prompts.count({8, first}));
        {
            QSignalSpy finished(&video, &ui::VideoModeController::propagation_finished);
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_T);
            QVERIFY(finished.wait(30000));
            QVERIFY2(finished.first().first().toString().contains(
                         QString("%1 frame(s) tracked").arg(kFrames - 8)),
                     qPrintable(finished.first().first().toString()));
        }
        QVERIFY(wait_idle(window));
        for (int frame = 0; frame < 8; ++frame)
            QVERIFY(same_mask(video.mask_of(first, frame), before_correction[size_t(frame)]));
        // Both ways from frame 8 (Ctrl+T): 8 frames forward, then 9 backward.
        {
            QSignalSpy finished(&video, &ui::VideoModeController::propagation_finished);
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_T, Qt::ControlModifier);
            QVERIFY(finished.wait(30000));
            QVERIFY2(finished.first().first().toString().contains(
                         QString("%1 frame(s) tracked").arg(kFrames + 1)),
                     qPrintable(finished.first().first().toString()));
        }
        QVERIFY(wait_idle(window));

        // A second object on the last frame, propagated backward and cancelled after the first
        // frame it reports: the frames done are kept, the rest are not made up.
        QVERIFY(press_on_timeline(window, Qt::Key_End, kFrames - 1));
        QTest::mouseClick(window.findChild<QPushButton*>("video_add_object"), Qt::LeftButton);
        const int second = window.video()->objects_dock()->selected_object_id();
        QVERIFY(second != first && second > 0);
        QVERIFY(click_frame(window, 30 + (kFrames - 1) * 3, 40, Qt::LeftButton));
        {
            QSignalSpy finished(&video, &ui::VideoModeController::propagation_finished);
            QSignalSpy frames(&video, &ui::VideoModeController::frame_shown);
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_T, Qt::ShiftModifier);
            QVERIFY(wait_until([&] { return mask_pixels(video, second, kFrames - 2) >= 0; }));
            auto* cancel = window.findChild<QPushButton*>("video_cancel");
            QVERIFY(cancel && cancel->isVisible());
            QTest::mouseClick(cancel, Qt::LeftButton);
            QVERIFY(finished.wait(30000));
            QVERIFY2(finished.first().first().toString().contains("cancelled"),
                     qPrintable(finished.first().first().toString()));
        }
        QVERIFY(wait_idle(window));
        int done = 0;
        for (int frame = 0; frame < kFrames; ++frame)
            done += mask_pixels(video, second, frame) >= 0;
        QVERIFY2(done >= 2 && done < kFrames, qPrintable(QString::number(done)));
        qInfo("backward pass cancelled after %d of %d frames", done, kFrames);
        QVERIFY(window.status_text().contains("kept"));
        for (int frame = 0; frame < kFrames; ++frame)
            tracked_before[frame] = video.mask_of(first, frame);

        // Rename object 1: F2 on the list, type, Enter (to the editor, not Accept Object).
        QListWidget* list = video.objects_dock()->list();
        QTest::mouseClick(list->viewport(), Qt::LeftButton, {},
                          list->visualItemRect(list->item(0)).center());
        QCOMPARE(video.objects_dock()->selected_object_id(), first);
        QTest::keyClick(list, Qt::Key_F2);
        QVERIFY(wait_until([] { return qobject_cast<QLineEdit*>(QApplication::focusWidget()); }));
        auto* editor = qobject_cast<QLineEdit*>(QApplication::focusWidget());
        editor->selectAll();
        QTest::keyClicks(editor, "red disc");
        press(Qt::Key_Return);
        QVERIFY(wait_until([&] { return video.annotations().object(first)->name == "red disc"; }));
        QCOMPARE(list->item(0)->text(), QString("red disc"));
        // Enter went to the editor: the window's Return (Accept Object) did not run.
        QVERIFY2(!window.status_text().contains("every click is kept"),
                 qPrintable(window.status_text()));
        QVERIFY(wait_idle(window));
        // Written as it came, while the window still runs (what a SIGKILL would leave): another
        // TrackStore reads the same objects, prompts and masks from the files.
        {
            auto store =
                video::TrackStore::open_existing(ui::video_store_folder(clip_).toStdString());
            QVERIFY2(store, store ? "" : store.message().c_str());
            const auto objects = (*store)->objects();
            QCOMPARE(objects.size(), size_t(2));
            QCOMPARE(QString::fromStdString(objects[0].label), QString("red disc"));
            QCOMPARE(objects[0].prompts.size(), size_t(2));  // frame 0, and the correction on 8
            QCOMPARE(objects[0].prompts[0].points.size(), size_t(2));
            QCOMPARE(objects[0].prompts[1].frame, 8LL);
            QVERIFY(!objects[0].prompts[1].points.at(0).positive);
            QCOMPARE((*store)->frames(objects[0].id).size(), size_t(kFrames));
            for (int frame = 0; frame < kFrames; ++frame) {
                auto stored = (*store)->get(frame, first);
                QVERIFY(stored && *stored);
                QVERIFY2(
                    same_mask(annotation::rle_decode((*stored)->mask), video.mask_of(first, frame)),
                    qPrintable(QString("stored frame %1").arg(frame)));
            }
        }

        // Export Video Annotations…: every format, checked with readers written here.
        const QString out = dir_.filePath("export");
        window_driver::action_named(window, "Export Video Annotations…")->trigger();
        auto* dialog = window.findChild<ui::VideoExportDialog*>();
        QVERIFY(dialog && dialog->isVisible());
        auto* folder = dialog->findChild<QLineEdit*>("video_export_folder");
        folder->setFocus();
        QTest::keyClicks(folder, out);
        QSignalSpy exported(dialog, &ui::VideoExportDialog::export_finished);
        QTest::mouseClick(dialog->findChild<QPushButton*>("video_export_button"), Qt::LeftButton);
        QVERIFY(exported.wait(30000));
        QVERIFY2(exported.first().first().toBool(), qPrintable(dialog->status_text()));
        check_exports(out, video, first, second);
    }
    // Reopened: objects, prompts and masks restored.
    ui::MainWindow window(*engine_);
    QVERIFY(activate(window));
    QVERIFY(drop_video(window, clip_));
    const ui::VideoAnnotations& restored = window.video()->annotations();
    QCOMPARE(restored.objects.size(), size_t(2));
    QCOMPARE(restored.objects[0].name, QString("red disc"));
    QCOMPARE(restored.prompts.at({0, restored.objects[0].id}).points.size(), size_t(2));
    for (const auto& [frame, mask] : tracked_before) {
        const cv::Mat now = window.video()->mask_of(restored.objects[0].id, int(frame));
        QVERIFY2(!now.empty() && cv::countNonZero(now != mask) == 0,
                 qPrintable(QString("frame %1 differs").arg(frame)));
    }
    QCOMPARE(window.video()->objects_dock()->list()->count(), 2);
}

void TestSam2VideoMode::errors_go_to_the_banner() {
    ui::MainWindow window(*engine_);
    QVERIFY(activate(window));
    // Not a video: one line naming the file, and the window stays in image mode.
    const QString bad = dir_.filePath("notes.mp4");
    {
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a video at all");
    }
    QSignalSpy failed(window.video(), &ui::VideoModeController::video_failed);
    drop_on_window(window, bad);
    QVERIFY(failed.wait(20000));
    QVERIFY2(window.banner_text().contains("notes.mp4"), qPrintable(window.banner_text()));
    QVERIFY(!window.banner_text().contains('\n'));
    QVERIFY(!window.video()->active());
    // No model (GrabCut): a click says what is needed instead of a mask.
    QVERIFY(drop_video(window, clip_));
    QTest::mouseClick(window.canvas()->viewport(), Qt::LeftButton, {},
                      window.canvas()->image_to_viewport(QPointF(60, 40)).toPoint());
    QVERIFY(wait_idle(window));
    QVERIFY2(window.banner_text().contains("SAM 2.1"), qPrintable(window.banner_text()));
    // A SAM 1 model: named as such.
    window.banner()->dismiss();
    QVERIFY(load_model(window, golden_dir() + "/sam_vit_tiny.pth"));
    QTest::mouseClick(window.canvas()->viewport(), Qt::LeftButton, {},
                      window.canvas()->image_to_viewport(QPointF(90, 60)).toPoint());
    QVERIFY(wait_idle(window));
    QVERIFY2(window.banner_text().contains("SAM 2.1") && window.banner_text().contains(" sam "),
             qPrintable(window.banner_text()));
}

void TestSam2VideoMode::keys_are_unique_and_text_fields_keep_theirs() {
    ui::MainWindow window(*engine_);
    QVERIFY(activate(window));
    QVERIFY(drop_video(window, clip_));
    QMap<QString, QStringList> owners;
    for (const ui::ShortcutEntry& entry : ui::collect_shortcuts(&window))
        owners[entry.key.toString(QKeySequence::PortableText)] << entry.where;
    for (auto it = owners.begin(); it != owners.end(); ++it)
        QVERIFY2(it.value().size() == 1, qPrintable(it.key() + ": " + it.value().join(", ")));
    for (const char* key : {"Left", "Right", "Space", "T", "Shift+T", "Ctrl+T"})
        QVERIFY2(owners.contains(key), key);
    // Right in the frame number field moves its cursor; the frame stays.
    QVERIFY(press_on_timeline(window, Qt::Key_Right, 1));
    QSpinBox* field = window.timeline()->frame_field();
    field->setFocus();
    QCOMPARE(QApplication::focusWidget(), field);
    press(Qt::Key_Right);
    press(Qt::Key_Space);
    QTest::qWait(50);
    QCOMPARE(window.video()->current_frame(), 1);
    // Typing a number and Enter goes there.
    field->selectAll();
    QTest::keyClicks(field, "5");
    press(Qt::Key_Return);
    QVERIFY(wait_until([&] { return window.video()->current_frame() == 5; }));
    QVERIFY(wait_idle(window));
}

void TestSam2VideoMode::frames_folder_opens_with_thumbnails() {
    // The golden clip's eight JPEG frames, copied (the store is made inside the folder).
    const QString folder = dir_.filePath("frames");
    QVERIFY(QDir().mkpath(folder));
    const QString golden = QString::fromStdString(test_data_path("sam2", "video"));
    for (const QString& name : QDir(golden).entryList({"*.jpg"}, QDir::Files))
        QVERIFY(QFile::copy(golden + "/" + name, folder + "/" + name));
    ui::MainWindow window(*engine_);
    QVERIFY(activate(window));
    QSignalSpy opened(window.video(), &ui::VideoModeController::video_opened);
    // The folder typed into the dialog's name field, then Return (Qt's own dialog, offscreen).
    type_into_next_file_dialog(folder);
    action_named(window, "Open Video Frames Folder…")->trigger();
    QVERIFY(opened.wait(20000));
    QVERIFY(wait_idle(window));
    QCOMPARE(window.video()->frame_count(), 8);
    QCOMPARE(window.canvas()->sceneRect().size(), QSizeF(128, 96));
    // Thumbnails for the slots the strip shows, made in the background.
    ui::FilmStrip* strip = window.timeline()->strip();
    const QVector<int> shown = strip->visible_frames();
    QVERIFY(!shown.isEmpty());
    QVERIFY(wait_until([&] {
        return std::all_of(shown.begin(), shown.end(),
                           [&](int frame) { return strip->has_thumbnail(frame); });
    }));
    QVERIFY(QFileInfo(folder + "/.photosynth/track/track.json").isFile());
}

QTEST_MAIN(TestSam2VideoMode)
#include "test_sam2_video_mode.moc"
