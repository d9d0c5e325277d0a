// Benchmark panel: runs engine::run_benchmark on the engine's pool and shows its report.
#include "engine/benchmark.h"  // ATen-using headers before Qt's `slots` macro
#include "engine/engine.h"

#include "benchmark_panel.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QTableWidget>
#include <QValueAxis>

#include <QVBoxLayout>
#include "chart_legend.h"
#include "display_names.h"

#include <algorithm>

#include "engine/future_watch.h"

namespace ps::ui {

namespace {

QPushButton* new_button(const QString& text, const QString& object_name, QWidget* parent) {
    auto* button = new QPushButton(text, parent);
    button->setObjectName(object_name);
    return button;
}

QSpinBox* new_spin(const QString& object_name, int min, int max, int value, QWidget* parent) {
    auto* spin = new QSpinBox(parent);
    spin->setObjectName(object_name);
    spin->setRange(min, max);
    spin->setValue(value);
    return spin;
}

QComboBox* new_combo(const QString& object_name, const QStringList& items, QWidget* parent) {
    auto* combo = new QComboBox(parent);
    combo->setObjectName(object_name);
    combo->addItems(items);
    return combo;
}

// QSaveFile writes beside the target and renames on commit: a failed export never leaves a
// truncated file where a previous good one was.
QString write_atomically(const QString& path, const QByteArray& bytes) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return path + ": " + file.errorString();
    if (file.write(bytes) != bytes.size() || !file.commit())
        return path + ": " + file.errorString();
    return {};
}

QString model_name(const engine::ModelBenchmark& model) {
    return QFileInfo(QString::fromStdString(model.path)).fileName();
}

QString format_ms(double ms) {
    return QString::number(ms, 'f', 2);
}

}  // namespace

BenchmarkPanel::BenchmarkPanel(engine::Engine& engine, QWidget* parent)
    : QDockWidget(tr("Benchmark"), parent), engine_(engine) {
    setObjectName("benchmark_panel");
    build_ui();
    set_running(false);
}

BenchmarkPanel::~BenchmarkPanel() {
    // The job outlives the panel otherwise, and the engine's shutdown would wait for all of it.
    if (cancel_) cancel_->store(true);
}

