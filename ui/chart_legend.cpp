// Chart legend and axis helpers.
#include "chart_legend.h"

#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QLabel>
#include <QLegend>
#include <QLineSeries>
#include <QValueAxis>

#include <cmath>

namespace ps::ui {
namespace {

QString entry(const QColor& colour, const QString& name) {
    // A non-breaking space keeps each square with its name when the line wraps.
    return QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2")
        .arg(colour.name(), name.toHtmlEscaped());
}

}  // namespace

QLabel* new_chart_legend(const QString& object_name, QWidget* parent) {
    auto* legend = new QLabel(parent);
    legend->setObjectName(object_name);
    legend->setWordWrap(true);
    legend->setTextFormat(Qt::RichText);
    return legend;
}

void show_chart_legend(QLabel* legend, QChart& chart) {
    chart.legend()->hide();
    QStringList entries;
    for (QAbstractSeries* series : chart.series()) {
        if (auto* line = qobject_cast<QLineSeries*>(series))
            entries << entry(line->color(), line->name());
        if (auto* bars = qobject_cast<QBarSeries*>(series)) {
            for (QBarSet* set : bars->barSets()) entries << entry(set->color(), set->label());
        }
    }
    legend->setText(entries.join(QStringLiteral(" &nbsp; ")));
    legend->setVisible(!entries.isEmpty());
}

double nice_axis_top(double value) {
    const double target = std::max(5.0, value);
    const double raw_step = target / 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
    for (double factor : {1.0, 2.0, 5.0, 10.0}) {
        const double step = factor * magnitude;
        if (step * 5 >= target * (1 - 1e-12)) return step * 5;
    }
    return 50 * magnitude;
}

void set_whole_number_range(QValueAxis* axis, double max_value) {
    axis->setRange(0, nice_axis_top(max_value));
    axis->setTickType(QValueAxis::TicksFixed);
    axis->setTickCount(6);
    axis->setLabelFormat("%.0f");
}

}  // namespace ps::ui
