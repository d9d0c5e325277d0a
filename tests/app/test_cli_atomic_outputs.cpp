// Commands that write several files do it all or nothing (issue 14, item 4): a YOLO re-export
// that runs out of room (RLIMIT_FSIZE: write() fails with EFBIG, as on a full disk) or is killed
// half-way (SIGXFSZ's default action, at a known point) leaves the previous export as it was;
// the next run removes what a killed one left; segment, import and remove-bg leave nothing new
// when they fail.
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include "app/cli_process.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "annotation/project.h"
#include "annotation/rle.h"
#include "dead_process.h"

using namespace ps;

namespace {

constexpr int kImages = 25;
constexpr int kSide = 64;
// The big image's label file is several times this, the others well under it.
constexpr rlim_t kFileSizeLimit = 3000;

// Every file under `folder` (relative path → bytes).
std::map<QString, QByteArray> snapshot(const QString& folder) {
    std::map<QString, QByteArray> files;
    QDirIterator it(folder, QDir::Files | QDir::Hidden | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile file(path);
        if (file.open(QIODevice::ReadOnly))
            files[QDir(folder).relativeFilePath(path)] = file.readAll();
    }
    return files;
}

QStringList entries(const QString& folder) {
    return QDir(folder).entryList(QDir::AllEntries | QDir::Hidden | QDir::System |
                                  QDir::NoDotAndDotDot);
}

annotation::AnnotatedObject square(int x, int y, int size, const std::string& label) {
    cv::Mat mask = cv::Mat::zeros(kSide, kSide, CV_8UC1);
    cv::rectangle(mask, cv::Rect(x, y, size, size), cv::Scalar(1), cv::FILLED);
    annotation::AnnotatedObject object;
    object.label = label;
    object.mask = annotation::rle_encode(mask);
    object.bbox = {double(x), double(y), double(size), double(size)};
    object.model = "brush";
    return object;
}

// A project of kImages annotated images "img00.png"...; `variant` moves the squares, so two
// variants export different bytes. Image "img12.png" has many objects: a label file far larger
// than the others.
bool write_project(const QString& folder, int variant, const QString& image_root = {}) {
    annotation::LabelSet labels;
    labels.labels.push_back({"thing", {200, 30, 30}, ""});
    auto project =
        annotation::Project::open(folder.toStdString(), labels, image_root.toStdString());
    if (!project) return false;
    for (int i = 0; i < kImages; ++i) {
        annotation::ImageAnnotation image;
        image.image_file = QString("img%1.png").arg(i, 2, 10, QChar('0')).toStdString();
        image.width = image.height = kSide;
        image.status = annotation::ImageStatus::Done;
        const int objects = i == 12 ? 120 : 2;
        for (int k = 0; k < objects; ++k)
            image.add(square((k % 12) * 5 + variant, (k / 12) * 5 + variant, 3, "thing"));
        if (!project->save(image)) return false;
    }
    return true;
}

// kImages black images "img00.png"... of kSide² pixels in `folder`, for imports to match.
bool write_images(const QString& folder) {
    if (!QDir().mkpath(folder)) return false;
    QImage pixels(kSide, kSide, QImage::Format_RGB888);
    pixels.fill(Qt::black);
    for (int i = 0; i < kImages; ++i)
        if (!pixels.save(folder + QString("/img%1.png").arg(i, 2, 10, QChar('0')))) return false;
    return true;
}

// The CLI with a file-size limit; `ignore_sigxfsz`: writes past it fail with EFBIG (a full disk
// for the program), else the kernel kills it with SIGXFSZ at that write.
CliRun run_cli_limited(const QStringList& args, rlim_t file_size_limit, bool ignore_sigxfsz) {
    QProcess process;
    process.setChildProcessModifier([=] {
        const rlimit limit{file_size_limit, file_size_limit};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        const rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::signal(SIGXFSZ, ignore_sigxfsz ? SIG_IGN : SIG_DFL);
    });
    process.start(QString::fromUtf8(PS_CLI_PATH), args);
    CliRun run;
    if (!process.waitForFinished(120000)) return run;
    run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = QString::fromUtf8(process.readAllStandardOutput());
    run.err = QString::fromUtf8(process.readAllStandardError());
    return run;
}

}  // namespace

class TestCliAtomicOutputs : public QObject {
    Q_OBJECT

  private slots:
    void yolo_reexport_that_fails_leaves_the_old_export_data() {
        QTest::addColumn<bool>("killed");
        QTest::newRow("disk full (EFBIG)") << false;
        QTest::newRow("killed half-way (SIGXFSZ)") << true;
    }

