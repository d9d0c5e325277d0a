// Downloads one checkpoint to a file: resumable (.part + Range), sha256-checked, cancellable.
#pragma once

#include <QCryptographicHash>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QUrl>

#include <memory>
#include <optional>

#include "common/result.h"

class QFile;
class QNetworkAccessManager;
class QNetworkReply;
class QTimer;

namespace ps::net {

struct DownloadRequest {
    QUrl url;
    QString destination_path;  // written only after every check passed
    std::optional<qint64> expected_size_bytes;
    std::optional<QString> expected_sha256;  // hex, any case
    // Where the publisher gives only an MD5 (transparent-background's config.yaml): checked as
    // strictly as the sha256, which is still computed and reported.
    std::optional<QString> expected_md5;  // 32 hex digits, any case
    int stall_timeout_ms = 60000;         // abort when no byte arrives for this long
};

// One download at a time, on the thread that owns the object (the GUI thread: all work is
// driven by the event loop, nothing blocks). Bytes go to `<dest>.part`; a later start() with
// the same destination resumes from it with an HTTP Range request.
class WeightsDownloader : public QObject {
    Q_OBJECT
  public:
    explicit WeightsDownloader(QObject* parent = nullptr);
    ~WeightsDownloader() override;

    // Begins a download; an immediate problem (already running, bad arguments, unwritable
    // folder) is returned and no signal follows. Otherwise finished() comes exactly once.
    Status start(const DownloadRequest& request);
    // Stops the transfer, keeps the .part for a later resume, emits finished(Cancelled).
    void cancel();
    bool is_running() const { return state_ != State::Idle; }

    // Hex sha256 of the last completed download, so a user can record it where the
    // publisher gives none (see models/README.md).
    QString last_sha256() const { return last_sha256_; }

    static QString partial_path(const QString& destination_path) {
        return destination_path + ".part";
    }

  signals:
    // Bytes in the destination so far (resumed bytes included) and the total, -1 if unknown.
    void progress(qint64 bytes_received, qint64 bytes_total);
    void finished(const ps::Status& status);

  private:
    enum class State { Idle, HashingPartial, Transferring };

    void hash_next_partial_chunk();
    void send_request();
    void on_ready_read();
    void on_reply_finished();
    Status accept_response();
    Status open_partial();
    Status verify_and_commit();
    void finish(Status status);
    void abort_reply();
    QString part_path() const { return partial_path(request_.destination_path); }

    QNetworkAccessManager* network_ = nullptr;
    QTimer* hash_timer_ = nullptr;
    QPointer<QNetworkReply> reply_;
    std::unique_ptr<QFile> part_file_;
    QCryptographicHash hash_{QCryptographicHash::Sha256};
    QCryptographicHash md5_{QCryptographicHash::Md5};
    DownloadRequest request_;
    State state_ = State::Idle;
    qint64 resume_from_bytes_ = 0;  // size of the .part when the request was sent
    qint64 file_bytes_ = 0;         // bytes in the .part now
    qint64 total_bytes_ = -1;       // from Content-Length / Content-Range; -1 if unknown
    bool response_accepted_ = false;
    bool retried_without_range_ = false;
    QString last_sha256_;
};

}  // namespace ps::net
