// video::list_track_batch, the folder form of `track`: which entries are videos, their prompts
// files and output folders, the clashes of one name, and what is left out or refused.
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "video/track_batch.h"

namespace {

bool touch(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write("x") == 1;
}

}  // namespace

class TestTrackBatch : public QObject {
    Q_OBJECT
  private slots:
    void pairs_videos_with_prompts_and_folders();
    void refuses_a_missing_input_and_output_as_input();
    void video_file_names();
};

void TestTrackBatch::pairs_videos_with_prompts_and_folders() {
    QTemporaryDir dir;
    const QString in = dir.filePath("in"), prompts = in + "/prompts", out = in + "/out";
    for (const QString& folder : {in + "/a", in + "/c", in + "/.hidden", prompts, out})
        QVERIFY(QDir().mkpath(folder));
    for (const QString& file : {in + "/a.mp4", in + "/b.MOV", in + "/notes.txt", in + "/x.json",
                                prompts + "/a.json", prompts + "/b.json"})
        QVERIFY(touch(file));

    auto listing =
        ps::video::list_track_batch(in.toStdString(), prompts.toStdString(), out.toStdString());
    QVERIFY2(listing, listing ? "" : listing.message().c_str());
    // notes.txt and x.json are neither videos nor folders; .hidden, prompts and out are left out.
    QCOMPARE(listing->ignored, 2);
    std::vector<std::string> inputs;
    for (const auto& item : listing->items) inputs.push_back(item.input);
    QCOMPARE(inputs, (std::vector<std::string>{"a", "a.mp4", "b.MOV", "c"}));
    const auto& folder = listing->items[0];
    QCOMPARE(folder.name, std::string("a"));
    QCOMPARE(QString::fromStdString(folder.video), in + "/a");
    QCOMPARE(QString::fromStdString(folder.prompts), prompts + "/a.json");
    QCOMPARE(QString::fromStdString(folder.out_dir), out + "/a");
    QVERIFY(folder.problem.empty());
    // a.mp4 would write out/a too: the later name fails.
    QCOMPARE(listing->items[1].problem, std::string("same output folder a as a"));
    QCOMPARE(listing->items[2].name, std::string("b"));
    QVERIFY(listing->items[2].problem.empty());
    QCOMPARE(QString::fromStdString(listing->items[3].problem),
             "no prompts file " + prompts + "/c.json");
}

void TestTrackBatch::refuses_a_missing_input_and_output_as_input() {
    QTemporaryDir dir;
    const std::string in = dir.filePath("in").toStdString();
    auto missing = ps::video::list_track_batch(in, in, dir.filePath("out").toStdString());
    QVERIFY(!missing);
    QCOMPARE(missing.message(), in + ": no such folder");
    QVERIFY(QDir().mkpath(dir.filePath("in")));
    auto same = ps::video::list_track_batch(in, in, in + "/.");
    QVERIFY(!same);
    QVERIFY2(same.message().find("--output-dir must differ from --input-dir") != std::string::npos,
             same.message().c_str());
}

void TestTrackBatch::video_file_names() {
    for (const char* name : {"a.mp4", "b.AVI", "c.d.mkv", "e.webm", "f.m4v", "g.mpeg", "h.wmv"})
        QVERIFY2(ps::video::is_video_file_name(name), name);
    for (const char* name : {"a.png", "mp4", "a.mp4.json", "a"})
        QVERIFY2(!ps::video::is_video_file_name(name), name);
}

QTEST_GUILESS_MAIN(TestTrackBatch)
#include "test_track_batch.moc"
