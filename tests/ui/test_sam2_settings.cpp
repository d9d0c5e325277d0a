// A SAM 2.1 checkpoint where the app takes a SAM model: Settings lists it as family sam2 and
// accepts it for the Segment Anything role (typed in, then OK), and the window's labels
// name it "SAM 2.1". The tiny golden checkpoint of tests/data/sam2.
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "app_settings.h"
#include "display_names.h"
#include "settings_dialog.h"
#include "test_data.h"

using namespace ps;
using ps::ui::AppSettings;
using ps::ui::SettingsDialog;

class TestSam2Settings : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);  // the user model folder is not the real one
        qunsetenv("PHOTOSYNTH_MODELS");
        QVERIFY(dir_.isValid());
    }

    void settings_take_sam2_for_clicks() {
        const QString models = dir_.filePath("models");
        QVERIFY(QDir().mkpath(models));
        const QString sam2 = models + "/sam2_tiny.pt";
        QVERIFY(QFile::copy(QString::fromStdString(test_data_path("sam2", "sam2_tiny.pt")), sam2));
        AppSettings settings(dir_.filePath("settings.ini"));
        QVERIFY(settings.set_sam_checkpoint(sam2));  // its folder is listed
        SettingsDialog dialog(settings);  // no scheduler: scanned before the constructor returns
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto* table = dialog.findChild<QTableWidget*>("checkpointTable");
        QVERIFY(table);
        int row = -1;
        for (int r = 0; r < table->rowCount(); ++r)
            if (table->item(r, SettingsDialog::ColumnName)->text() == "sam2_tiny.pt") row = r;
        QVERIFY(row >= 0);
        QCOMPARE(table->item(row, SettingsDialog::ColumnFamily)->text(), QString("sam2"));
        // Typed into the Segment Anything field and confirmed with OK: accepted and stored.
        auto* sam_path = dialog.findChild<QLineEdit*>("samPathEdit");
        QVERIFY(sam_path);
        sam_path->clear();
        QTest::keyClicks(sam_path, sam2);
        auto* buttons = dialog.findChild<QDialogButtonBox*>("buttonBox");
        QVERIFY(buttons);
        QTest::mouseClick(buttons->button(QDialogButtonBox::Ok), Qt::LeftButton);
        QVERIFY2(!dialog.isVisible(),
                 qPrintable(dialog.findChild<QLabel*>("errorLabel")->text()));  // accepted
        QCOMPARE(QFileInfo(AppSettings(dir_.filePath("settings.ini")).sam_checkpoint()),
                 QFileInfo(sam2));
    }

    void labels_name_sam2() {
        QCOMPARE(ui::model_display_name("sam2", "sam2.1_hiera_t"), QString("SAM 2.1"));
        // The status bar's name adds the published size, where there is one.
        QCOMPARE(ui::segmenter_display_name("sam2", "sam2.1_hiera_t"), QString("SAM 2.1 Hiera-T"));
        QCOMPARE(ui::segmenter_display_name("sam2", "sam2.1_hiera_s"), QString("SAM 2.1 Hiera-S"));
        QCOMPARE(ui::segmenter_display_name("sam2", "sam2.1_hiera_b+"),
                 QString("SAM 2.1 Hiera-B+"));
        QCOMPARE(ui::segmenter_display_name("sam2", "sam2.1_hiera_l"), QString("SAM 2.1 Hiera-L"));
        QCOMPARE(ui::segmenter_display_name("sam2", "sam2.1_hiera_custom"), QString("SAM 2.1"));
        QCOMPARE(ui::segmenter_display_name("sam", "vit_b"), QString("SAM ViT-B"));
        QCOMPARE(ui::segmenter_display_name("mobile_sam", "mobile_sam"), QString("MobileSAM"));
    }

  private:
    QTemporaryDir dir_;
};

QTEST_MAIN(TestSam2Settings)
#include "test_sam2_settings.moc"
