// video::TrackStore, the on-disk record of a video's tracking: masks and prompts survive a reopen,
// the newest mask of a frame wins, a store of another video or model is refused in one line, a
// torn or damaged tail (a truncated file, a flipped byte, a writer killed with SIGKILL mid-write)
// is dropped without losing one acknowledged mask, and 10,000 frames reopen from a small index.
#include <QtTest>

#include <opencv2/imgproc.hpp>

#include <QTemporaryDir>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

#include "video/track_store.h"

using namespace ps;
using namespace ps::video;

namespace {

constexpr int kWidth = 160, kHeight = 120;

TrackSource clip_source(long long frames = 300) {
    TrackSource source;
    source.video = "/videos/clip.mp4";
    source.width = kWidth;
    source.height = kHeight;
    source.frame_count = frames;
    source.model = "sam2.1_hiera_tiny.pt";
    source.model_hash = "0123456789abcdef0123456789abcdef";
    return source;
}

// A mask that only `seed` makes: a disc and, for large records, random stripes.
cv::Mat mask_for(long long seed, bool noisy = false) {
    cv::Mat mask(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
    cv::circle(mask, {static_cast<int>(10 + seed % 140), static_cast<int>(10 + (seed / 7) % 100)},
               static_cast<int>(3 + seed % 20), 255, cv::FILLED);
    if (noisy) {
        std::mt19937 random(static_cast<unsigned>(seed));
        for (int y = 0; y < kHeight; ++y)
            for (int x = 0; x < kWidth; ++x)
                if (random() % 3 == 0) mask.at<uint8_t>(y, x) = 255;
    }
    return mask;
}

TrackMask track_mask(long long frame, int object, long long seed, bool noisy = false) {
    TrackMask m;
    m.frame = frame;
    m.object_id = object;
    m.mask = annotation::rle_encode(mask_for(seed, noisy));
    m.visible = annotation::rle_area(m.mask) > 0;
    m.score = static_cast<float>(seed % 100) / 100.0f;
    return m;
}

std::vector<TrackObject> two_objects() {
    TrackObject car;
    car.id = 1;
    car.label = "car";
    car.color = {{255, 0, 0}};
    TrackPrompt click;
    click.frame = 0;
    click.points = {{30.5, 38, true}, {50, 60, false}};
    car.prompts.push_back(click);
    TrackPrompt box;
    box.frame = 12;
    box.box = TrackBox{10, 20, 80, 90};
    car.prompts.push_back(box);
    TrackObject dog;
    dog.id = 7;
    dog.label = "dog";
    dog.color = {{0, 128, 255}};
    TrackPrompt mask;
    mask.frame = 299;
    mask.mask = annotation::rle_encode(mask_for(3));
    dog.prompts.push_back(mask);
    return {car, dog};
}

// The writer of the kill test alternates the two listed objects.
int object_of(long long index) {
    return index % 2 ? 7 : 1;
}

std::string log_path(const QTemporaryDir& dir) {
    return dir.filePath(TrackStore::kMaskLog).toStdString();
}

bool same_mask(const Result<std::optional<TrackMask>>& got, const TrackMask& expected) {
    return got.ok() && got->has_value() && (*got)->mask == expected.mask &&
           (*got)->score == expected.score && (*got)->visible == expected.visible &&
           (*got)->frame == expected.frame && (*got)->object_id == expected.object_id;
}

}  // namespace

class TestSam2TrackStore : public QObject {
    Q_OBJECT
  private slots:
    void masks_and_prompts_survive_a_reopen();
    void the_newest_mask_wins_and_erase_forgets();
    void another_video_or_model_is_refused_in_one_line();
    void bad_objects_are_refused();
    void a_truncated_log_drops_only_its_torn_record();
    void a_damaged_record_is_dropped_with_what_follows();
    void a_writer_killed_mid_write_loses_no_acknowledged_mask();
    void ten_thousand_frames_reopen_and_compact();
};

void TestSam2TrackStore::masks_and_prompts_survive_a_reopen() {
    QTemporaryDir dir;
    const std::string folder = dir.filePath("store").toStdString();
    {
        auto store = TrackStore::open(folder, clip_source());
        QVERIFY2(store.ok(), store.ok() ? "" : store.message().c_str());
        QVERIFY((*store)->set_objects(two_objects()).ok());
        QVERIFY((*store)->set_run({"forward", "fp32", false}).ok());
        for (long long frame = 0; frame < 20; ++frame) {
            QVERIFY((*store)->put(track_mask(frame, 1, frame)).ok());
            if (frame % 2 == 0) QVERIFY((*store)->put(track_mask(frame, 7, 1000 + frame)).ok());
        }
    }
    auto store = TrackStore::open_existing(folder);
    QVERIFY2(store.ok(), store.ok() ? "" : store.message().c_str());
    QCOMPARE((*store)->dropped_tail_bytes(), 0LL);
    QVERIFY((*store)->objects() == two_objects());
    QCOMPARE((*store)->run().direction, std::string("forward"));
    QCOMPARE((*store)->source().differences(clip_source()), std::string());
    QCOMPARE((*store)->mask_count(), 30LL);
    QCOMPARE((*store)->frames(7).size(), size_t(10));
    QVERIFY((*store)->frame_complete(4));
    QVERIFY(!(*store)->frame_complete(5));  // object 7 has no mask there
    QVERIFY(!(*store)->frame_complete(20));
    for (long long frame = 0; frame < 20; ++frame) {
        QVERIFY(same_mask((*store)->get(frame, 1), track_mask(frame, 1, frame)));
        // The mask decodes back to the pixels that were stored.
        auto got = (*store)->get(frame, 1);
        QCOMPARE(cv::countNonZero(annotation::rle_decode((*got)->mask) != mask_for(frame)), 0);
    }
    auto none = (*store)->get(5, 7);
    QVERIFY(none.ok() && !none->has_value());
}

void TestSam2TrackStore::the_newest_mask_wins_and_erase_forgets() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    {
        auto store = TrackStore::open(folder, clip_source());
        QVERIFY(store.ok());
        QVERIFY((*store)->set_objects(two_objects()).ok());
        QVERIFY((*store)->put(track_mask(3, 1, 1)).ok());
        QVERIFY((*store)->put(track_mask(4, 1, 2)).ok());
        QVERIFY((*store)->put(track_mask(3, 1, 3)).ok());  // a correction
        QVERIFY((*store)->erase(4, 1).ok());
        QVERIFY(same_mask((*store)->get(3, 1), track_mask(3, 1, 3)));
        QVERIFY(!(*store)->has(4, 1));
    }
    auto store = TrackStore::open(folder, clip_source());
    QVERIFY(store.ok());
    QVERIFY(same_mask((*store)->get(3, 1), track_mask(3, 1, 3)));
    QVERIFY(!(*store)->has(4, 1));
    QCOMPARE((*store)->mask_count(), 1LL);
    const auto before = std::filesystem::file_size(log_path(dir));
    QVERIFY((*store)->compact().ok());
    QVERIFY(std::filesystem::file_size(log_path(dir)) < before);
    QVERIFY(same_mask((*store)->get(3, 1), track_mask(3, 1, 3)));
    QVERIFY((*store)->put(track_mask(5, 1, 5)).ok());  // appends after a compaction
    store->reset();
    auto again = TrackStore::open_existing(folder);
    QVERIFY(again.ok());
    QVERIFY(same_mask((*again)->get(3, 1), track_mask(3, 1, 3)));
    QVERIFY(same_mask((*again)->get(5, 1), track_mask(5, 1, 5)));
    QCOMPARE((*again)->mask_count(), 2LL);
}

