// SAM 2.1 in Models ▸ Download Official Weights…, driven as a user does it on the real window:
// the menu opened, the dialog's SAM 2.1 rows read (name, family, where from, checksum) and the
// Hiera-T row clicked. Meta's server cannot be reached from a test, so the download's end is the
// dialog's own signal, with the file a download leaves (the tiny golden checkpoint of
// tests/data/sam2 under the manifest's name) in the user models folder: the window takes it as
// its segmentation model, and the status bar names it "SAM 2.1", not its arch identifier.
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>

#include <algorithm>
#include <memory>

#include "app_settings.h"
#include "download_dialog.h"
#include "engine/checkpoint_discovery.h"
#include "test_data.h"
#include "window_driver.h"

using namespace ps;
using namespace window_driver;

namespace {

constexpr int kName = 0, kFamily = 1;  // DownloadDialog's columns

}  // namespace

class TestSam2Download : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        // The user models folder, and whatever else the window keeps, in this test's own folder
        // (not Qt's test mode: its ~/.qttest is shared with other tests running at the time).
        for (const char* variable : {"XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"})
            qputenv(variable, QFile::encodeName(tmp_.filePath(variable)));
        qunsetenv("PHOTOSYNTH_MODELS");
        QVERIFY(engine::user_model_folder().startsWith(tmp_.path()));
    }

    void download_dialog_offers_sam2_1_and_the_window_takes_it() {
        ui::AppSettings settings(tmp_.filePath("settings.ini"));
        engine::Engine engine(cpu_settings());
        ui::MainWindow window(engine, &settings);
        QVERIFY(activate(window));
        auto* engine_label = window.findChild<QLabel*>("engine_label");
        QVERIFY(engine_label);
        QVERIFY2(engine_label->text().contains("GrabCut"), qPrintable(engine_label->text()));

        const QString downloaded = engine::user_model_folder() + "/sam2.1_hiera_tiny.pt";
        QStringList names, families, problems;
        bool closed = false;
        QSignalSpy ready(&window, &ui::MainWindow::model_ready);
        when_modal<ui::DownloadDialog>([&](ui::DownloadDialog* dialog) {
            QTimer::singleShot(30000, dialog, &QDialog::reject);  // never hang in exec()
            auto* table = dialog->findChild<QTableWidget*>();
            auto* close = dialog->findChild<QDialogButtonBox*>();
            if (!table || !close) return static_cast<QDialog*>(dialog)->reject();
            int tiny_row = -1;
            for (int row = 0; row < table->rowCount(); ++row) {
                const QString name = table->item(row, kName)->text();
                if (!name.startsWith("SAM 2.1")) continue;
                names << name;
                families << table->item(row, kFamily)->text();
                // The tooltip says where the file comes from and that no checksum is published.
                const QString tip = table->item(row, kName)->toolTip();
                if (!tip.startsWith("https://dl.fbaipublicfiles.com/segment_anything_2/092824/"
                                    "sam2.1_hiera_") ||
                    !tip.contains("no checksum published"))
                    problems << tip;
                if (name == "SAM 2.1 Hiera-T (tiny)") tiny_row = row;
            }
            if (tiny_row >= 0) {
                QTableWidgetItem* item = table->item(tiny_row, kName);
                QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                                  table->visualItemRect(item).center());
                if (table->currentRow() != tiny_row) problems << "the click chose another row";
                // The file the download leaves, then the dialog's word that it is saved.
                QDir().mkpath(QFileInfo(downloaded).path());
                if (!QFile::copy(QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt")),
                                 downloaded))
                    problems << "cannot write " + downloaded;
                emit dialog->downloaded(downloaded);
            }
            QTest::mouseClick(close->button(QDialogButtonBox::Close), Qt::LeftButton);
            closed = !dialog->isVisible();
        });
        QAction* download = action_named(window, "Download Official Weights…");
        QVERIFY(download);
        download->trigger();  // returns once the dialog is closed
        QVERIFY(closed);
        QCOMPARE(names, (QStringList{"SAM 2.1 Hiera-T (tiny)", "SAM 2.1 Hiera-S (small)",
                                     "SAM 2.1 Hiera-B+ (base plus)", "SAM 2.1 Hiera-L (large)"}));
        QCOMPARE(families, QStringList(4, "sam2"));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join('\n')));

        // No model was configured, so the downloaded SAM 2.1 becomes the one clicks use.
        QVERIFY(ready.count() > 0 || ready.wait(60000));
        QVERIFY(wait_idle(window));
        QCOMPARE(QFileInfo(settings.sam_checkpoint()), QFileInfo(downloaded));
        const std::vector<engine::ModelInfo> models = engine.models();
        const auto model = std::find_if(models.begin(), models.end(),
                                        [&](const auto& m) { return m.id == window.model_id(); });
        QVERIFY(model != models.end());
        QCOMPARE(QString::fromStdString(model->family), QString("sam2"));
        // The tiny golden's layout is no published size, so the name stands alone.
        QCOMPARE(engine_label->text(), QString("SAM 2.1 · cpu fp32"));
        QCOMPARE(ready.first().first().toString(), engine_label->text());
    }

    // A background-removal model downloaded first stays out of the clicks: the window keeps
    // GrabCut and no SAM checkpoint is set (it became the click model before, and clicks failed).
    void a_downloaded_matting_model_is_no_click_model() {
        QTemporaryDir own;
        QVERIFY(own.isValid());
        QFile::remove(engine::user_model_folder() + "/sam2.1_hiera_tiny.pt");  // the first test's
        ui::AppSettings settings(own.filePath("settings.ini"));
        engine::Engine engine(cpu_settings());
        ui::MainWindow window(engine, &settings);
        QVERIFY(activate(window));
        const QString downloaded = engine::user_model_folder() + "/isnet-general-use.pth";
        bool closed = false;
        when_modal<ui::DownloadDialog>([&](ui::DownloadDialog* dialog) {
            QTimer::singleShot(30000, dialog, &QDialog::reject);  // never hang in exec()
            auto* close = dialog->findChild<QDialogButtonBox*>();
            if (!close) return static_cast<QDialog*>(dialog)->reject();
            QDir().mkpath(QFileInfo(downloaded).path());
            QFile::remove(downloaded);
            if (QFile::copy(QString::fromStdString(test_data_path("isnet", "isnet_tiny.pth")),
                            downloaded))
                emit dialog->downloaded(downloaded);
            QTest::mouseClick(close->button(QDialogButtonBox::Close), Qt::LeftButton);
            closed = !dialog->isVisible();
        });
        QAction* download = action_named(window, "Download Official Weights…");
        QVERIFY(download);
        download->trigger();
        QVERIFY(closed);
        QVERIFY(QFileInfo::exists(downloaded));
        QVERIFY(wait_idle(window));
        QVERIFY2(settings.sam_checkpoint().isEmpty(), qPrintable(settings.sam_checkpoint()));
        QVERIFY(window.model_id().empty());
        auto* engine_label = window.findChild<QLabel*>("engine_label");
        QVERIFY(engine_label);
        QVERIFY2(engine_label->text().contains("GrabCut"), qPrintable(engine_label->text()));
    }

  private:
    QTemporaryDir tmp_;
};

QTEST_MAIN(TestSam2Download)
#include "test_sam2_download.moc"
