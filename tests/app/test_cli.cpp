// photosynth-cli end to end: real processes, real files, golden masks.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include "app/cli_process.h"

#include "sam_golden.h"

class TestCli : public QObject {
    Q_OBJECT
  private slots:
    void segment_reproduces_golden_masks_data();
    void segment_reproduces_golden_masks();
    void info_reports_configuration_data();
    void info_reports_configuration();
    void info_describes_u2net_data();
    void info_describes_u2net();
    void every_command_answers_help_data();
    void every_command_answers_help();
    void top_level_help_lists_every_command_data();
    void top_level_help_lists_every_command();
    void device_fallback_and_metrics_are_reported();
    void bad_inputs_fail_with_one_clear_line_data();
    void bad_inputs_fail_with_one_clear_line();
};

void TestCli::segment_reproduces_golden_masks_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("image");
    QTest::newRow("vit_tiny pth coffee") << "sam_vit_tiny.pth"
                                         << "sam_vit_tiny"
                                         << "coffee";
    QTest::newRow("vit_tiny safetensors astronaut") << "sam_vit_tiny.safetensors"
                                                    << "sam_vit_tiny"
                                                    << "astronaut_crop";
    QTest::newRow("mobile_sam astronaut") << "mobile_sam_tiny.pth"
                                          << "mobile_sam_tiny"
                                          << "astronaut_crop";
}

void TestCli::segment_reproduces_golden_masks() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, model);
    QFETCH(QString, image);
    QTemporaryDir dir;
    const QString out = dir.path() + "/out";
    const CliRun run = run_cli({"segment", "--model", golden_dir() + "/" + checkpoint, "--image",
                                golden_dir() + "/images/" + image + ".png", "--prompts",
                                golden_dir() + "/images/" + image + "_prompts.json", "--out", out,
                                "--device", "cpu"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));

    QFile result_file(out + "/result.json");
    QVERIFY(result_file.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(result_file.readAll()).object();
    QCOMPARE(result["device"].toString(), QString("cpu"));
    QVERIFY(result["encode_ms"].toDouble() > 0);
    QCOMPARE(result["model"].toObject()["family"].toString(),
             model.startsWith("mobile") ? QString("mobile_sam") : QString("sam"));
    const QJsonArray prompts = result["prompts"].toArray();
    QCOMPARE(prompts.size(), 5);  // every golden prompt file has five prompts
    int masks_checked = 0;
    for (int k = 0; k < prompts.size(); ++k) {
        const QJsonObject p = prompts[k].toObject();
        const QJsonArray masks = p["masks"].toArray();
        QCOMPARE(masks.size(), p["iou"].toArray().size());
        QVERIFY(p["decode_ms"].toDouble() > 0);
        for (int i = 0; i < masks.size(); ++i) {
            QCOMPARE(masks[i].toString(), QString("prompt%1_mask%2.png").arg(k).arg(i));
            const cv::Mat ours = read_grey_png(out + "/" + masks[i].toString());
            const cv::Mat expected = read_grey_png(
                golden_dir() +
                QString("/%1__%2__prompt%3_mask%4.png").arg(model, image).arg(k).arg(i));
            QVERIFY(!ours.empty() && !expected.empty());
            // Written masks are strictly 0/255.
            QCOMPARE(cv::countNonZero((ours != 0) & (ours != 255)), 0);
            const double iou = compare_masks(ours, expected).iou;
            QVERIFY2(iou >= 0.995,
                     qPrintable(QString("prompt %1 mask %2: IoU %3").arg(k).arg(i).arg(iou)));
            ++masks_checked;
        }
    }
    QCOMPARE(masks_checked, 7);  // 3 multimask + 4 single
}

void TestCli::info_reports_configuration_data() {
    QTest::addColumn<QString>("checkpoint");
    QTest::addColumn<QString>("family");
    QTest::addColumn<int>("parameters");
    QTest::newRow("vit_tiny") << "sam_vit_tiny.pth"
                              << "sam" << 584108;
    QTest::newRow("vit_tiny st") << "sam_vit_tiny.safetensors"
                                 << "sam" << 584108;
    QTest::newRow("vit_tiny bf16") << "sam_vit_tiny_bf16.pth"
                                   << "sam" << 584108;
    QTest::newRow("mobile") << "mobile_sam_tiny.pth"
                            << "mobile_sam" << 0;
}