void TestSam2TrackStore::another_video_or_model_is_refused_in_one_line() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    QVERIFY(TrackStore::open(folder, clip_source()).ok());
    TrackSource other_model = clip_source();
    other_model.model_hash = "ffff";
    auto refused = TrackStore::open(folder, other_model);
    QVERIFY(!refused.ok());
    QCOMPARE(refused.error().kind, ErrorKind::Mismatch);
    QVERIFY2(refused.message().find("track.json: made for clip.mp4 (160x120, 300 frames)") !=
                 std::string::npos,
             refused.message().c_str());
    QVERIFY2(refused.message().find("model differ") != std::string::npos,
             refused.message().c_str());
    QVERIFY(refused.message().find('\n') == std::string::npos);
    TrackSource other_video = clip_source(299);
    refused = TrackStore::open(folder, other_video);
    QVERIFY(!refused.ok());
    QVERIFY2(refused.message().find("video differ") != std::string::npos,
             refused.message().c_str());
    // A folder that is no store is not taken for one.
    QVERIFY(!TrackStore::open_existing(dir.filePath("nothing").toStdString()).ok());
}

void TestSam2TrackStore::bad_objects_are_refused() {
    QTemporaryDir dir;
    auto store = TrackStore::open(dir.path().toStdString(), clip_source());
    QVERIFY(store.ok());
    std::vector<TrackObject> objects = two_objects();
    objects[1].id = 1;
    QVERIFY(!(*store)->set_objects(objects).ok());
    objects = two_objects();
    objects[0].prompts[1].frame = 300;
    auto refused = (*store)->set_objects(objects);
    QVERIFY(!refused.ok());
    QVERIFY2(refused.message().find("frame 300 of a 300-frame video") != std::string::npos,
             refused.message().c_str());
    // The refused list changed nothing.
    QVERIFY((*store)->objects().empty());
    TrackMask wrong = track_mask(0, 1, 1);
    wrong.mask.width = 10;
    QVERIFY(!(*store)->put(wrong).ok());
    QVERIFY(!(*store)->put(track_mask(300, 1, 1)).ok());
}

