// AppSettings persistence and the settings dialog driven by real key and mouse events, offscreen.
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <map>

#include "app_settings.h"
#include "engine/engine.h"
#include "golden_dir.h"
#include "settings_dialog.h"

using ps::ui::AppSettings;
using ps::ui::SettingsDialog;

namespace {

const char* const kEngineVariables[] = {"PHOTOSYNTH_DEVICE",        "PHOTOSYNTH_PRECISION",
                                        "PHOTOSYNTH_MAX_WORKERS",   "PHOTOSYNTH_EMBED_CACHE_MB",
                                        "PHOTOSYNTH_DOWNSCALE_MAX", "PHOTOSYNTH_WARM_MODEL",
                                        "PHOTOSYNTH_MODELS"};

template <typename T>
T* child(QWidget& parent, const char* name) {
    T* widget = parent.findChild<T*>(name);
    if (widget == nullptr) qFatal("no widget named %s", name);
    return widget;
}

int row_of(const QTableWidget& table, const QString& file_name) {
    for (int row = 0; row < table.rowCount(); ++row) {
        if (table.item(row, SettingsDialog::ColumnName)->text() == file_name) return row;
    }
    return -1;
}

void click_row(QTableWidget& table, int row) {
    QTableWidgetItem* item = table.item(row, SettingsDialog::ColumnFamily);
    table.scrollToItem(item);
    QTest::mouseClick(table.viewport(), Qt::LeftButton, {}, table.visualItemRect(item).center());
}

void click_ok(SettingsDialog& dialog) {
    QTest::mouseClick(child<QDialogButtonBox>(dialog, "buttonBox")->button(QDialogButtonBox::Ok),
                      Qt::LeftButton);
}

// A user clicks the box itself; the widget's centre can lie beyond its label, where a click
// does nothing (QCheckBox::hitButton).
void click_check_box(QCheckBox* box) {
    QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(6, box->height() / 2));
}

// Replaces a spin box's text by typing, as a user would.
void type_into(QSpinBox* spin, const QString& text) {
    QTest::keyClick(spin, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(spin, text);
}

}  // namespace