void TestCli::info_reports_configuration() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, family);
    QFETCH(int, parameters);
    const CliRun run = run_cli({"info", golden_dir() + "/" + checkpoint, "--json"});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    const QJsonObject info = QJsonDocument::fromJson(run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), family);
    if (parameters > 0) QCOMPARE(info["parameters"].toInt(), parameters);
    if (family == "sam") {
        const QJsonObject enc = info["image_encoder"].toObject();
        QCOMPARE(enc["embed_dim"].toInt(), 64);
        QCOMPARE(enc["depth"].toInt(), 4);
        QCOMPARE(enc["num_heads"].toInt(), 2);
        QCOMPARE(enc["global_attn_indexes"].toArray(), (QJsonArray{1, 3}));
        QCOMPARE(info["dtype"].toString(),
                 checkpoint.contains("bf16") ? QString("bfloat16") : QString("float32"));
    } else {
        const QJsonObject enc = info["image_encoder"].toObject();
        QCOMPARE(enc["embed_dims"].toArray(), (QJsonArray{32, 48, 64, 320}));
        QCOMPARE(enc["num_heads"].toArray(), (QJsonArray{0, 2, 2, 10}));
        QCOMPARE(enc["window_sizes"].toArray(), (QJsonArray{0, 7, 14, 7}));
    }
}

// U²-Net's widths and parameter count, read off the file. The expected counts are every
// floating-point element of u2net.py's U2NET/U2NETP (BatchNorm statistics included), summed
// independently of the checkpoint reader; u2net (44.0M) is written by init-checkpoint.
void TestCli::info_describes_u2net_data() {
    QTest::addColumn<QString>("checkpoint");  // a golden file, or "init:ARCH"
    QTest::addColumn<QString>("arch");
    QTest::addColumn<qint64>("parameters");
    QTest::addColumn<QString>("stage1");  // in/mid/out widths
    QTest::newRow("u2netp pth") << "u2netp.pth"
                                << "u2netp" << qint64(1136877) << "3/16/64";
    QTest::newRow("u2netp safetensors") << "u2netp.safetensors"
                                        << "u2netp" << qint64(1136877) << "3/16/64";
    QTest::newRow("u2net") << "init:u2net"
                           << "u2net" << qint64(44038669) << "3/32/64";
}

void TestCli::info_describes_u2net() {
    QFETCH(QString, checkpoint);
    QFETCH(QString, arch);
    QFETCH(qint64, parameters);
    QFETCH(QString, stage1);
    QTemporaryDir dir;
    QString path = golden_dir() + "/" + checkpoint;
    if (checkpoint.startsWith("init:")) {
        path = dir.filePath(arch + ".safetensors");
        const CliRun init = run_cli({"init-checkpoint", "--arch", arch, "--out", path});
        QVERIFY2(init.exit_code == 0, qPrintable(init.err));
    }
    const CliRun json_run = run_cli({"info", path, "--json"});
    QVERIFY2(json_run.exit_code == 0, qPrintable(json_run.err));
    const QJsonObject info = QJsonDocument::fromJson(json_run.out.toUtf8()).object();
    QCOMPARE(info["family"].toString(), QString("u2net"));
    QCOMPARE(info["arch"].toString(), arch);
    QCOMPARE(info["parameters"].toInteger(), parameters);
    QCOMPARE(info["dtype"].toString(), QString("float32"));
    QCOMPARE(info["input_size"].toInt(), 320);
    const QJsonArray stages = info["stages"].toArray();
    QCOMPARE(stages.size(), 11);
    const QJsonObject first = stages[0].toObject(), fifth = stages[4].toObject();
    QCOMPARE(first["name"].toString(), QString("stage1"));
    QCOMPARE(QString("%1/%2/%3")
                 .arg(first["in_ch"].toInt())
                 .arg(first["mid_ch"].toInt())
                 .arg(first["out_ch"].toInt()),
             stage1);
    QCOMPARE(first["height"].toInt(), 7);
    QCOMPARE(fifth["name"].toString(), QString("stage5"));
    QVERIFY(fifth["dilated"].toBool());  // RSU-4F

    const CliRun text_run = run_cli({"info", path});
    QVERIFY2(text_run.exit_code == 0, qPrintable(text_run.err));
    QVERIFY2(text_run.out.contains("family: u2net"), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains(arch == "u2net" ? "U²-Net:" : "U²-NetP:"),
             qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains("stage1 " + stage1), qPrintable(text_run.out));
    QVERIFY2(text_run.out.contains(QString::number(parameters) + " parameters"),
             qPrintable(text_run.out));
}

