// Weights download against a tiny HTTP/1.1 server on 127.0.0.1: progress, cancel, resume,
// sha256 and size checks, HTTP errors, redirects; and the model manifest parser.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QNetworkProxy>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "local_http_server.h"
#include "net/model_manifest.h"
#include "net/weights_downloader.h"

using namespace ps::net;

namespace {

QByteArray seeded_random_bytes(qsizetype size) {
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator generator(20240601);
    generator.fillRange(reinterpret_cast<quint32*>(bytes.data()), size / 4);
    return bytes;
}

QString sha256_hex(const QByteArray& bytes) {
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

QByteArray read_all(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// ps::Status has no default constructor, so QVariant (and QSignalSpy's copies) cannot hold
// it: record the statuses with a direct connection and let the spy only count and wait.
struct FinishedRecorder {
    explicit FinishedRecorder(WeightsDownloader& downloader)
        : spy(&downloader, &WeightsDownloader::finished) {
        QObject::connect(&downloader, &WeightsDownloader::finished, &context,
                         [this](const ps::Status& status) { statuses.push_back(status); });
    }
    bool wait() { return !statuses.empty() || spy.wait(20000); }
    QSignalSpy spy;
    std::vector<ps::Status> statuses;
    QObject context;  // last member, destroyed first: the connection never outlives `statuses`
};

// Runs one download to the end and returns its status.
ps::Status run_download(WeightsDownloader& downloader, const DownloadRequest& request) {
    FinishedRecorder finished(downloader);
    if (ps::Status started = downloader.start(request); !started) return started;
    if (!finished.wait()) return ps::make_error(ps::ErrorKind::Runtime, "test: no finished()");
    return finished.statuses.front();
}

// Starts a download and cancels it once `cancel_at_bytes` have arrived.
ps::Status cancel_mid_way(WeightsDownloader& downloader, const DownloadRequest& request,
                          qint64 cancel_at_bytes) {
    QObject context;  // the canceller lives only for this download
    QObject::connect(&downloader, &WeightsDownloader::progress, &context,
                     [&downloader, cancel_at_bytes](qint64 received, qint64) {
                         if (received >= cancel_at_bytes) downloader.cancel();
                     });
    return run_download(downloader, request);
}

}  // namespace

class TestWeightsDownloader : public QObject {
    Q_OBJECT

  private slots:
    void initTestCase();
    void init();
    void full_download_reports_progress_and_verifies_sha256();
    void cancel_keeps_partial_file();
    void resume_sends_range_and_completes();
    void complete_partial_restarts_after_416();
    void sha256_mismatch_deletes_partial_and_keeps_old_file();
    void md5_is_checked_where_it_is_all_the_publisher_gives();
    void size_mismatch_deletes_partial();
    void http_404_reports_status();
    void server_ignoring_range_still_gives_right_file();
    void redirect_is_followed();
    void html_page_is_refused();
    void second_start_while_running_is_refused();
    void manifest_parses_repository_file();
    void broken_manifest_names_file_data();
    void broken_manifest_names_file();

  private:
    QByteArray file_ = seeded_random_bytes(3 * 1024 * 1024);
    std::unique_ptr<LocalHttpServer> server_;
    std::unique_ptr<QTemporaryDir> dir_;
    QString destination() const { return dir_->filePath("weights.pth"); }
    QString partial() const { return WeightsDownloader::partial_path(destination()); }
    DownloadRequest request(const QString& path = "/file") const {
        DownloadRequest request;
        request.url = server_->url(path);
        request.destination_path = destination();
        return request;
    }
};

void TestWeightsDownloader::initTestCase() {
    // A proxy from the environment must not stand between the client and 127.0.0.1.
    QNetworkProxy::setApplicationProxy(QNetworkProxy::NoProxy);
}

void TestWeightsDownloader::init() {
    server_ = std::make_unique<LocalHttpServer>(file_);
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
}

void TestWeightsDownloader::full_download_reports_progress_and_verifies_sha256() {
    WeightsDownloader downloader;
    QSignalSpy progress(&downloader, &WeightsDownloader::progress);
    DownloadRequest req = request();
    req.expected_size_bytes = file_.size();
    req.expected_sha256 = sha256_hex(file_).toUpper();  // case must not matter
    const ps::Status status = run_download(downloader, req);
    QVERIFY2(status.ok(), status.ok() ? "" : status.message().c_str());

    QVERIFY(progress.size() > 1);
    qint64 previous = 0;
    for (const QList<QVariant>& args : progress) {
        QVERIFY(args.at(0).toLongLong() >= previous);
        QCOMPARE(args.at(1).toLongLong(), qint64(file_.size()));
        previous = args.at(0).toLongLong();
    }
    QCOMPARE(previous, qint64(file_.size()));
    QCOMPARE(read_all(destination()), file_);
    QVERIFY(!QFile::exists(partial()));
    QCOMPARE(downloader.last_sha256(), sha256_hex(file_));
    QVERIFY(!downloader.is_running());
}

void TestWeightsDownloader::cancel_keeps_partial_file() {
    server_->stall_after_bytes = 2 * 1024 * 1024;
    WeightsDownloader downloader;
    const ps::Status status = cancel_mid_way(downloader, request(), 1024 * 1024);
    QVERIFY(!status.ok());
    QCOMPARE(status.error().kind, ps::ErrorKind::Cancelled);
    QVERIFY(!QFile::exists(destination()));
    const QByteArray kept = read_all(partial());
    QVERIFY(kept.size() >= 1024 * 1024);
    QVERIFY(kept.size() < file_.size());
    QCOMPARE(kept, file_.left(kept.size()));
    QVERIFY(!downloader.is_running());
}

void TestWeightsDownloader::resume_sends_range_and_completes() {
    // First a download cancelled mid-way, exactly as a user would leave it.
    server_->stall_after_bytes = 2 * 1024 * 1024;
    WeightsDownloader downloader;
    QCOMPARE(cancel_mid_way(downloader, request(), 1024 * 1024).error().kind,
             ps::ErrorKind::Cancelled);
    const qint64 kept = QFileInfo(partial()).size();
    QVERIFY(kept > 0 && kept < file_.size());

    server_->stall_after_bytes = -1;
    QSignalSpy progress(&downloader, &WeightsDownloader::progress);
    DownloadRequest req = request();
    req.expected_sha256 = sha256_hex(file_);  // covers the re-hashed prefix too
    const ps::Status status = run_download(downloader, req);
    QVERIFY2(status.ok(), status.ok() ? "" : status.message().c_str());
    QCOMPARE(server_->range_headers, (QStringList{"", QString("bytes=%1-").arg(kept)}));
    QVERIFY(progress.first().at(0).toLongLong() > kept);  // counts include the resumed bytes
    QCOMPARE(progress.last().at(0).toLongLong(), qint64(file_.size()));
    QCOMPARE(read_all(destination()), file_);
    QVERIFY(!QFile::exists(partial()));
}

void TestWeightsDownloader::complete_partial_restarts_after_416() {
    {
        QFile part(partial());  // as long as the file: nothing left to ask for
        QVERIFY(part.open(QIODevice::WriteOnly));
        part.write(file_);
    }
    WeightsDownloader downloader;
    const ps::Status status = run_download(downloader, request());
    QVERIFY2(status.ok(), status.ok() ? "" : status.message().c_str());
    QCOMPARE(server_->range_headers,
             (QStringList{QString("bytes=%1-").arg(file_.size()), QString()}));
    QCOMPARE(read_all(destination()), file_);
}

void TestWeightsDownloader::sha256_mismatch_deletes_partial_and_keeps_old_file() {
    {
        QFile old(destination());
        QVERIFY(old.open(QIODevice::WriteOnly));
        old.write("previous weights");
    }
    WeightsDownloader downloader;
    DownloadRequest req = request();
    req.expected_sha256 = QString(64, '0');
    const ps::Status status = run_download(downloader, req);
    QVERIFY(!status.ok());
    QCOMPARE(status.error().kind, ps::ErrorKind::Mismatch);
    const QString message = QString::fromStdString(status.message());
    QVERIFY2(message.startsWith("sha256 mismatch for " + destination()), qPrintable(message));
    QVERIFY2(message.contains("expected " + QString(64, '0') + ", got " + sha256_hex(file_)),
             qPrintable(message));
    QVERIFY2(message.endsWith("the partial file was deleted"), qPrintable(message));
    QVERIFY(!QFile::exists(partial()));
    QCOMPARE(read_all(destination()), QByteArray("previous weights"));
}

// transparent-background publishes an md5 only: a right one passes, a wrong one is a mismatch
// like a wrong sha256 (nothing kept), and a malformed one is refused before any byte.
void TestWeightsDownloader::md5_is_checked_where_it_is_all_the_publisher_gives() {
    const QString md5 =
        QString::fromLatin1(QCryptographicHash::hash(file_, QCryptographicHash::Md5).toHex());
    {
        WeightsDownloader downloader;
        DownloadRequest req = request();
        req.expected_md5 = md5.toUpper();
        const ps::Status status = run_download(downloader, req);
        QVERIFY2(status.ok(), status.ok() ? "" : status.message().c_str());
        QCOMPARE(read_all(destination()), file_);
        QVERIFY(QFile::remove(destination()));
    }
    {
        WeightsDownloader downloader;
        DownloadRequest req = request();
        req.expected_md5 = QString(32, 'f');
        const ps::Status status = run_download(downloader, req);
        QVERIFY(!status.ok());
        QCOMPARE(status.error().kind, ps::ErrorKind::Mismatch);
        const QString message = QString::fromStdString(status.message());
        QVERIFY2(message.startsWith("md5 mismatch for " + destination()), qPrintable(message));
        QVERIFY2(message.contains("got " + md5), qPrintable(message));
        QVERIFY(!QFile::exists(partial()) && !QFile::exists(destination()));
    }
    WeightsDownloader downloader;
    DownloadRequest req = request();
    req.expected_md5 = "abc";
    const ps::Status refused = downloader.start(req);
    QVERIFY(!refused.ok());
    QVERIFY2(refused.message().find("is not 32 hex digits") != std::string::npos,
             refused.message().c_str());
}

void TestWeightsDownloader::size_mismatch_deletes_partial() {
    WeightsDownloader downloader;
    DownloadRequest req = request();
    req.expected_size_bytes = file_.size() + 1;
    const ps::Status status = run_download(downloader, req);
    QVERIFY(!status.ok());
    QCOMPARE(status.error().kind, ps::ErrorKind::Mismatch);
    QVERIFY2(QString::fromStdString(status.message()).contains("size mismatch"),
             status.message().c_str());
    QVERIFY(!QFile::exists(partial()));
    QVERIFY(!QFile::exists(destination()));
}

void TestWeightsDownloader::http_404_reports_status() {
    WeightsDownloader downloader;
    const ps::Status status = run_download(downloader, request("/missing"));
    QVERIFY(!status.ok());
    const QString message = QString::fromStdString(status.message());
    QVERIFY2(message.startsWith("HTTP 404 Not Found from "), qPrintable(message));
    QVERIFY2(message.contains("/missing"), qPrintable(message));
    QVERIFY(!QFile::exists(destination()));
    QVERIFY(!QFile::exists(partial()));  // an empty .part is not left behind
}

void TestWeightsDownloader::server_ignoring_range_still_gives_right_file() {
    server_->ignore_range = true;
    {
        QFile part(partial());  // garbage that a wrong append would keep
        QVERIFY(part.open(QIODevice::WriteOnly));
        part.write(QByteArray(1000, 'x'));
    }
    WeightsDownloader downloader;
    DownloadRequest req = request();
    req.expected_sha256 = sha256_hex(file_);
    const ps::Status status = run_download(downloader, req);
    QVERIFY2(status.ok(), status.ok() ? "" : status.message().c_str());
    QCOMPARE(server_->range_headers, QStringList{"bytes=1000-"});
    QCOMPARE(read_all(destination()), file_);
}

void TestWeightsDownloader::redirect_is_followed() {
    WeightsDownloader downloader;
    DownloadRequest req = request("/redirect");
    req.expected_sha256 = sha256_hex(file_);
    const ps::Status status = run_download(downloader, req);
    QVERIFY2(status.ok(), status.ok() ? "" : status.message().c_str());
    QCOMPARE(server_->range_headers.size(), 1);
    QCOMPARE(read_all(destination()), file_);
}

void TestWeightsDownloader::html_page_is_refused() {
    WeightsDownloader downloader;
    const ps::Status status = run_download(downloader, request("/page"));
    QVERIFY(!status.ok());
    QVERIFY2(QString::fromStdString(status.message()).contains("web page"),
             status.message().c_str());
    QVERIFY(!QFile::exists(destination()));
}

void TestWeightsDownloader::second_start_while_running_is_refused() {
    server_->stall_after_bytes = 0;
    WeightsDownloader downloader;
    FinishedRecorder finished(downloader);
    QVERIFY(downloader.start(request()).ok());
    const ps::Status second = downloader.start(request());
    QVERIFY(!second.ok());
    QCOMPARE(second.error().kind, ps::ErrorKind::InvalidArgument);
    downloader.cancel();
    QCOMPARE(finished.statuses.size(), size_t(1));
    QCOMPARE(finished.statuses.front().error().kind, ps::ErrorKind::Cancelled);
    QVERIFY(!QFile::exists(partial()));  // nothing arrived, so nothing is kept
}

void TestWeightsDownloader::manifest_parses_repository_file() {
    const QString path = QFileInfo(QString(__FILE__)).dir().filePath("../../models/manifest.json");
    const auto manifest = load_model_manifest(path);
    QVERIFY2(manifest.ok(), manifest.ok() ? "" : manifest.message().c_str());
    QVERIFY(!manifest->empty());
    for (const ModelEntry& entry : *manifest) {
        QVERIFY(!entry.name.isEmpty());
        QVERIFY(!entry.family.isEmpty());
        QVERIFY(!entry.file.isEmpty());
        QVERIFY(QUrl(entry.url).isValid());
        if (entry.sha256) QCOMPARE(entry.sha256->size(), 64);
        if (entry.md5) QCOMPARE(entry.md5->size(), 32);
    }
    // Every background-removal family the engine runs can be downloaded.
    QStringList families;
    for (const ModelEntry& entry : *manifest) families << entry.family;
    for (const char* family : {"u2net", "isnet", "birefnet", "inspyrenet"})
        QVERIFY2(families.contains(family), family);
    // And every promptable one: SAM, MobileSAM, and SAM 2.1 in its four published sizes under
    // the engine's family and arch names, with no checksum made up where Meta gives none.
    for (const char* family : {"sam_vit", "mobile_sam", "sam2"})
        QVERIFY2(families.contains(family), family);
    QStringList sam2_arches;
    for (const ModelEntry& entry : *manifest) {
        if (entry.family != "sam2") continue;
        sam2_arches << entry.arch;
        QVERIFY2(entry.url.startsWith("https://dl.fbaipublicfiles.com/segment_anything_2/092824/" +
                                      entry.file),
                 qPrintable(entry.url));
        QVERIFY(!entry.sha256 && !entry.md5 && !entry.size_bytes);
    }
    QCOMPARE(sam2_arches, (QStringList{"sam2.1_hiera_t", "sam2.1_hiera_s", "sam2.1_hiera_b+",
                                       "sam2.1_hiera_l"}));
}

void TestWeightsDownloader::broken_manifest_names_file_data() {
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("expected_text");
    const QByteArray good_entry =
        R"("name": "M", "family": "f", "file": "m.pth", "url": "https://example.com/m.pth")";
    QTest::newRow("not json") << QByteArray("{ nope") << "invalid JSON";
    QTest::newRow("no models") << QByteArray(R"({"schema_version": 1})") << "\"models\" array";
    QTest::newRow("missing url")
        << QByteArray(R"({"models": [{"name": "M", "family": "f", "file": "m.pth"}]})")
        << "models[0]: \"url\" must be a non-empty string";
    QTest::newRow("path as file")
        << QByteArray(R"({"models": [{"name": "M", "family": "f", "file": "../m.pth",
                                      "url": "https://example.com/m.pth"}]})")
        << "plain file name";
    QTest::newRow("short sha256") << QByteArray(R"({"models": [{)" + good_entry +
                                                R"(, "sha256": "abc"}]})")
                                  << "\"sha256\" must be 64 hex digits";
    QTest::newRow("short md5") << QByteArray(R"({"models": [{)" + good_entry +
                                             R"(, "md5": "abc"}]})")
                               << "\"md5\" must be 32 hex digits";
    QTest::newRow("fractional size")
        << QByteArray(R"({"models": [{)" + good_entry + R"(, "size_bytes": 1.5}]})")
        << "\"size_bytes\" must be a positive integer";
}

void TestWeightsDownloader::broken_manifest_names_file() {
    QFETCH(QByteArray, json);
    QFETCH(QString, expected_text);
    const QString path = dir_->filePath("broken_manifest.json");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(json);
    file.close();
    const auto manifest = load_model_manifest(path);
    QVERIFY(!manifest.ok());
    const QString message = QString::fromStdString(manifest.message());
    QVERIFY2(message.startsWith(path + ": "), qPrintable(message));
    QVERIFY2(message.contains(expected_text), qPrintable(message));
}

QTEST_MAIN(TestWeightsDownloader)
#include "test_weights_downloader.moc"