class TestSettingsDialog : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir dir_;
    QString models_;  // a model folder with copies of golden checkpoints
    std::map<QByteArray, QByteArray> saved_environment_;

    QString ini() const { return dir_.filePath("settings.ini"); }

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // the user model folder is not the real one
        for (const char* name : kEngineVariables) {
            if (qEnvironmentVariableIsSet(name)) saved_environment_[name] = qgetenv(name);
            qunsetenv(name);
        }
        QVERIFY(dir_.isValid());
        models_ = dir_.filePath("models");
        QVERIFY(QDir().mkpath(models_));
        for (const char* name : {"sam_vit_tiny.pth", "u2netp.pth"}) {
            QVERIFY(QFile::copy(QString::fromStdString(golden_path(name)), models_ + "/" + name));
        }
        QFile text(models_ + "/x.pth");
        QVERIFY(text.open(QIODevice::WriteOnly));
        text.write("not a checkpoint");
    }

    void cleanupTestCase() {
        for (const auto& [name, value] : saved_environment_) qputenv(name.constData(), value);
    }

    void init() { QFile::remove(ini()); }

    void defaults_without_a_file() {
        AppSettings settings(ini());
        QCOMPARE(settings.device(), ps::runtime::Device::Auto);
        QCOMPARE(settings.precision(), ps::runtime::Precision::Fp32);
        QCOMPARE(settings.cache_budget_mb(), 0);
        QCOMPARE(settings.worker_count(), 0);
        QCOMPARE(settings.downscale_limit_px(), 4096);
        QVERIFY(!settings.warm_loading());
        QVERIFY(settings.hover_preview());
        QVERIFY(settings.recent_files().isEmpty());
        QVERIFY(settings.sam_checkpoint().isEmpty());
        QCOMPARE(settings.overlay_opacity(), 0.5);
    }

    void values_persist_across_instances() {
        const QString sam = models_ + "/sam_vit_tiny.pth";
        const QString u2 = models_ + "/u2netp.pth";
        {
            AppSettings settings(ini());
            QVERIFY(settings.set_sam_checkpoint(sam));
            QVERIFY(settings.set_background_checkpoint(u2));
            settings.set_device(ps::runtime::Device::Cuda);
            settings.set_precision(ps::runtime::Precision::Bf16);
            QVERIFY(settings.set_cache_budget_mb(512));
            QVERIFY(settings.set_worker_count(3));
            QVERIFY(settings.set_downscale_limit_px(0));
            settings.set_warm_loading(true);
            settings.set_hover_preview(false);
            QVERIFY(settings.set_overlay_color(QColor(200, 10, 20)));
            QVERIFY(settings.set_overlay_opacity(0.25));
        }
        AppSettings reread(ini());
        QCOMPARE(reread.sam_checkpoint(), sam);
        QCOMPARE(reread.background_checkpoint(), u2);
        QCOMPARE(reread.device(), ps::runtime::Device::Cuda);
        QCOMPARE(reread.precision(), ps::runtime::Precision::Bf16);
        QCOMPARE(reread.cache_budget_mb(), 512);
        QCOMPARE(reread.worker_count(), 3);
        QCOMPARE(reread.downscale_limit_px(), 0);
        QVERIFY(reread.warm_loading());
        QVERIFY(!reread.hover_preview());
        QCOMPARE(reread.overlay_color(), QColor(200, 10, 20));
        QCOMPARE(reread.overlay_opacity(), 0.25);
        // Readable by a person: the INI file names the values.
        QFile file(ini());
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY(text.contains("device=cuda"));
        QVERIFY(text.contains("color=#c80a14"));
    }

    void invalid_values_are_refused_and_not_stored() {
        AppSettings settings(ini());
        QVERIFY(settings.set_worker_count(4));
        const ps::Status workers = settings.set_worker_count(-1);
        QVERIFY(!workers);
        QVERIFY(QString::fromStdString(workers.message()).contains("worker count"));
        QCOMPARE(settings.worker_count(), 4);
        QVERIFY(!settings.set_worker_count(AppSettings::kMaxWorkers + 1));
        QVERIFY(!settings.set_cache_budget_mb(-5));
        QVERIFY(!settings.set_downscale_limit_px(-1));
        QVERIFY(!settings.set_overlay_opacity(1.5));
        QVERIFY(!settings.set_overlay_opacity(std::nan("")));
        QVERIFY(!settings.set_overlay_color(QColor()));
        const ps::Status missing = settings.set_sam_checkpoint(models_ + "/missing.pth");
        QVERIFY(!missing);
        QVERIFY(QString::fromStdString(missing.message()).contains("missing.pth"));
        QVERIFY(!settings.set_sam_checkpoint(models_));  // a folder is not a checkpoint
        QVERIFY(settings.sam_checkpoint().isEmpty());
        QVERIFY(settings.set_sam_checkpoint(QString()));  // clearing is allowed
    }

    void hand_edited_nonsense_reads_as_defaults() {
        QSettings raw(ini(), QSettings::IniFormat);
        raw.setValue("engine/device", "tpu");
        raw.setValue("engine/precision", "int3");
        raw.setValue("engine/worker_count", "many");
        raw.setValue("engine/downscale_limit_px", -20);
        raw.setValue("overlay/opacity", 7);
        AppSettings settings(&raw);
        QCOMPARE(settings.device(), ps::runtime::Device::Auto);
        QCOMPARE(settings.precision(), ps::runtime::Precision::Fp32);
        QCOMPARE(settings.worker_count(), 0);
        QCOMPARE(settings.downscale_limit_px(), 4096);
        QCOMPARE(settings.overlay_opacity(), 0.5);
    }

    void recent_files_are_ordered_unique_and_bounded() {
        AppSettings settings(ini());
        for (int i = 0; i < 12; ++i)
            settings.add_recent_file(dir_.filePath(QString("img%1.png").arg(i)));
        QStringList recent = settings.recent_files();
        QCOMPARE(recent.size(), AppSettings::kMaxRecentFiles);
        QCOMPARE(recent.first(), dir_.filePath("img11.png"));
        QCOMPARE(recent.last(), dir_.filePath("img2.png"));
        // Re-opening moves it to the front, once, even when spelled differently.
        settings.add_recent_file(dir_.path() + "/./sub/../img5.png");
        recent = settings.recent_files();
        QCOMPARE(recent.size(), AppSettings::kMaxRecentFiles);
        QCOMPARE(recent.first(), dir_.filePath("img5.png"));
        QCOMPARE(recent.count(dir_.filePath("img5.png")), 1);
        QCOMPARE(recent.at(1), dir_.filePath("img11.png"));
        settings.remove_recent_file(dir_.filePath("img11.png"));
        QCOMPARE(AppSettings(ini()).recent_files().size(), AppSettings::kMaxRecentFiles - 1);
        QCOMPARE(AppSettings(ini()).recent_files().at(1), dir_.filePath("img10.png"));
    }

    void engine_settings_map_the_stored_values() {
        AppSettings settings(ini());
        const auto automatic = settings.to_engine_settings();
        QCOMPARE(automatic.device, ps::runtime::Device::Auto);
        QCOMPARE(automatic.max_workers, ps::engine::EngineSettings::from_environment().max_workers);
        QCOMPARE(automatic.host_cache_bytes, ps::engine::EngineSettings::kAutomaticCache);
        QVERIFY(automatic.models.empty());

        QVERIFY(settings.set_sam_checkpoint(models_ + "/sam_vit_tiny.pth"));
        settings.set_device(ps::runtime::Device::Cuda);
        settings.set_precision(ps::runtime::Precision::Fp16);
        QVERIFY(settings.set_worker_count(3));
        QVERIFY(settings.set_cache_budget_mb(256));
        QVERIFY(settings.set_downscale_limit_px(2048));
        settings.set_warm_loading(true);
        const auto mapped = settings.to_engine_settings();
        QCOMPARE(mapped.device, ps::runtime::Device::Cuda);
        QCOMPARE(mapped.precision, ps::runtime::Precision::Fp16);
        QCOMPARE(mapped.max_workers, 3);
        QCOMPARE(mapped.host_cache_bytes, 256LL * 1024 * 1024);
        QCOMPARE(mapped.downscale_max, 2048);
        QVERIFY(mapped.warm_models);
        QCOMPARE(mapped.models.size(), size_t(1));
        QCOMPARE(QString::fromStdString(mapped.models[0]), models_ + "/sam_vit_tiny.pth");
    }

    void the_environment_overrides_stored_values() {
        AppSettings settings(ini());
        settings.set_device(ps::runtime::Device::Cuda);
        QVERIFY(settings.set_worker_count(3));
        qputenv("PHOTOSYNTH_DEVICE", "cpu");
        qputenv("PHOTOSYNTH_MAX_WORKERS", "5");
        const auto mapped = settings.to_engine_settings();
        const QStringList overrides = AppSettings::overriding_environment();
        qunsetenv("PHOTOSYNTH_DEVICE");
        qunsetenv("PHOTOSYNTH_MAX_WORKERS");
        QCOMPARE(mapped.device, ps::runtime::Device::Cpu);
        QCOMPARE(mapped.max_workers, 5);
        QCOMPARE(overrides, QStringList({"PHOTOSYNTH_DEVICE=cpu", "PHOTOSYNTH_MAX_WORKERS=5"}));
    }

    void dialog_lists_the_configured_folder() {
        AppSettings settings(ini());
        QVERIFY(settings.set_sam_checkpoint(models_ + "/sam_vit_tiny.pth"));
        SettingsDialog dialog(settings);  // no scheduler: scanned before the constructor returns
        auto* table = child<QTableWidget>(dialog, "checkpointTable");
        const int sam = row_of(*table, "sam_vit_tiny.pth");
        const int u2 = row_of(*table, "u2netp.pth");
        const int text = row_of(*table, "x.pth");
        QVERIFY(sam >= 0 && u2 >= 0 && text >= 0);
        QCOMPARE(table->item(sam, SettingsDialog::ColumnFamily)->text(), QString("sam"));
        QCOMPARE(table->item(sam, SettingsDialog::ColumnArch)->text(), QString("vit_custom"));
        QCOMPARE(table->item(u2, SettingsDialog::ColumnFamily)->text(), QString("u2net"));
        QCOMPARE(table->item(text, SettingsDialog::ColumnFamily)->text(), QString("unknown"));
        QVERIFY(
            table->item(text, SettingsDialog::ColumnDetails)->text().contains("unknown format"));
        QCOMPARE(table->item(sam, SettingsDialog::ColumnSize)->text(),
                 QLocale().toString(2.3, 'f', 1));
        QVERIFY(!child<QLabel>(dialog, "environmentNote")->isVisibleTo(&dialog));
    }

    void ok_stores_what_was_edited() {
        AppSettings settings(ini());
        QVERIFY(settings.set_sam_checkpoint(models_ + "/sam_vit_tiny.pth"));
        SettingsDialog dialog(settings);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));

        auto* device = child<QComboBox>(dialog, "deviceCombo");
        QTest::keyClick(device, Qt::Key_Down);  // auto → cpu
        QTest::keyClick(device, Qt::Key_Down);  // cpu → cuda
        QCOMPARE(device->currentData().toString(), QString("cuda"));
        auto* precision = child<QComboBox>(dialog, "precisionCombo");
        precision->setCurrentIndex(precision->findData("bf16"));
        type_into(child<QSpinBox>(dialog, "workersSpin"), "3");
        type_into(child<QSpinBox>(dialog, "cacheSpin"), "768");
        type_into(child<QSpinBox>(dialog, "downscaleSpin"), "2048");
        click_check_box(child<QCheckBox>(dialog, "warmLoadingCheck"));
        click_check_box(child<QCheckBox>(dialog, "hoverPreviewCheck"));

        auto* table = child<QTableWidget>(dialog, "checkpointTable");
        auto* background = child<QLineEdit>(dialog, "backgroundPathEdit");
        auto* error = child<QLabel>(dialog, "errorLabel");
        const int text_row = row_of(*table, "x.pth");
        const int u2_row = row_of(*table, "u2netp.pth");
        QVERIFY(text_row >= 0 && u2_row >= 0);
        // An unusable file says why and assigns nothing.
        click_row(*table, text_row);
        QVERIFY(error->isVisible());
        QVERIFY(error->text().contains("x.pth: unknown format"));
        QVERIFY(background->text().isEmpty());
        // A U²-Net row goes to background removal, not to SAM.
        click_row(*table, u2_row);
        QCOMPARE(background->text(), QFileInfo(models_ + "/u2netp.pth").canonicalFilePath());
        QCOMPARE(child<QLineEdit>(dialog, "samPathEdit")->text(), models_ + "/sam_vit_tiny.pth");
        QVERIFY(!error->isVisible());
        // Nothing is written before OK.
        QCOMPARE(AppSettings(ini()).device(), ps::runtime::Device::Auto);

        click_ok(dialog);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        AppSettings reread(ini());
        QCOMPARE(reread.device(), ps::runtime::Device::Cuda);
        QCOMPARE(reread.precision(), ps::runtime::Precision::Bf16);
        QCOMPARE(reread.worker_count(), 3);
        QCOMPARE(reread.cache_budget_mb(), 768);
        QCOMPARE(reread.downscale_limit_px(), 2048);
        QVERIFY(reread.warm_loading());
        QVERIFY(!reread.hover_preview());
        QCOMPARE(reread.background_checkpoint(),
                 QFileInfo(models_ + "/u2netp.pth").canonicalFilePath());
        QCOMPARE(reread.to_engine_settings().device, ps::runtime::Device::Cuda);
    }

    void cancel_discards_the_edits() {
        AppSettings settings(ini());
        QVERIFY(settings.set_worker_count(2));
        QVERIFY(settings.set_background_checkpoint(models_ + "/u2netp.pth"));  // folder scanned
        SettingsDialog dialog(settings);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto* workers = child<QSpinBox>(dialog, "workersSpin");
        QCOMPARE(workers->value(), 2);
        type_into(workers, "9");
        QCOMPARE(workers->value(), 9);
        auto* table = child<QTableWidget>(dialog, "checkpointTable");
        const int sam_row = row_of(*table, "sam_vit_tiny.pth");
        QVERIFY(sam_row >= 0);
        click_row(*table, sam_row);
        QVERIFY(!child<QLineEdit>(dialog, "samPathEdit")->text().isEmpty());
        QTest::mouseClick(
            child<QDialogButtonBox>(dialog, "buttonBox")->button(QDialogButtonBox::Cancel),
            Qt::LeftButton);
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        AppSettings reread(ini());
        QCOMPARE(reread.worker_count(), 2);
        QVERIFY(reread.sam_checkpoint().isEmpty());
    }

    void ok_refuses_a_wrong_model_for_the_role() {
        AppSettings settings(ini());
        QVERIFY(settings.set_sam_checkpoint(models_ + "/sam_vit_tiny.pth"));
        SettingsDialog dialog(settings);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto* sam = child<QLineEdit>(dialog, "samPathEdit");
        sam->clear();
        QTest::keyClicks(sam, models_ + "/u2netp.pth");
        type_into(child<QSpinBox>(dialog, "workersSpin"), "7");
        click_ok(dialog);
        QVERIFY(dialog.isVisible());  // still open, saying why
        QVERIFY(child<QLabel>(dialog, "errorLabel")->text().contains("not a Segment Anything"));
        QCOMPARE(AppSettings(ini()).worker_count(), 0);  // nothing half-written
        // A path that does not exist is refused too.
        sam->clear();
        QTest::keyClicks(sam, models_ + "/gone.pth");
        click_ok(dialog);
        QVERIFY(dialog.isVisible());
        QVERIFY(child<QLabel>(dialog, "errorLabel")->text().contains("gone.pth: no such file"));
    }

    void scan_runs_on_the_engine_pool() {
        AppSettings settings(ini());
        QVERIFY(settings.set_background_checkpoint(models_ + "/u2netp.pth"));
        ps::engine::EngineSettings engine_settings;
        engine_settings.max_workers = 1;
        ps::engine::Engine engine(engine_settings);
        SettingsDialog dialog(settings, nullptr, &engine);
        QSignalSpy finished(&dialog, &SettingsDialog::discovery_finished);
        QVERIFY(dialog.scanning());  // the result is delivered through the event loop
        QVERIFY(finished.wait(10000));
        QVERIFY(!dialog.scanning());
        auto* table = child<QTableWidget>(dialog, "checkpointTable");
        QVERIFY(row_of(*table, "sam_vit_tiny.pth") >= 0);
        QCOMPARE(static_cast<size_t>(table->rowCount()), dialog.checkpoints().size());
    }
};

QTEST_MAIN(TestSettingsDialog)
#include "test_settings_dialog.moc"
