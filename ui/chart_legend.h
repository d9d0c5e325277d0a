// Chart helpers shared by the metrics dock and the benchmark panel: a legend that wraps instead
// of eliding, and axis ranges whose tick labels are whole numbers.
#pragma once

#include <QString>

class QChart;
class QLabel;
class QValueAxis;
class QWidget;

namespace ps::ui {

// A word-wrapped label to place under a chart whose own legend is hidden: Qt Charts' legend
// elides its labels to nothing in a narrow dock, leaving unlabelled colour squares.
QLabel* new_chart_legend(const QString& object_name, QWidget* parent);

// Fills `legend` with a coloured square and the name of each line series and bar set of
// `chart`, in order; the chart's own legend is hidden.
void show_chart_legend(QLabel* legend, QChart& chart);

// The smallest "nice" top (5 intervals of 1, 2 or 5 × 10^k, at least 5) not below `value`.
double nice_axis_top(double value);

// A value axis from 0 to nice_axis_top(max_value) with 5 whole-number intervals: tick labels
// never repeat ("1 1 1 0 0 0" was 0..1 in fifths printed as integers).
void set_whole_number_range(QValueAxis* axis, double max_value);

}  // namespace ps::ui