namespace {

// Every command main.cpp dispatches; top_level_help_lists_every_command checks none is missing.
const QStringList kCommands{"info",          "segment", "remove-bg",       "effect",
                            "bench-effects", "bench",   "init-checkpoint", "annotate",
                            "export",        "import",  "track",           "merge"};

}  // namespace

// `CMD --help` (or -h, anywhere among its arguments) prints CMD's usage and succeeds, even where
// the other arguments are incomplete.
void TestCli::every_command_answers_help_data() {
    QTest::addColumn<QStringList>("args");
    for (const QString& command : kCommands) {
        QTest::addRow("%s --help", qPrintable(command)) << QStringList{command, "--help"};
        QTest::addRow("%s -h", qPrintable(command)) << QStringList{command, "-h"};
    }
    QTest::newRow("segment, help after options")
        << QStringList{"segment", "--model", "m.pth", "--help"};
    QTest::newRow("help COMMAND") << QStringList{"help", "export"};
}

void TestCli::every_command_answers_help() {
    QFETCH(QStringList, args);
    const QString command = args[0] == "help" ? args[1] : args[0];
    const CliRun run = run_cli(args);
    QVERIFY2(run.exit_code == 0,
             qPrintable(QString("exit %1: %2").arg(run.exit_code).arg(run.err)));
    QVERIFY2(run.err.isEmpty(), qPrintable(run.err));
    QVERIFY2(run.out.startsWith("usage: photosynth-cli " + command + " "), qPrintable(run.out));
    // Wrapped for a terminal: no line over 100 columns.
    for (const QString& line : run.out.split('\n')) QVERIFY2(line.size() <= 100, qPrintable(line));
}

void TestCli::top_level_help_lists_every_command_data() {
    QTest::addColumn<QString>("argument");
    QTest::newRow("--help") << "--help";
    QTest::newRow("-h") << "-h";
    QTest::newRow("help") << "help";
}

void TestCli::top_level_help_lists_every_command() {
    QFETCH(QString, argument);
    const CliRun run = run_cli({argument});
    QVERIFY2(run.exit_code == 0,
             qPrintable(QString("exit %1: %2").arg(run.exit_code).arg(run.err)));
    QVERIFY2(run.out.startsWith("usage: photosynth-cli COMMAND"), qPrintable(run.out));
    QVERIFY2(run.out.contains("COMMAND --help"), qPrintable(run.out));
    // Exactly the commands of kCommands, each on a line of its own "  NAME ..." at the margin.
    QStringList listed;
    for (const QString& line : run.out.split('\n')) {
        if (line.startsWith("  ") && line.size() > 2 && line[2] != ' ')
            listed << line.mid(2).section(' ', 0, 0);
    }
    QCOMPARE(listed, kCommands);
}

