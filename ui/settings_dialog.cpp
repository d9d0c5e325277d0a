// SettingsDialog: widgets over AppSettings; nothing is written until OK.
#include "settings_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

#include "app_settings.h"
#include "engine/engine.h"

namespace ps::ui {
namespace {

using engine::DiscoveredCheckpoint;
using Checkpoints = std::vector<DiscoveredCheckpoint>;

// SAM, MobileSAM and SAM 2: the families that answer clicks (the engine's own rule).
bool is_sam_family(const QString& family) {
    return engine::is_promptable_family(family.toStdString());
}

// The folders plus files picked with Browse… that live elsewhere or have another extension.
Checkpoints scan(const std::vector<QString>& folders, const QStringList& files) {
    Checkpoints found = engine::discover_checkpoints(folders);
    for (const QString& file : files) {
        const QString canonical = QFileInfo(file).canonicalFilePath();
        const bool listed = std::any_of(found.begin(), found.end(),
                                        [&](const auto& c) { return c.path == canonical; });
        if (!listed) found.push_back(engine::inspect_checkpoint(file));
    }
    return found;
}

QSpinBox* make_spin(const char* name, int max, const QString& zero_text, const QString& suffix) {
    auto* spin = new QSpinBox;
    spin->setObjectName(name);
    spin->setRange(0, max);
    spin->setSpecialValueText(zero_text);  // shown instead of 0
    spin->setSuffix(suffix);
    return spin;
}

}  // namespace

SettingsDialog::SettingsDialog(AppSettings& settings, QWidget* parent, engine::Engine* engine)
    : QDialog(parent), settings_(settings), engine_(engine) {
    setObjectName("settingsDialog");
    setWindowTitle(tr("Settings"));
    auto* layout = new QVBoxLayout(this);

    // An override the user cannot see would make the dialog look broken ("I chose CUDA").
    const QStringList overrides = AppSettings::overriding_environment();
    auto* environment_note =
        new QLabel(tr("Set in the environment, overriding these settings while it is: %1")
                       .arg(overrides.join(", ")));
    environment_note->setObjectName("environmentNote");
    environment_note->setWordWrap(true);
    environment_note->setVisible(!overrides.isEmpty());
    layout->addWidget(environment_note);

    layout->addWidget(build_engine_group());
    layout->addWidget(build_models_group(), 1);

    error_ = new QLabel;
    error_->setObjectName("errorLabel");
    error_->setWordWrap(true);
    error_->setStyleSheet("color: #c0392b");
    error_->hide();
    layout->addWidget(error_);

    buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons_->setObjectName("buttonBox");
    buttons_->button(QDialogButtonBox::Ok)->setObjectName("okButton");
    buttons_->button(QDialogButtonBox::Cancel)->setObjectName("cancelButton");
    connect(buttons_, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(buttons_, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    layout->addWidget(buttons_);

    load_from_settings();
    resize(760, 560);
    rescan();
}

QWidget* SettingsDialog::build_engine_group() {
    auto* group = new QGroupBox(tr("Engine"));
    group->setObjectName("engineGroup");
    auto* form = new QFormLayout(group);

    device_ = new QComboBox;
    device_->setObjectName("deviceCombo");
    device_->addItem(tr("Automatic (CUDA when available)"), "auto");
    device_->addItem(tr("CPU"), "cpu");
    // Still selectable without a GPU (the settings may be shared with another machine), but
    // say so: the engine will fall back to the CPU and report why.
    device_->addItem(runtime::cuda_available() ? tr("CUDA") : tr("CUDA (no GPU found here)"),
                     "cuda");
    form->addRow(tr("&Device:"), device_);

    precision_ = new QComboBox;
    precision_->setObjectName("precisionCombo");
    precision_->addItem(tr("FP32 (reference)"), "fp32");
    precision_->addItem(tr("FP16"), "fp16");
    precision_->addItem(tr("BF16"), "bf16");
    form->addRow(tr("&Precision:"), precision_);

    cache_mb_ = make_spin("cacheSpin", AppSettings::kMaxCacheMb, tr("Automatic"), tr(" MB"));
    cache_mb_->setSingleStep(256);
    form->addRow(tr("Embedding &cache:"), cache_mb_);

    workers_ = make_spin("workersSpin", AppSettings::kMaxWorkers, tr("Automatic"), QString());
    form->addRow(tr("&Worker threads:"), workers_);

    downscale_px_ = make_spin("downscaleSpin", AppSettings::kMaxDownscalePx, tr("Off"), tr(" px"));
    downscale_px_->setSingleStep(256);
    downscale_px_->setToolTip(
        tr("Long side of the working copy used for clicks; exports keep "
           "the full resolution"));
    form->addRow(tr("Down&scale large images to:"), downscale_px_);

    warm_loading_ = new QCheckBox(tr("Load the SAM model at start"));
    warm_loading_->setObjectName("warmLoadingCheck");
    form->addRow(QString(), warm_loading_);

    hover_preview_ = new QCheckBox(tr("Preview the mask under the cursor"));
    hover_preview_->setObjectName("hoverPreviewCheck");
    form->addRow(QString(), hover_preview_);
    return group;
}

QWidget* SettingsDialog::build_models_group() {
    auto* group = new QGroupBox(tr("Models"));
    group->setObjectName("modelsGroup");
    auto* layout = new QVBoxLayout(group);

    auto* paths = new QFormLayout;
    sam_path_ = new QLineEdit;
    sam_path_->setObjectName("samPathEdit");
    sam_path_->setClearButtonEnabled(true);
    paths->addRow(tr("&Segment Anything:"), sam_path_);
    background_path_ = new QLineEdit;
    background_path_->setObjectName("backgroundPathEdit");
    background_path_->setClearButtonEnabled(true);
    paths->addRow(tr("&Background removal:"), background_path_);
    layout->addLayout(paths);

    table_ = new QTableWidget(0, ColumnCount);
    table_->setObjectName("checkpointTable");
    table_->setHorizontalHeaderLabels(
        {tr("File"), tr("Family"), tr("Architecture"), tr("Size (MB)"), tr("Parameters")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
        const QList<QTableWidgetItem*> selected = table_->selectedItems();
        if (!selected.isEmpty()) use_row(selected.first()->row());
    });
    layout->addWidget(table_, 1);

    auto* row = new QHBoxLayout;
    scan_status_ = new QLabel;
    scan_status_->setObjectName("scanStatusLabel");
    scan_status_->setWordWrap(true);
    row->addWidget(scan_status_, 1);
    auto* rescan_button = new QPushButton(tr("&Rescan"));
    rescan_button->setObjectName("rescanButton");
    connect(rescan_button, &QPushButton::clicked, this, &SettingsDialog::rescan);
    row->addWidget(rescan_button);
    auto* browse_button = new QPushButton(tr("B&rowse…"));
    browse_button->setObjectName("browseButton");
    connect(browse_button, &QPushButton::clicked, this, &SettingsDialog::browse);
    row->addWidget(browse_button);
    layout->addLayout(row);
    return group;
}

void SettingsDialog::load_from_settings() {
    device_->setCurrentIndex(device_->findData(device_name(settings_.device())));
    precision_->setCurrentIndex(
        precision_->findData(QString::fromStdString(runtime::to_string(settings_.precision()))));
    cache_mb_->setValue(settings_.cache_budget_mb());
    workers_->setValue(settings_.worker_count());
    downscale_px_->setValue(settings_.downscale_limit_px());
    warm_loading_->setChecked(settings_.warm_loading());
    hover_preview_->setChecked(settings_.hover_preview());
    sam_path_->setText(settings_.sam_checkpoint());
    background_path_->setText(settings_.background_checkpoint());
}

std::vector<QString> SettingsDialog::scanned_folders() const {
    std::vector<QString> folders = engine::default_model_folders();
    for (const QString& path : {settings_.sam_checkpoint(), settings_.background_checkpoint()}) {
        if (!path.isEmpty()) folders.push_back(QFileInfo(path).absolutePath());
    }
    return folders;  // discover_checkpoints skips duplicates and missing folders
}

void SettingsDialog::rescan() {
    const std::vector<QString> folders = scanned_folders();
    const QStringList files = browsed_files_;
    const unsigned generation = ++scan_generation_;
    scanning_ = true;
    scan_status_->setText(tr("Looking for checkpoints…"));
    if (engine_ == nullptr) {
        show_checkpoints(scan(folders, files));
        return;
    }
    using Scan = Result<Checkpoints>;
    // EncodeVisible: the user is looking at the table; a click on the canvas still goes first.
    QFuture<Scan> future =
        engine_->run_task<Checkpoints>(engine::Priority::EncodeVisible,
                                       [folders, files]() -> Scan { return scan(folders, files); });
    auto* watcher = new QFutureWatcher<Scan>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation != scan_generation_) return;  // a newer scan is under way
        Scan result = watcher->future().result();
        if (result) {
            show_checkpoints(std::move(result).value());
        } else {
            scanning_ = false;
            accept_after_scan_ = false;
            scan_status_->setText(QString::fromStdString(result.message()));
            emit discovery_finished();
        }
    });
    watcher->setFuture(future);
}

