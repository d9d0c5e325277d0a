// POINTS.json: the forms a point file may take, and a specific message for each way it can be
// wrong.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include "batch/point_file.h"

using ps::batch::PointFile;
using ps::batch::read_point_file;

class TestPointFile : public QObject {
    Q_OBJECT
  private slots:
    void reads_every_point_form();
    void malformed_files_name_the_problem_data();
    void malformed_files_name_the_problem();
    void missing_file_is_named();

  private:
    QString write(const QByteArray& json);
    QTemporaryDir dir_;
    int files_ = 0;
};

QString TestPointFile::write(const QByteArray& json) {
    const QString path = dir_.filePath(QString("points%1.json").arg(++files_));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(json) != json.size()) return {};
    return path;
}

void TestPointFile::reads_every_point_form() {
    const QString path = write(R"({"images": {
        "b.png": [{"label": "cat", "points": [[10, 20], [30.5, 40, 0], {"x": 5, "y": 6, "label": 1}]}],
        "sub/a.png": [{"label": "dog", "box": [1, 2, 30, 40]},
                      {"label": "dog", "points": [{"x": 7, "y": 8}], "box": [0, 0, 9, 9]}],
        "./c.png": [{"label": "bird", "points": [[1, 1, 1]]}]
    }})");
    auto points = read_point_file(path.toStdString());
    QVERIFY2(points, points ? "" : points.message().c_str());
    QCOMPARE(points->images.size(), size_t(3));
    // Names are cleaned, so "./c.png" and "c.png" are one image; the map keeps them sorted.
    QCOMPARE(points->images.begin()->first, std::string("b.png"));
    QVERIFY(points->images.count("c.png"));

    const auto& cat = points->images.at("b.png").at(0);
    QCOMPARE(cat.label, std::string("cat"));
    QCOMPARE(cat.prompts.points.size(), size_t(3));
    QCOMPARE(cat.prompts.points[0].x, 10.0);
    QCOMPARE(cat.prompts.points[0].y, 20.0);
    QVERIFY(cat.prompts.points[0].positive);  // no label: an object point
    QCOMPARE(cat.prompts.points[1].x, 30.5);
    QVERIFY(!cat.prompts.points[1].positive);
    QVERIFY(cat.prompts.points[2].positive);
    QVERIFY(!cat.prompts.box);

    const auto& dogs = points->images.at("sub/a.png");
    QCOMPARE(dogs.size(), size_t(2));
    QVERIFY(dogs[0].prompts.points.empty());
    QVERIFY(dogs[0].prompts.box);
    QCOMPARE((*dogs[0].prompts.box)[2], 30.0);
    QCOMPARE(dogs[1].prompts.points.size(), size_t(1));
    QVERIFY(dogs[1].prompts.box);
}

