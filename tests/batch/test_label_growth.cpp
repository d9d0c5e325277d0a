// Labels a point file adds to a project: kept in order, existing ones untouched, colours apart.
#include <QtTest>

#include <cmath>
#include <set>

#include "batch/label_growth.h"

using namespace ps;

namespace {

double colour_distance(const std::array<uint8_t, 3>& a, const std::array<uint8_t, 3>& b) {
    double sum = 0;
    for (size_t c = 0; c < 3; ++c) sum += std::pow(double(a[c]) - double(b[c]), 2);
    return std::sqrt(sum);
}

}  // namespace

class TestLabelGrowth : public QObject {
    Q_OBJECT
  private slots:
    void missing_labels_are_appended_once();
    void nothing_to_add_changes_nothing();
    void first_colours_are_far_apart();
};

void TestLabelGrowth::missing_labels_are_appended_once() {
    annotation::LabelSet labels;
    labels.labels.push_back({"cat", {1, 2, 3}, "C"});
    QVERIFY(batch::add_missing_labels(labels, {"dog", "cat", "bird", "dog"}));
    QCOMPARE(labels.labels.size(), size_t(3));
    QCOMPARE(labels.labels[0].name, std::string("cat"));
    const std::array<uint8_t, 3> kept{1, 2, 3};
    QCOMPARE(labels.labels[0].colour, kept);  // an existing label keeps its colour and key
    QCOMPARE(labels.labels[0].hotkey, std::string("C"));
    QCOMPARE(labels.labels[1].name, std::string("dog"));
    QCOMPARE(labels.labels[2].name, std::string("bird"));
    QVERIFY(labels.labels[1].hotkey.empty());
    QCOMPARE(labels.labels[1].colour, batch::distinct_label_colour(1));
    QCOMPARE(labels.labels[2].colour, batch::distinct_label_colour(2));
}

void TestLabelGrowth::nothing_to_add_changes_nothing() {
    annotation::LabelSet labels;
    labels.labels.push_back({"cat", {1, 2, 3}, ""});
    QVERIFY(!batch::add_missing_labels(labels, {"cat"}));
    QCOMPARE(labels.labels.size(), size_t(1));
}

void TestLabelGrowth::first_colours_are_far_apart() {
    // Twelve labels cover most datasets a person reviews by eye: each pair stays visibly apart
    // (over 60 in RGB units) and no colour is near black, which reads as background.
    constexpr int kLabels = 12;
    std::set<std::array<uint8_t, 3>> seen;
    for (int i = 0; i < kLabels; ++i) {
        const auto colour = batch::distinct_label_colour(i);
        QVERIFY2(colour_distance(colour, {0, 0, 0}) > 150,
                 qPrintable(QString("colour %1 too dark").arg(i)));
        for (int j = 0; j < i; ++j) {
            const double distance = colour_distance(colour, batch::distinct_label_colour(j));
            QVERIFY2(
                distance > 60,
                qPrintable(QString("colours %1 and %2: %3 apart").arg(j).arg(i).arg(distance)));
        }
        seen.insert(colour);
    }
    QCOMPARE(seen.size(), size_t(kLabels));
    QCOMPARE(batch::distinct_label_colour(5), batch::distinct_label_colour(5));  // no hidden state
}

QTEST_GUILESS_MAIN(TestLabelGrowth)
#include "test_label_growth.moc"