void BenchmarkPanel::build_ui() {
    auto* content = new QWidget(this);
    auto* layout = new QVBoxLayout(content);

    models_ = new QListWidget(content);
    models_->setObjectName("bench_models");
    models_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    layout->addWidget(models_);
    auto* model_buttons = new QHBoxLayout;
    auto* add = new_button(tr("Add model…"), "bench_add_model", content);
    auto* remove = new_button(tr("Remove"), "bench_remove_model", content);
    model_buttons->addWidget(add);
    model_buttons->addWidget(remove);
    model_buttons->addStretch(1);
    layout->addLayout(model_buttons);
    connect(add, &QPushButton::clicked, this, [this] {
        const QStringList paths = QFileDialog::getOpenFileNames(
            this, tr("Add models"), {},
            tr("Checkpoints (*.pth *.pt *.safetensors);;All files (*)"));
        for (const QString& path : paths) add_model(path);
    });
    connect(remove, &QPushButton::clicked, this, [this] { qDeleteAll(models_->selectedItems()); });

    auto* form = new QFormLayout;
    device_ = new_combo("bench_device", {"auto", "cpu", "cuda"}, content);
    precision_ = new_combo("bench_precision", {"fp32", "fp16", "bf16"}, content);
    form->addRow(tr("Device:"), device_);
    form->addRow(tr("Precision:"), precision_);
    auto* size_row = new QHBoxLayout;
    width_ = new_spin("bench_width", 16, 16384, 1920, content);
    height_ = new_spin("bench_height", 16, 16384, 1080, content);
    size_row->addWidget(width_);
    size_row->addWidget(new QLabel(QStringLiteral("×"), content));
    size_row->addWidget(height_);
    form->addRow(tr("Synthetic image:"), size_row);
    auto* folder_row = new QHBoxLayout;
    images_dir_ = new QLineEdit(content);
    images_dir_->setObjectName("bench_images_dir");
    images_dir_->setPlaceholderText(tr("empty: synthetic image"));
    auto* browse = new_button(tr("…"), "bench_browse_images", content);
    folder_row->addWidget(images_dir_);
    folder_row->addWidget(browse);
    form->addRow(tr("Image folder:"), folder_row);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Benchmark images"));
        if (!dir.isEmpty()) images_dir_->setText(dir);
    });
    iterations_ = new_spin("bench_iterations", 1, 100000, 5, content);
    warmup_ = new_spin("bench_warmup", 0, 1000, 1, content);
    form->addRow(tr("Iterations:"), iterations_);
    form->addRow(tr("Warm-up:"), warmup_);
    layout->addLayout(form);

    auto* run_row = new QHBoxLayout;
    run_ = new_button(tr("Run"), "bench_run", content);
    cancel_button_ = new_button(tr("Cancel"), "bench_cancel", content);
    progress_ = new QProgressBar(content);
    progress_->setObjectName("bench_progress");
    progress_->setRange(0, 1);
    progress_->setValue(0);
    run_row->addWidget(run_);
    run_row->addWidget(cancel_button_);
    run_row->addWidget(progress_, 1);
    layout->addLayout(run_row);
    connect(run_, &QPushButton::clicked, this, &BenchmarkPanel::start_run);
    connect(cancel_button_, &QPushButton::clicked, this, &BenchmarkPanel::cancel_run);
    status_ = new QLabel(content);
    status_->setObjectName("bench_status");
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(status_);

    auto* history_row = new QHBoxLayout;
    history_box_ = new QComboBox(content);
    history_box_->setObjectName("bench_history");
    history_row->addWidget(new QLabel(tr("Run:"), content));
    history_row->addWidget(history_box_, 1);
    export_json_ = new_button(tr("Export JSON…"), "bench_export_json", content);
    export_csv_ = new_button(tr("Export CSV…"), "bench_export_csv", content);
    history_row->addWidget(export_json_);
    history_row->addWidget(export_csv_);
    layout->addLayout(history_row);
    connect(history_box_, &QComboBox::currentIndexChanged, this, &BenchmarkPanel::show_report);
    connect(export_json_, &QPushButton::clicked, this, [this] { export_with_dialog(true); });
    connect(export_csv_, &QPushButton::clicked, this, [this] { export_with_dialog(false); });

    results_ = new QTableWidget(0, 9, content);
    results_->setObjectName("bench_results");
    results_->setHorizontalHeaderLabels({tr("Model"), tr("Device"), tr("Precision"), tr("Stage"),
                                         tr("n"), tr("min ms"), tr("p50 ms"), tr("p95 ms"),
                                         tr("max ms")});
    results_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    results_->verticalHeader()->hide();
    // Names are elided in the middle ("u2n…" said nothing); the table scrolls sideways instead.
    results_->setTextElideMode(Qt::ElideMiddle);
    results_->setHorizontalScrollMode(QAbstractItemView::ScrollPerPixel);
    models_->setTextElideMode(Qt::ElideMiddle);
    layout->addWidget(results_, 1);

    chart_ = new QChartView(new QChart, content);
    chart_->setObjectName("bench_chart");
    chart_->setRenderHint(QPainter::Antialiasing);
    chart_->setMinimumHeight(180);
    layout->addWidget(chart_, 1);
    chart_legend_ = new_chart_legend("bench_chart_legend", content);
    chart_legend_->hide();
    layout->addWidget(chart_legend_);

    setWidget(content);
}

void BenchmarkPanel::add_model(const QString& path) {
    if (path.isEmpty() || !models_->findItems(path, Qt::MatchExactly).isEmpty()) return;
    models_->addItem(path);
}