void TestCli::device_fallback_and_metrics_are_reported() {
    QTemporaryDir dir;
    const QString out = dir.path() + "/out", metrics = dir.path() + "/metrics.json";
    const CliRun run = run_cli({"segment", "--model", golden_dir() + "/sam_vit_tiny.pth", "--image",
                                golden_dir() + "/images/coffee.png", "--prompts",
                                golden_dir() + "/images/coffee_prompts.json", "--out", out,
                                "--device", "cuda", "--metrics", metrics});
    QVERIFY2(run.exit_code == 0, qPrintable(run.err));
    QFile result_file(out + "/result.json");
    QVERIFY(result_file.open(QIODevice::ReadOnly));
    const QJsonObject result = QJsonDocument::fromJson(result_file.readAll()).object();
    QCOMPARE(result["requested_device"].toString(), QString("cuda"));
    QFile metrics_file(metrics);
    QVERIFY(metrics_file.open(QIODevice::ReadOnly));
    const QJsonObject m = QJsonDocument::fromJson(metrics_file.readAll()).object();
    QVERIFY2(!m.isEmpty(), "metrics file is not a JSON object");
    if (result["device"].toString().startsWith("cuda")) {
        QVERIFY(result["fallback_reason"].isNull());
    } else {
        // The GPU was not used, and the user is told why: in the result, the metrics and stderr.
        QCOMPARE(result["device"].toString(), QString("cpu"));
        QVERIFY(result["fallback_reason"].toString().contains("CUDA requested"));
        QVERIFY(run.err.contains("CUDA requested"));
        QVERIFY(QJsonDocument(m).toJson().contains("CUDA requested"));
    }
}

void TestCli::bad_inputs_fail_with_one_clear_line_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("expected");
    const QString g = golden_dir();
    const QStringList seg{"segment",
                          "--image",
                          g + "/images/coffee.png",
                          "--prompts",
                          g + "/images/coffee_prompts.json",
                          "--out",
                          "/tmp/ps-never-written"};
    QTest::newRow("info unknown option")
        << (QStringList{"info", g + "/u2netp.pth", "--verbose"}) << "unknown option --verbose";
    QTest::newRow("single-dash option") << (seg + QStringList{"-v"}) << "unknown option -v";
    // Refused before anything is read: the project does not exist either.
    QTest::newRow("stray argument")
        << (QStringList{"export", "--project", "/nonexistent-project", "--format", "coco", "--out",
                        "/tmp/ps-never-written", "extra"})
        << "unexpected argument 'extra'";
    QTest::newRow("unknown command")
        << (QStringList{"frobnicate"}) << "unknown command 'frobnicate'";
    QTest::newRow("info on neither family")
        << (QStringList{"info", g + "/u2netp_case.safetensors"}) << "not a Segment Anything";
    QTest::newRow("pickle os.system")
        << (seg + QStringList{"--model", g + "/hostile/pickle_os_system.pth"}) << "posix.system";
    QTest::newRow("truncated zip")
        << (seg + QStringList{"--model", g + "/hostile/truncated_half.pth"}) << "truncated";
    QTest::newRow("safetensors out of bounds")
        << (seg + QStringList{"--model", g + "/hostile/st_offsets_out_of_bounds.safetensors"})
        << "out of bounds";
    QTest::newRow("wrong magic") << (QStringList{"info", g + "/hostile/random_bytes.pth"})
                                 << "unknown format";
    QTest::newRow("missing image")
        << (QStringList{"segment", "--model", g + "/sam_vit_tiny.pth", "--image",
                        "/nonexistent.png", "--prompts", g + "/images/coffee_prompts.json", "--out",
                        "/tmp/ps-never-written"})
        << "nonexistent.png";
    QTest::newRow("prompts not json")
        << (QStringList{"segment", "--model", g + "/sam_vit_tiny.pth", "--image",
                        g + "/images/coffee.png", "--prompts", g + "/images/coffee.png", "--out",
                        "/tmp/ps-never-written"})
        << "invalid JSON";
    QTest::newRow("unknown precision")
        << (seg + QStringList{"--model", g + "/sam_vit_tiny.pth", "--precision", "fp8"}) << "fp8";
    QTest::newRow("missing model") << seg << "missing --model";
}

void TestCli::bad_inputs_fail_with_one_clear_line() {
    QFETCH(QStringList, args);
    QFETCH(QString, expected);
    const CliRun run = run_cli(args);
    const QString problem = one_line_failure_problem(run, expected);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!QFileInfo::exists("/tmp/ps-never-written/result.json"));
}

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