void TestSam2TrackStore::a_truncated_log_drops_only_its_torn_record() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    std::vector<uintmax_t> ends;  // the log's size after each record
    {
        auto store = TrackStore::open(folder, clip_source());
        QVERIFY(store.ok());
        QVERIFY((*store)->set_objects(two_objects()).ok());
        for (long long frame = 0; frame < 6; ++frame) {
            QVERIFY((*store)->put(track_mask(frame, 1, frame, true)).ok());
            QVERIFY((*store)->flush().ok());
            ends.push_back(std::filesystem::file_size(log_path(dir)));
        }
    }
    // Cut inside the last record: its header, its payload, one byte short.
    for (uintmax_t cut : {ends[4] + 3, ends[4] + 9, (ends[4] + ends[5]) / 2, ends[5] - 1}) {
        std::filesystem::resize_file(log_path(dir), cut);
        auto store = TrackStore::open(folder, clip_source());
        QVERIFY2(store.ok(), store.ok() ? "" : store.message().c_str());
        QCOMPARE((*store)->dropped_tail_bytes(), static_cast<long long>(cut - ends[4]));
        QCOMPARE((*store)->mask_count(), 5LL);
        for (long long frame = 0; frame < 5; ++frame)
            QVERIFY(same_mask((*store)->get(frame, 1), track_mask(frame, 1, frame, true)));
        QVERIFY(!(*store)->has(5, 1));
        QCOMPARE(std::filesystem::file_size(log_path(dir)), ends[4]);  // cut back to whole records
        // Writes go on after the cut as if nothing had happened.
        QVERIFY((*store)->put(track_mask(5, 1, 5, true)).ok());
        QVERIFY((*store)->flush().ok());
        QCOMPARE(std::filesystem::file_size(log_path(dir)), ends[5]);
    }
    // A log cut inside its 8-byte header holds nothing.
    std::filesystem::resize_file(log_path(dir), 5);
    auto store = TrackStore::open(folder, clip_source());
    QVERIFY(store.ok());
    QCOMPARE((*store)->mask_count(), 0LL);
    QVERIFY((*store)->put(track_mask(0, 1, 0)).ok());
}

void TestSam2TrackStore::a_damaged_record_is_dropped_with_what_follows() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    uintmax_t third_end = 0;
    {
        auto store = TrackStore::open(folder, clip_source());
        QVERIFY(store.ok());
        QVERIFY((*store)->set_objects(two_objects()).ok());
        for (long long frame = 0; frame < 3; ++frame)
            QVERIFY((*store)->put(track_mask(frame, 1, frame)).ok());
        QVERIFY((*store)->flush().ok());
        third_end = std::filesystem::file_size(log_path(dir));
        QVERIFY((*store)->put(track_mask(3, 1, 3)).ok());
    }
    {
        std::fstream file(log_path(dir), std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(static_cast<std::streamoff>(third_end + 20));
        file.put('\x5a');  // inside the fourth record's payload: its CRC no longer matches
    }
    auto store = TrackStore::open(folder, clip_source());
    QVERIFY(store.ok());
    QCOMPARE((*store)->mask_count(), 3LL);
    QVERIFY((*store)->dropped_tail_bytes() > 0);
    QVERIFY(!(*store)->has(3, 1));
}

