// The shared input validation of docs/limits.md: prompts and label names (io/input_limits.h).
#include <QtTest>

#include <limits>

#include "io/input_limits.h"

using ps::io::PromptGeometry;

class TestInputLimits : public QObject {
    Q_OBJECT
  private slots:
    void bad_prompts_are_named_data();
    void bad_prompts_are_named();
    void prompts_at_the_limits_pass();
    void labels_are_trimmed_and_checked_data();
    void labels_are_trimmed_and_checked();
};

Q_DECLARE_METATYPE(PromptGeometry)

namespace {

PromptGeometry points(int count, double x = 5, double y = 5) {
    PromptGeometry prompt;
    for (int i = 0; i < count; ++i) prompt.points.push_back({x, y});
    return prompt;
}

PromptGeometry box(double x0, double y0, double x1, double y1) {
    PromptGeometry prompt;
    prompt.box = std::array<double, 4>{x0, y0, x1, y1};
    return prompt;
}

}  // namespace

void TestInputLimits::bad_prompts_are_named_data() {
    QTest::addColumn<PromptGeometry>("prompt");
    QTest::addColumn<QString>("expected");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("empty") << PromptGeometry{} << "needs points, a box, or both";
    QTest::newRow("65 points") << points(65) << "has 65 points, more than the 64";
    QTest::newRow("NaN point") << points(1, nan) << "point coordinates must be finite";
    QTest::newRow("1e308") << points(1, 1e308) << "point (1e+308, 5) is outside the 160×120 image";
    QTest::newRow("negative") << points(1, -1) << "point (-1, 5) is outside";
    QTest::newRow("inverted box") << box(50, 5, 10, 20) << "with x0 < x1 and y0 < y1";
    QTest::newRow("zero-area box") << box(10, 5, 10, 20) << "(non-zero area)";
    QTest::newRow("infinite box") << box(0, 0, HUGE_VAL, 5) << "box coordinates must be finite";
    QTest::newRow("box outside") << box(0, 0, 161, 5) << "box [0, 0, 161, 5] is outside";
}

void TestInputLimits::bad_prompts_are_named() {
    QFETCH(PromptGeometry, prompt);
    QFETCH(QString, expected);
    const auto checked = ps::io::check_prompt(prompt, 160, 120);
    QVERIFY2(!checked, "a bad prompt passed");
    QVERIFY2(QString::fromStdString(checked.message()).contains(expected),
             checked.message().c_str());
    QCOMPARE(checked.error().kind, ps::ErrorKind::InvalidArgument);
}

void TestInputLimits::prompts_at_the_limits_pass() {
    QVERIFY(ps::io::check_prompt(points(64), 160, 120));
    QVERIFY(ps::io::check_prompt(points(1, 160, 120), 160, 120));  // the far edge is inside
    QVERIFY(ps::io::check_prompt(box(0, 0, 160, 120), 160, 120));
    QVERIFY(ps::io::check_prompt(box(3, 4, 3.5, 4.5), 160, 120));
}

void TestInputLimits::labels_are_trimmed_and_checked_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("result");  // the stored name, or "error: <part of the message>"
    QTest::newRow("plain") << "cat"
                           << "cat";
    QTest::newRow("trimmed") << "  cat \n"
                             << "cat";
    QTest::newRow("unicode") << "chat noir é"
                             << "chat noir é";
    QTest::newRow("256 characters") << QString(256, QChar(0x00e9)) << QString(256, QChar(0x00e9));
    QTest::newRow("257 characters")
        << QString(257, 'x') << "error: has 257 characters, more than 256";
    QTest::newRow("newline inside") << "ca\nt"
                                    << "error: label \"ca\\u000at\" contains a control";
    QTest::newRow("carriage return") << "ca\rt"
                                     << "error: contains a control character";
    QTest::newRow("NUL") << QString("ca") + QChar(0) + "t"
                         << "error: contains a control character";
    QTest::newRow("blank") << " \t "
                           << "error: must not be empty";
}

void TestInputLimits::labels_are_trimmed_and_checked() {
    QFETCH(QString, name);
    QFETCH(QString, result);
    const auto checked = ps::io::check_label(name.toStdString());
    if (result.startsWith("error: ")) {
        QVERIFY2(!checked, "a bad label passed");
        QVERIFY2(QString::fromStdString(checked.message()).contains(result.mid(7)),
                 checked.message().c_str());
    } else {
        QVERIFY2(checked, checked ? "" : checked.message().c_str());
        QCOMPARE(QString::fromStdString(*checked), result);
    }
}

QTEST_GUILESS_MAIN(TestInputLimits)
#include "test_input_limits.moc"