    void yolo_reexport_that_fails_leaves_the_old_export() {
        QFETCH(bool, killed);
        QTemporaryDir dir;
        const QString project = dir.path() + "/project", out = dir.path() + "/yolo";
        QVERIFY(write_project(project, 0));
        const QStringList export_args{"export", "--project", project, "--format",
                                      "yolo",   "--out",     out};
        const CliRun first = run_cli(export_args);
        QCOMPARE(first.exit_code, 0);
        const auto old_files = snapshot(out);
        QCOMPARE(int(old_files.size()), kImages + 1);
        QVERIFY(old_files.at("labels/img12.txt").size() > qint64(2 * kFileSizeLimit));
        const QStringList old_siblings = entries(dir.path());

        QVERIFY(write_project(project, 1));  // every label file changes
        const CliRun failed = run_cli_limited(export_args, kFileSizeLimit, !killed);
        if (killed) {
            QCOMPARE(failed.exit_code, -2);
        } else {
            QCOMPARE(failed.exit_code, 1);
            // The message names the output, not the staging folder.
            QVERIFY2(failed.err.contains(out + "/labels/img12.txt: "), qPrintable(failed.err));
            QVERIFY2(failed.err.contains(out + " was left as it was"), qPrintable(failed.err));
            QVERIFY2(!failed.err.contains("/.yolo.tmp-"), qPrintable(failed.err));
        }
        // Not one file of the old export replaced, none added.
        QVERIFY(snapshot(out) == old_files);
        if (!killed) QCOMPARE(entries(dir.path()), old_siblings);

        // The next run removes what the killed one left, and writes the whole new set.
        const CliRun again = run_cli(export_args);
        QCOMPARE(again.exit_code, 0);
        QCOMPARE(entries(dir.path()), old_siblings);
        const auto new_files = snapshot(out);
        QCOMPARE(int(new_files.size()), kImages + 1);
        for (const auto& [name, bytes] : new_files)
            if (name != "classes.txt") QVERIFY2(bytes != old_files.at(name), qPrintable(name));
    }

    void export_into_a_new_folder_that_fails_leaves_no_folder() {
        QTemporaryDir dir;
        const QString project = dir.path() + "/project", out = dir.path() + "/new/deeper/yolo";
        QVERIFY(write_project(project, 0));
        const QStringList before = entries(dir.path());
        const CliRun failed =
            run_cli_limited({"export", "--project", project, "--format", "yolo", "--out", out},
                            kFileSizeLimit, true);
        QCOMPARE(failed.exit_code, 1);
        QCOMPARE(entries(dir.path()), before);
    }