void SettingsDialog::show_checkpoints(Checkpoints found) {
    scanning_ = false;
    checkpoints_ = std::move(found);
    const QLocale locale;
    {
        // Refilling must not count as the user choosing a row.
        const QSignalBlocker blocker(table_);
        table_->clearContents();
        table_->setRowCount(static_cast<int>(checkpoints_.size()));
        for (int row = 0; row < table_->rowCount(); ++row) {
            const DiscoveredCheckpoint& c = checkpoints_[row];
            const QString details =
                c.usable() ? locale.toString(static_cast<qlonglong>(c.parameter_count)) : c.error;
            const QString cells[ColumnCount] = {
                QFileInfo(c.path).fileName(), c.family, c.arch,
                locale.toString(c.size_bytes / (1024.0 * 1024.0), 'f', 1), details};
            for (int column = 0; column < ColumnCount; ++column) {
                auto* item = new QTableWidgetItem(cells[column]);
                item->setToolTip(c.path + "\n" + (c.usable() ? c.description : c.error));
                if (column == ColumnSize) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                table_->setItem(row, column, item);
            }
        }
    }
    table_->resizeColumnsToContents();
    QStringList folders;
    for (const QString& folder : scanned_folders()) folders << QDir::toNativeSeparators(folder);
    scan_status_->setText(tr("%n checkpoint(s) found", nullptr, table_->rowCount()));
    scan_status_->setToolTip(
        tr("Searched (and one level of subfolders):\n%1").arg(folders.join("\n")));

    if (accept_after_scan_) {
        QTimer::singleShot(0, this, &SettingsDialog::accept);
    } else if (!select_after_scan_.isEmpty()) {
        const QString wanted = select_after_scan_;
        select_after_scan_.clear();
        for (int row = 0; row < table_->rowCount(); ++row) {
            if (checkpoints_[row].path == wanted) table_->selectRow(row);  // → use_row
        }
    }
    emit discovery_finished();
}