void BenchmarkPanel::set_running(bool running) {
    running_ = running;
    run_->setEnabled(!running);
    cancel_button_->setEnabled(running);
}

void BenchmarkPanel::start_run() {
    if (running_) return;
    engine::BenchmarkRequest request;
    for (int i = 0; i < models_->count(); ++i)
        request.models.push_back(models_->item(i)->text().toStdString());
    if (request.models.empty()) {
        status_->setText(tr("Add at least one model to benchmark."));
        emit finished(false);
        return;
    }
    // The combos hold exactly the parser's spellings, so these cannot fail.
    request.device = *runtime::parse_device(device_->currentText().toStdString());
    request.precision = *runtime::parse_precision(precision_->currentText().toStdString());
    request.images_dir = images_dir_->text().trimmed().toStdString();
    request.synthetic_width = width_->value();
    request.synthetic_height = height_->value();
    request.iterations = iterations_->value();
    request.warmup = warmup_->value();

    cancel_ = std::make_shared<std::atomic<bool>>(false);
    set_running(true);
    progress_->setRange(0, 1);
    progress_->setValue(0);
    status_->setText(tr("Running…"));

    // Progress is posted to the application object and the QPointer is checked on the GUI
    // thread: testing it on the worker and then posting to `this` would race with deletion.
    QPointer<BenchmarkPanel> guard(this);
    auto report_progress = [guard](int done, int total) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [guard, done, total] {
                if (guard) guard->on_progress(done, total);
            },
            Qt::QueuedConnection);
    };
    auto cancel = cancel_;
    auto future = engine_.run_task<engine::BenchmarkReport>(
        engine::Priority::Batch,
        [request, report_progress, cancel]() -> Result<engine::BenchmarkReport> {
            return engine::run_benchmark(request, report_progress, cancel.get());
        });
    engine::when_finished(this, future, [this, cancel](Result<engine::BenchmarkReport> result) {
        set_running(false);
        const bool cancelled = cancel->load();
        if (!result) {
            status_->setText(
                tr("Benchmark failed: %1").arg(QString::fromStdString(result.message())));
            emit finished(false);
            return;
        }
        history_.push_back(std::make_shared<const engine::BenchmarkReport>(std::move(*result)));
        const auto& request = history_.back()->request;
        const QString label = tr("#%1 %2 · %3 model(s) · %4 %5%6")
                                  .arg(history_.size())
                                  .arg(QTime::currentTime().toString("HH:mm:ss"))
                                  .arg(request.models.size())
                                  .arg(device_->currentText(), precision_->currentText(),
                                       cancelled ? tr(" · cancelled") : QString());
        history_box_->addItem(label);
        history_box_->setCurrentIndex(history_box_->count() - 1);  // shows it
        status_->setText(cancelled ? tr("Cancelled: partial results.") : tr("Done."));
        emit finished(true);
    });
}

void BenchmarkPanel::cancel_run() {
    if (cancel_) cancel_->store(true);
    status_->setText(tr("Cancelling…"));
}

void BenchmarkPanel::on_progress(int done, int total) {
    progress_->setRange(0, std::max(total, 1));
    progress_->setValue(done);
    emit progress_changed(done, total);
}

const engine::BenchmarkReport* BenchmarkPanel::shown_report() const {
    const int index = history_box_->currentIndex();
    return index >= 0 && index < int(history_.size()) ? history_[size_t(index)].get() : nullptr;
}

void BenchmarkPanel::show_report(int history_index) {
    if (history_index < 0 || history_index >= int(history_.size())) return;
    fill_table(*history_[size_t(history_index)]);
    fill_chart(*history_[size_t(history_index)]);
}