    void stale_temporary_files_are_removed_by_the_next_run() {
        QTemporaryDir dir;
        const QString project = dir.path() + "/project", out = dir.path() + "/coco";
        QVERIFY(write_project(project, 0));
        const QString annotations = project + "/.photosynth/annotations";
        const long dead = dead_pid();
        // What a killed `annotate` leaves: a save's temporary file, its pid in the name.
        const QString stale = annotations + QString("/.img03.png.json.tmp-%1-a1B2c3").arg(dead);
        // A save in progress in a running process (this one) is not touched.
        const QString live =
            annotations + QString("/.img04.png.json.tmp-%1-x9Y8z7").arg(::getpid());
        // A killed export's staging folder.
        const QString staging = dir.path() + QString("/.coco.tmp-%1-Q1w2E3").arg(dead);
        QVERIFY(QDir().mkpath(staging));
        for (const QString& path : {stale, live, staging + "/annotations.json"}) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("{\"half\": ");
        }
        const CliRun run =
            run_cli({"export", "--project", project, "--format", "coco", "--out", out});
        QCOMPARE(run.exit_code, 0);
        QVERIFY(!QFile::exists(stale));
        QVERIFY(QFile::exists(live));
        QVERIFY(!QFileInfo::exists(staging));
        QVERIFY(QFile::exists(out + "/annotations.json"));
    }

    void failed_segment_leaves_no_out_folder() {
        QTemporaryDir dir;
        const QString prompts = dir.path() + "/prompts.json", out = dir.path() + "/masks";
        QFile file(prompts);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"prompts": [{"points": [[10, 10, 1]]}]})");
        file.close();
        const QStringList before = entries(dir.path());
        const CliRun run =
            run_cli({"segment", "--model", dir.path() + "/none.pth", "--image",
                     dir.path() + "/missing.png", "--prompts", prompts, "--out", out});
        QVERIFY2(run.exit_code == 1, qPrintable(run.err));
        QCOMPARE(entries(dir.path()), before);
    }

    void failed_import_creates_no_project() {
        QTemporaryDir dir;
        const QString bad = dir.path() + "/bad.json";
        QFile file(bad);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"images": "not a list"})");
        file.close();
        // A project folder that is missing, and one that exists (an image folder) without a
        // project.
        const QString images = dir.path() + "/images";
        QVERIFY(QDir().mkpath(images));
        const QStringList before = entries(dir.path());
        for (const QString& project : {dir.path() + "/new_project", images}) {
            const CliRun run =
                run_cli({"import", "--format", "coco", "--input", bad, "--project", project});
            QVERIFY2(run.exit_code == 1, qPrintable(run.err));
            QCOMPARE(entries(dir.path()), before);
            QCOMPARE(entries(images), QStringList{});
        }
    }

    void import_that_fails_changes_nothing_data() {
        QTest::addColumn<QString>("failure");
        QTest::addColumn<bool>("new_project");
        for (const bool fresh : {false, true}) {
            const char* where = fresh ? ", new project" : ", existing project";
            QTest::newRow(qPrintable(QString("disk full (EFBIG)") + where)) << "full" << fresh;
            QTest::newRow(qPrintable(QString("killed half-way (SIGXFSZ)") + where))
                << "killed" << fresh;
            QTest::newRow(qPrintable(QString("one unusable annotation") + where))
                << "invalid" << fresh;
        }
    }

    // An import writes many annotation files; none may change unless all do. Source: a COCO
    // export of another project over the same images (every image gets new objects; img12's
    // file is far over the size limit, and comes after twelve others in the writing order).
    void import_that_fails_changes_nothing() {
        QFETCH(QString, failure);
        QFETCH(bool, new_project);
        QTemporaryDir dir;
        const QString images = dir.path() + "/images", source = dir.path() + "/source",
                      coco = dir.path() + "/coco", target = dir.path() + "/target";
        QVERIFY(write_images(images));
        QVERIFY(write_project(source, 1, images));
        QCOMPARE(
            run_cli({"export", "--project", source, "--format", "coco", "--out", coco}).exit_code,
            0);
        QString input = coco + "/annotations.json";
        if (failure == "invalid") {
            // The last annotation names a category the file does not have.
            QFile file(input);
            QVERIFY(file.open(QIODevice::ReadOnly));
            QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
            QJsonArray annotations = root["annotations"].toArray();
            QVERIFY(!annotations.isEmpty());
            QJsonObject last = annotations.last().toObject();
            last["category_id"] = 99;
            annotations.replace(annotations.size() - 1, last);
            root["annotations"] = annotations;
            input = dir.path() + "/bad_category.json";
            QFile bad(input);
            const QByteArray json = QJsonDocument(root).toJson();
            QVERIFY(bad.open(QIODevice::WriteOnly) && bad.write(json) == json.size());
        }
        if (!new_project) QVERIFY(write_project(target, 0, images));
        const QString state = target + "/.photosynth";
        const auto before = snapshot(target);
        const auto state_before = snapshot(state);
        const QStringList siblings = entries(dir.path());
        const QStringList import_args{"import",    "--format", "coco",        "--input", input,
                                      "--project", target,     "--image-dir", images};

        const CliRun failed = failure == "invalid"
                                  ? run_cli(import_args)
                                  : run_cli_limited(import_args, kFileSizeLimit, failure == "full");
        if (failure == "killed") {
            QCOMPARE(failed.exit_code, -2);
        } else {
            QVERIFY2(failed.exit_code == 1, qPrintable(failed.err));
            QVERIFY2(
                failed.err.contains(failure == "full" ? "was left as it was" : "nothing imported"),
                qPrintable(failed.err));
        }
        // Not one annotation file changed or added, no project made.
        QCOMPARE(QFileInfo::exists(state), !new_project);
        QVERIFY(snapshot(state) == state_before);
        if (failure != "killed") {
            QCOMPARE(entries(dir.path()), siblings);
            QVERIFY(snapshot(target) == before);
        }

        // The next run removes what a killed one left (a staging folder beside .photosynth)
        // and, given the room or --skip-invalid, imports everything at once.
        QStringList again_args = import_args;
        if (failure == "invalid") again_args << "--skip-invalid";
        const CliRun again = run_cli(again_args);
        QVERIFY2(again.exit_code == 0, qPrintable(again.err));
        QCOMPARE(QDir(target).entryList({".*tmp-*"}, QDir::AllEntries | QDir::Hidden),
                 QStringList{});
        auto project = annotation::Project::open(target.toStdString());
        QVERIFY(project);
        QCOMPARE(int(project->annotated_images().size()), kImages);
        const auto loaded = project->load("img12.png");
        QVERIFY(loaded && !loaded->problem);
        // Its own 120 objects (none when new) and the source's (one of them may be the one
        // left out for its category).
        const int objects = (new_project ? 0 : 120) + 120;
        const int loaded_objects = int(loaded->annotation.objects.size());
        QVERIFY2(
            loaded_objects <= objects && loaded_objects >= objects - (failure == "invalid" ? 1 : 0),
            qPrintable(QString::number(loaded_objects)));
    }

    // Where a command writes is checked before its expensive step (a model load, a batch, a
    // benchmark): the model does not exist either, and the error must name the output.
    void outputs_are_checked_before_the_model_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        const QString model = "@/none.pth", images = "@/images", lost = "@/no_folder";
        QTest::newRow("segment --metrics") << QStringList{"segment",
                                                          "--model",
                                                          model,
                                                          "--image",
                                                          "@/missing.png",
                                                          "--prompts",
                                                          "@/prompts.json",
                                                          "--out",
                                                          "@/masks",
                                                          "--metrics",
                                                          lost + "/metrics.json"}
                                           << "no_folder/metrics.json: the folder";
        QTest::newRow("annotate --metrics")
            << QStringList{"annotate",  "--model",   model,           "--input-dir",
                           images,      "--points",  "@/points.json", "--project",
                           "@/project", "--metrics", lost + "/m.json"}
            << "no_folder/m.json: the folder";
        QTest::newRow("remove-bg --output-dir a file")
            << QStringList{"remove-bg", "--model",      model,     "--input-dir",
                           images,      "--output-dir", "@/a_file"}
            << "a_file: --output-dir is a file";
        QTest::newRow("remove-bg --output-dir under a file")
            << QStringList{"remove-bg",    "--model",         model, "--input-dir", images,
                           "--output-dir", "@/a_file/cutouts"}
            << "a_file/cutouts: --output-dir cannot be created";
        QTest::newRow("remove-bg --matte-dir")
            << QStringList{"remove-bg",    "--model", model,         "--input-dir", images,
                           "--output-dir", "@/out",   "--matte-dir", "@/a_file"}
            << "a_file: --matte-dir is a file";
        QTest::newRow("remove-bg --input-dir missing")
            << QStringList{"remove-bg", "--model",      model,  "--input-dir",
                           "@/nothing", "--output-dir", "@/out"}
            << "nothing: no such folder";
        QTest::newRow("bench --json")
            << QStringList{"bench", "--model", model, "--json", lost + "/bench.json"}
            << "no_folder/bench.json: the folder";
        QTest::newRow("bench --csv")
            << QStringList{"bench", "--model", model, "--json", "@/bench.json", "--csv", images}
            << "images: --csv is a folder";
        QTest::newRow("init-checkpoint --out")
            << QStringList{"init-checkpoint", "--arch", "vit_h", "--out", lost + "/vit_h.st"}
            << "no_folder/vit_h.st: the folder";
    }

    void outputs_are_checked_before_the_model() {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(write_images(dir.path() + "/images"));
        for (auto [name, text] :
             {std::pair{"/prompts.json", R"({"prompts": [{"points": [[1, 1, 1]]}]})"},
              std::pair{"/points.json",
                        R"({"images": {"img00.png": [{"label": "a", "points": [[1, 1, 1]]}]}})"},
              std::pair{"/a_file", "not a folder"}}) {
            QFile file(dir.path() + name);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(text);
        }
        args.replaceInStrings(QRegularExpression("^@"), dir.path());
        const QStringList before = entries(dir.path());
        const CliRun run = run_cli(args);
        const QString problem = one_line_failure_problem(run, expected);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY2(!run.err.contains("none.pth"), qPrintable(run.err));
        QCOMPARE(entries(dir.path()), before);
    }

    void remove_bg_checks_the_output_folder_before_the_model() {
        QTemporaryDir dir;
        const QString image = dir.path() + "/in.png";
        QImage pixels(16, 16, QImage::Format_RGB888);
        pixels.fill(Qt::red);
        QVERIFY(pixels.save(image));
        // The model does not exist either: the output folder must be what the error names.
        const CliRun run = run_cli({"remove-bg", "--model", dir.path() + "/none.pth", "--image",
                                    image, "--out", dir.path() + "/no_folder/out.png"});
        const QString problem = one_line_failure_problem(run, "no_folder");
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY2(!run.err.contains("none.pth"), qPrintable(run.err));
    }
};

QTEST_MAIN(TestCliAtomicOutputs)
#include "test_cli_atomic_outputs.moc"