void SettingsDialog::use_row(int row) {
    if (row < 0 || row >= static_cast<int>(checkpoints_.size())) return;
    const DiscoveredCheckpoint& c = checkpoints_[row];
    if (is_sam_family(c.family)) {
        sam_path_->setText(c.path);
    } else if (engine::is_matting_family(c.family.toStdString())) {
        background_path_->setText(c.path);
    } else {
        show_error(c.error.isEmpty() ? tr("%1 is not a model Photosynth can use").arg(c.path)
                                     : c.error);
        return;
    }
    error_->hide();
}

void SettingsDialog::browse() {
    const QString current =
        sam_path_->text().isEmpty() ? background_path_->text() : sam_path_->text();
    const QString start =
        current.isEmpty() ? engine::user_model_folder() : QFileInfo(current).absolutePath();
    const QString file =
        QFileDialog::getOpenFileName(this, tr("Choose a checkpoint"), start,
                                     tr("Checkpoints (*.pth *.pt *.safetensors);;All files (*)"));
    if (file.isEmpty()) return;
    // The scan classifies the file off the GUI thread, then selecting its row assigns the role.
    select_after_scan_ = QFileInfo(file).canonicalFilePath();
    if (!browsed_files_.contains(file)) browsed_files_ << file;
    rescan();
}