void BenchmarkPanel::fill_table(const engine::BenchmarkReport& report) {
    results_->setRowCount(0);
    for (const engine::ModelBenchmark& model : report.models) {
        for (const auto& [stage, summary] : model.stages) {
            const int row = results_->rowCount();
            results_->insertRow(row);
            const QStringList cells = {model_name(model),
                                       QString::fromStdString(model.device),
                                       QString::fromStdString(model.precision),
                                       display_name(stage),
                                       QString::number(summary.count),
                                       format_ms(summary.min_ms),
                                       format_ms(summary.p50_ms),
                                       format_ms(summary.p95_ms),
                                       format_ms(summary.max_ms)};
            for (int column = 0; column < cells.size(); ++column) {
                auto* item = new QTableWidgetItem(cells[column]);
                item->setToolTip(column == 0 ? QString::fromStdString(model.path) : cells[column]);
                if (column == 3)
                    item->setData(Qt::UserRole, QString::fromStdString(stage));  // the JSON's name
                results_->setItem(row, column, item);
            }
        }
    }
    results_->resizeColumnsToContents();
}

void BenchmarkPanel::fill_chart(const engine::BenchmarkReport& report) {
    QChart* chart = chart_->chart();
    chart->removeAllSeries();
    for (QAbstractAxis* axis : chart->axes()) {
        chart->removeAxis(axis);
        delete axis;
    }
    // Categories are the stages any model measured, so models line up stage by stage.
    QStringList stages;
    for (const auto& model : report.models)
        for (const auto& entry : model.stages)
            if (!stages.contains(QString::fromStdString(entry.first)))
                stages << QString::fromStdString(entry.first);
    if (stages.isEmpty()) return;

    auto* series = new QBarSeries;
    double max_ms = 0;
    const bool one_model = report.models.size() == 1;
    for (const auto& model : report.models) {
        // p95 beside p50 stands in for a whisker: the gap between the bars is the tail.
        const QString prefix = one_model ? QString() : model_name(model) + " ";
        auto* p50 = new QBarSet(prefix + "p50");
        auto* p95 = new QBarSet(prefix + "p95");
        for (const QString& stage : stages) {
            const auto found = model.stages.find(stage.toStdString());
            const bool has = found != model.stages.end();
            *p50 << (has ? found->second.p50_ms : 0.0);
            *p95 << (has ? found->second.p95_ms : 0.0);
            if (has) max_ms = std::max(max_ms, found->second.p95_ms);
        }
        series->append(p50);
        series->append(p95);
    }
    chart->addSeries(series);
    auto* x_axis = new QBarCategoryAxis;
    for (const QString& stage : stages) x_axis->append(display_name(stage.toStdString()));
    chart->addAxis(x_axis, Qt::AlignBottom);
    series->attachAxis(x_axis);
    auto* y_axis = new QValueAxis;
    y_axis->setTitleText(tr("ms"));
    y_axis->setRange(0, std::max(1.0, max_ms * 1.1));  // headroom over the tallest bar
    chart->addAxis(y_axis, Qt::AlignLeft);
    series->attachAxis(y_axis);
    show_chart_legend(chart_legend_, *chart);
    chart->setTitle(tr("Latency per stage (p50, p95)"));
}

QString BenchmarkPanel::export_json(const QString& path) const {
    const engine::BenchmarkReport* report = shown_report();
    if (!report) return tr("No benchmark results to export.");
    return write_atomically(path, QJsonDocument(report->to_json()).toJson(QJsonDocument::Indented));
}

QString BenchmarkPanel::export_csv(const QString& path) const {
    const engine::BenchmarkReport* report = shown_report();
    if (!report) return tr("No benchmark results to export.");
    return write_atomically(path, report->to_csv().toUtf8());
}

void BenchmarkPanel::export_with_dialog(bool json) {
    const QString path = QFileDialog::getSaveFileName(
        this, json ? tr("Export JSON") : tr("Export CSV"), json ? "bench.json" : "bench.csv",
        json ? tr("JSON (*.json)") : tr("CSV (*.csv)"));
    if (path.isEmpty()) return;
    const QString error = json ? export_json(path) : export_csv(path);
    status_->setText(error.isEmpty() ? tr("Exported %1").arg(path) : error);
}

}  // namespace ps::ui