void TestSam2TrackStore::a_writer_killed_mid_write_loses_no_acknowledged_mask() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    const TrackSource source = clip_source(100000);
    {
        auto store = TrackStore::open(folder, source);
        QVERIFY(store.ok());
        QVERIFY((*store)->set_objects(two_objects()).ok());
    }
    std::mt19937 random(20261206);
    long long next = 0;  // the writer's next record; records are frame = seed = index
    int torn = 0;
    for (int round = 0; round < 6; ++round) {
        int pipe_fds[2];
        QVERIFY(::pipe(pipe_fds) == 0);
        const pid_t child = ::fork();
        if (child == 0) {
            // The writer: large (noisy) masks, each acknowledged on the pipe once put() returned.
            ::close(pipe_fds[0]);
            auto store = TrackStore::open(folder, source);
            if (!store) ::_exit(3);
            for (long long i = next;; ++i) {
                if (!(*store)->put(track_mask(i, object_of(i), i, true)).ok()) ::_exit(4);
                const std::string line = std::to_string(i) + "\n";
                if (::write(pipe_fds[1], line.data(), line.size()) < 0) ::_exit(5);
            }
        }
        ::close(pipe_fds[1]);
        std::string acknowledged;
        char buffer[4096];
        // Wait for a first acknowledgement, then kill at a random moment.
        while (acknowledged.find('\n') == std::string::npos) {
            const ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
            QVERIFY(n > 0);
            acknowledged.append(buffer, static_cast<size_t>(n));
        }
        ::usleep(std::uniform_int_distribution<int>(0, 40000)(random));
        ::kill(child, SIGKILL);
        int status = 0;
        ::waitpid(child, &status, 0);
        QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        ssize_t n = 0;
        while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0)
            acknowledged.append(buffer, static_cast<size_t>(n));
        ::close(pipe_fds[0]);
        acknowledged.resize(acknowledged.rfind('\n') +
                            1);  // a line cut by the kill was never sent whole
        const long long last =
            std::stoll(acknowledged.substr(acknowledged.rfind('\n', acknowledged.size() - 2) + 1));

        auto store = TrackStore::open(folder, source);
        QVERIFY2(store.ok(), store.ok() ? "" : store.message().c_str());
        if ((*store)->dropped_tail_bytes() > 0) ++torn;
        // Every acknowledged mask, exact; the one in flight maybe; nothing after it.
        for (long long i = 0; i <= last; ++i)
            QVERIFY2(
                same_mask((*store)->get(i, object_of(i)), track_mask(i, object_of(i), i, true)),
                qPrintable(QString("round %1: mask %2 of %3 lost").arg(round).arg(i).arg(last)));
        const bool in_flight_kept = (*store)->has(last + 1, object_of(last + 1));
        if (in_flight_kept)
            QVERIFY(same_mask((*store)->get(last + 1, object_of(last + 1)),
                              track_mask(last + 1, object_of(last + 1), last + 1, true)));
        QVERIFY(!(*store)->has(last + 2, object_of(last + 2)));
        next = in_flight_kept ? last + 2 : last + 1;
        QCOMPARE((*store)->mask_count(), next);
        qInfo("round %d: %lld masks acknowledged, in-flight one %s, %lld torn bytes dropped", round,
              last + 1, in_flight_kept ? "kept" : "absent", (*store)->dropped_tail_bytes());
    }
    QVERIFY(next > 6);
    qInfo("%d of 6 kills left a torn record", torn);
}

void TestSam2TrackStore::ten_thousand_frames_reopen_and_compact() {
    QTemporaryDir dir;
    const std::string folder = dir.path().toStdString();
    const TrackSource source = clip_source(10000);
    {
        auto store = TrackStore::open(folder, source);
        QVERIFY(store.ok());
        std::vector<TrackObject> objects = two_objects();
        objects[1].prompts[0].frame = 9999;
        QVERIFY((*store)->set_objects(objects).ok());
        for (long long frame = 0; frame < 10000; ++frame) {
            QVERIFY((*store)->put(track_mask(frame, 1, frame)).ok());
            QVERIFY((*store)->put(track_mask(frame, 7, frame + 1)).ok());
        }
        for (long long frame = 5000; frame < 5100; ++frame)
            QVERIFY((*store)->put(track_mask(frame, 1, frame + 2)).ok());
    }
    auto store = TrackStore::open(folder, source);
    QVERIFY(store.ok());
    QCOMPARE((*store)->mask_count(), 20000LL);
    QVERIFY((*store)->frame_complete(9999));
    QVERIFY(same_mask((*store)->get(5050, 1), track_mask(5050, 1, 5052)));
    QVERIFY(same_mask((*store)->get(9999, 7), track_mask(9999, 7, 10000)));
    QVERIFY((*store)->compact().ok());
    QCOMPARE((*store)->mask_count(), 20000LL);
    QVERIFY(same_mask((*store)->get(5050, 1), track_mask(5050, 1, 5052)));
    QVERIFY(same_mask((*store)->get(0, 7), track_mask(0, 7, 1)));
}

QTEST_MAIN(TestSam2TrackStore)
#include "test_sam2_track_store.moc"
