// Download Official Weights driven as a user does it: a manifest whose one entry is served by a
// local HTTP server, the row chosen, Download clicked; the checksum the publisher gives (here an
// md5, as transparent-background publishes for InSPyReNet) decides whether the file is kept.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QNetworkProxy>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "download_dialog.h"
#include "local_http_server.h"

using namespace ps;

namespace {

QByteArray weights_bytes() {
    QByteArray bytes(300 * 1024, Qt::Uninitialized);
    QRandomGenerator generator(20261206);
    generator.fillRange(reinterpret_cast<quint32*>(bytes.data()), bytes.size() / 4);
    return bytes;
}

// A manifest of one entry, "inspyrenet_test.pth" at `url`, checked by md5 only.
QString write_manifest(const QTemporaryDir& dir, const QUrl& url, const QString& md5) {
    QJsonObject entry{{"name", "InSPyReNet (test)"},  {"family", "inspyrenet"},
                      {"arch", "inspyrenet_swinb"},   {"file", "inspyrenet_test.pth"},
                      {"url", url.toString()},        {"size_bytes", QJsonValue()},
                      {"sha256", QJsonValue()},       {"md5", md5},
                      {"notes", "served by the test"}};
    const QJsonObject manifest{{"schema_version", 1}, {"models", QJsonArray{entry}}};
    const QString path = dir.filePath("manifest.json");
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return {};
    file.write(QJsonDocument(manifest).toJson());
    return path;
}

}  // namespace

class TestDownloadDialog : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase() {
        // A proxy from the environment must not stand between the client and 127.0.0.1.
        QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
    }

    void md5_decides_what_is_kept_data() {
        QTest::addColumn<bool>("right_md5");
        QTest::newRow("md5 matches") << true;
        QTest::newRow("md5 differs") << false;
    }
    void md5_decides_what_is_kept() {
        QFETCH(bool, right_md5);
        const QByteArray bytes = weights_bytes();
        LocalHttpServer server(bytes);
        const QString md5 =
            right_md5 ? QString::fromLatin1(
                            QCryptographicHash::hash(bytes, QCryptographicHash::Md5).toHex())
                      : QString(32, '0');
        QTemporaryDir dir, models;
        const QString manifest = write_manifest(dir, server.url("/file"), md5);
        QVERIFY(!manifest.isEmpty());

        ui::DownloadDialog dialog(manifest, models.path());
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QCOMPARE(dialog.entry_count(), 1);
        auto* table = dialog.findChild<QTableWidget*>();
        QVERIFY(table);
        // The tooltip tells what the file will be checked against.
        QVERIFY2(table->item(0, 0)->toolTip().contains("md5 " + md5),
                 qPrintable(table->item(0, 0)->toolTip()));
        QPushButton* download = nullptr;
        for (auto* button : dialog.findChildren<QPushButton*>())
            if (button->text() == "Download") download = button;
        QVERIFY(download && download->isEnabled());
        QSignalSpy saved(&dialog, &ui::DownloadDialog::downloaded);
        QTest::mouseClick(download, Qt::LeftButton);

        const QString destination = QDir(models.path()).filePath("inspyrenet_test.pth");
        if (right_md5) {
            QVERIFY(saved.wait(20000));
            QCOMPARE(saved.first().first().toString(), destination);
            QFile file(destination);
            QVERIFY(file.open(QIODevice::ReadOnly));
            QVERIFY(file.readAll() == bytes);
            QCOMPARE(table->item(0, 3)->text(), QString("present"));
        } else {
            // Refused: the status names the mismatch, and nothing is left under the file's
            // name, partial or whole.
            QTRY_VERIFY_WITH_TIMEOUT(dialog.status_text().contains("md5"), 20000);
            QVERIFY2(!dialog.status_text().contains('\n'), qPrintable(dialog.status_text()));
            QCOMPARE(saved.count(), 0);
            QVERIFY(!QFile::exists(destination));
            QCOMPARE(QDir(models.path()).entryList(QDir::Files), QStringList());
        }
    }
};

QTEST_MAIN(TestDownloadDialog)
#include "test_download_dialog.moc"