void TestPointFile::malformed_files_name_the_problem_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not JSON") << QByteArray(R"({"images": {)") << "not valid JSON";
    QTest::newRow("no images") << QByteArray(R"({"pictures": {}})") << "expected {\"images\"";
    QTest::newRow("images a list") << QByteArray(R"({"images": []})") << "expected {\"images\"";
    QTest::newRow("no image named")
        << QByteArray(R"({"images": {}})") << "\"images\" names no image";
    QTest::newRow("objects not a list") << QByteArray(R"({"images": {"a.png": {"label": "x"}}})")
                                        << "\"a.png\": must hold a list of objects";
    QTest::newRow("no objects") << QByteArray(R"({"images": {"a.png": []}})")
                                << "\"a.png\": has no objects";
    QTest::newRow("object not an object") << QByteArray(R"({"images": {"a.png": [[1, 2]]}})")
                                          << "\"a.png\" object 1: must be an object";
    QTest::newRow("no label") << QByteArray(R"({"images": {"a.png": [{"points": [[1, 2]]}]}})")
                              << "\"a.png\" object 1: \"label\" must be a non-empty string";
    QTest::newRow("label a number")
        << QByteArray(R"({"images": {"a.png": [{"label": 3, "points": [[1, 2]]}]}})")
        << "\"label\" must be a non-empty string";
    QTest::newRow("blank label")
        << QByteArray(R"({"images": {"a.png": [{"label": "  ", "points": [[1, 2]]}]}})")
        << "\"label\" must be a non-empty string";
    QTest::newRow("no prompt") << QByteArray(R"({"images": {"a.png": [{"label": "cat"}]}})")
                               << "\"a.png\" object 1: needs \"points\" or a \"box\"";
    QTest::newRow("empty points")
        << QByteArray(R"({"images": {"a.png": [{"label": "cat", "points": []}]}})")
        << "needs \"points\" or a \"box\"";
    QTest::newRow("unknown key")
        << QByteArray(R"({"images": {"a.png": [{"label": "cat", "point": [[1, 2]]}]}})")
        << "object 1: unknown key \"point\"";
    QTest::newRow("points not a list")
        << QByteArray(R"({"images": {"a.png": [{"label": "cat", "points": "10,20"}]}})")
        << "\"points\" must be a list of points";
    QTest::newRow("point of one number")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [[1, 2], [3]]}]}})")
        << "\"a.png\" object 1 point 2: must be [x, y]";
    QTest::newRow("point of four numbers")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [[1, 2, 1, 0]]}]}})")
        << "object 1 point 1: must be [x, y]";
    QTest::newRow("point coordinate a string")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [["1", 2]]}]}})")
        << "point 1: x and y must be numbers";
    QTest::newRow("point label 2")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [[1, 2, 2]]}]}})")
        << "point 1: label must be 1 (object) or 0 (background)";
    QTest::newRow("point object without y")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [{"x": 1}]}]}})")
        << "point 1: x and y must be numbers";
    QTest::newRow("point object unknown key")
        << QByteArray(
               R"({"images": {"a.png": [{"label": "c", "points": [{"x": 1, "y": 2, "z": 3}]}]}})")
        << "point 1: unknown key \"z\"";
    QTest::newRow("box of three")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "box": [1, 2, 3]}]}})")
        << "object 1: \"box\" must be [x0, y0, x1, y1]";
    QTest::newRow("box not a list")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "box": {"x0": 1}}]}})")
        << "\"box\" must be [x0, y0, x1, y1]";
    QTest::newRow("box with a string")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "box": [1, 2, "3", 4]}]}})")
        << "\"box\" must hold 4 numbers";
    QTest::newRow("box inverted")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "box": [10, 2, 3, 4]}]}})")
        << "with x1 > x0 and y1 > y0";
    QTest::newRow("absolute name")
        << QByteArray(R"({"images": {"/etc/a.png": [{"label": "c", "points": [[1, 2]]}]}})")
        << "\"/etc/a.png\": image names must be relative paths inside the input folder";
    QTest::newRow("name leaving the folder")
        << QByteArray(R"({"images": {"sub/../../a.png": [{"label": "c", "points": [[1, 2]]}]}})")
        << "image names must be relative paths inside the input folder";
    QTest::newRow("one file named twice")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [[1, 2]]}],
                                     "./a.png": [{"label": "c", "points": [[1, 2]]}]}})")
        << "names the same file as another entry (a.png)";
    QTest::newRow("second image bad")
        << QByteArray(R"({"images": {"a.png": [{"label": "c", "points": [[1, 2]]}],
                                     "b.png": [{"label": "c", "points": [[1, 2]]}, {"label": "d"}]}})")
        << "\"b.png\" object 2: needs \"points\" or a \"box\"";
    // The limits of docs/limits.md, shared with `segment` and the app (io/input_limits.h).
    QTest::newRow("newline in label")
        << QByteArray(R"({"images": {"a.png": [{"label": "ca\nt", "points": [[1, 2]]}]}})")
        << "object 1: label \"ca\\u000at\" contains a control character";
    QTest::newRow("label over 256 characters")
        << (QByteArray(R"({"images": {"a.png": [{"label": ")") + QByteArray(257, 'x') +
            QByteArray(R"(", "points": [[1, 2]]}]}})"))
        << "has 257 characters, more than 256";
    QByteArray many_points;
    for (int i = 0; i < 65; ++i) many_points += (i ? ", " : "") + QByteArray("[1, 2]");
    QTest::newRow("65 points") << (QByteArray(
                                       R"({"images": {"a.png": [{"label": "c", "points": [)") +
                                   many_points + QByteArray("]}]}}"))
                               << "object 1: has 65 points, more than the 64 a prompt may have";
}

void TestPointFile::malformed_files_name_the_problem() {
    QFETCH(QByteArray, json);
    QFETCH(QString, expected);
    const QString path = write(json);
    QVERIFY(!path.isEmpty());
    auto points = read_point_file(path.toStdString());
    QVERIFY2(!points, "a malformed point file was accepted");
    const QString message = QString::fromStdString(points.message());
    // Every message names the file, then the place and the problem.
    QVERIFY2(message.startsWith(path + ": "), qPrintable(message));
    QVERIFY2(message.contains(expected), qPrintable(message));
    QCOMPARE(points.error().kind, ps::ErrorKind::Format);
}

void TestPointFile::missing_file_is_named() {
    auto points = read_point_file(dir_.filePath("absent.json").toStdString());
    QVERIFY(!points);
    QVERIFY2(QString::fromStdString(points.message()).contains("absent.json: cannot read"),
             points.message().c_str());
    QCOMPARE(points.error().kind, ps::ErrorKind::Io);
}

QTEST_GUILESS_MAIN(TestPointFile)
#include "test_point_file.moc"