void SettingsDialog::show_error(const QString& message) {
    error_->setText(message);
    error_->show();
}

void SettingsDialog::accept() {
    const QString sam_path = sam_path_->text().trimmed();
    const QString background_path = background_path_->text().trimmed();
    // Refuse before writing anything, so that OK either stores every value or none.
    for (const QString& path : {sam_path, background_path}) {
        if (Status valid = AppSettings::check_checkpoint_path(path); !valid) {
            show_error(QString::fromStdString(valid.message()));
            return;
        }
    }
    // A typed path the scan knows to be the wrong kind of model is caught here, not at load.
    const QString canonical_sam = QFileInfo(sam_path).canonicalFilePath();
    const QString canonical_background = QFileInfo(background_path).canonicalFilePath();
    // A typed path the scan has not seen (outside the model folders) is inspected first, off the
    // GUI thread; OK is pressed again for the user when the scan has listed it.
    const auto known = [this](const QString& canonical) {
        return canonical.isEmpty() ||
               std::any_of(checkpoints_.begin(), checkpoints_.end(),
                           [&](const DiscoveredCheckpoint& c) { return c.path == canonical; });
    };
    QStringList unseen;
    for (const QString& path : {sam_path, background_path}) {
        if (!known(QFileInfo(path).canonicalFilePath())) unseen << path;
    }
    if (!unseen.isEmpty()) {
        if (accept_after_scan_) {
            show_error(tr("%1 could not be inspected").arg(unseen.join(", ")));
            accept_after_scan_ = false;
            return;
        }
        // Every unseen path in one scan, so OK is pressed again only once.
        for (const QString& path : unseen) {
            if (!browsed_files_.contains(path)) browsed_files_ << path;
        }
        accept_after_scan_ = true;
        show_error(tr("Checking %1…").arg(unseen.join(", ")));
        rescan();
        return;
    }
    accept_after_scan_ = false;
    for (const DiscoveredCheckpoint& c : checkpoints_) {
        if (!sam_path.isEmpty() && c.path == canonical_sam && !is_sam_family(c.family)) {
            show_error(tr("%1 is not a Segment Anything checkpoint (%2)")
                           .arg(QFileInfo(c.path).fileName(), c.usable() ? c.family : c.error));
            return;
        }
        if (!background_path.isEmpty() && c.path == canonical_background &&
            !engine::is_matting_family(c.family.toStdString())) {
            show_error(tr("%1 is not a background-removal checkpoint (%2)")
                           .arg(QFileInfo(c.path).fileName(), c.usable() ? c.family : c.error));
            return;
        }
    }

    // The widgets' ranges are the setters' ranges, so these cannot fail after the checks above.
    settings_.set_sam_checkpoint(sam_path);
    settings_.set_background_checkpoint(background_path);
    settings_.set_device(*runtime::parse_device(device_->currentData().toString().toStdString()));
    settings_.set_precision(
        *runtime::parse_precision(precision_->currentData().toString().toStdString()));
    settings_.set_cache_budget_mb(cache_mb_->value());
    settings_.set_worker_count(workers_->value());
    settings_.set_downscale_limit_px(downscale_px_->value());
    settings_.set_warm_loading(warm_loading_->isChecked());
    settings_.set_hover_preview(hover_preview_->isChecked());
    settings_.sync();
    QDialog::accept();
}

}  // namespace ps::ui
