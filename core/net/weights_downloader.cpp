// Resumable, verified download of one file with QNetworkAccessManager (see weights_downloader.h).
#include "net/weights_downloader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRegularExpression>
#include <QTimer>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace ps::net {
namespace {

// Re-hashing a 2.4 GB .part before a resume takes seconds; hashing it in slices between
// event-loop turns keeps the GUI responsive and cancel() effective meanwhile.
constexpr qint64 kHashSliceBytes = 8 * 1024 * 1024;

Error error(ErrorKind kind, const QString& message) {
    return make_error(kind, message.toStdString());
}

// `digits` hexadecimal digits, any case, nothing else.
bool is_hex(const QString& text, int digits) {
    if (text.size() != digits) return false;
    return std::all_of(text.begin(), text.end(), [](QChar c) {
        return (c >= '0' && c <= '9') || (c.toLower() >= 'a' && c.toLower() <= 'f');
    });
}

int http_status(QNetworkReply* reply) {
    return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
}

}  // namespace

WeightsDownloader::WeightsDownloader(QObject* parent)
    : QObject(parent), network_(new QNetworkAccessManager(this)), hash_timer_(new QTimer(this)) {
    hash_timer_->setInterval(0);
    connect(hash_timer_, &QTimer::timeout, this, &WeightsDownloader::hash_next_partial_chunk);
}

WeightsDownloader::~WeightsDownloader() {
    abort_reply();
}

Status WeightsDownloader::start(const DownloadRequest& request) {
    if (is_running())
        return error(ErrorKind::InvalidArgument,
                     "a download is already running: " + request_.url.toString());
    if (!request.url.isValid() ||
        (request.url.scheme() != "http" && request.url.scheme() != "https"))
        return error(ErrorKind::InvalidArgument,
                     "not an http(s) URL: \"" + request.url.toString() + "\"");
    if (request.destination_path.isEmpty())
        return error(ErrorKind::InvalidArgument,
                     "no destination file for " + request.url.toString());
    if (request.expected_sha256 && !is_hex(*request.expected_sha256, 64))
        return error(ErrorKind::InvalidArgument, "expected sha256 for " + request.destination_path +
                                                     " is not 64 hex digits: \"" +
                                                     *request.expected_sha256 + "\"");
    if (request.expected_md5 && !is_hex(*request.expected_md5, 32))
        return error(ErrorKind::InvalidArgument, "expected md5 for " + request.destination_path +
                                                     " is not 32 hex digits: \"" +
                                                     *request.expected_md5 + "\"");
    const QString folder = QFileInfo(request.destination_path).absolutePath();
    if (!QDir().mkpath(folder)) return error(ErrorKind::Io, "cannot create the folder " + folder);

    request_ = request;
    retried_without_range_ = false;
    last_sha256_.clear();
    return open_partial();
}

Status WeightsDownloader::open_partial() {
    part_file_ = std::make_unique<QFile>(part_path());
    // Unbuffered: a failed write (disk full) is reported by the write call itself, at the
    // moment it happens, instead of at some later flush.
    if (!part_file_->open(QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        const QString reason = part_file_->errorString();
        part_file_.reset();
        return error(ErrorKind::Io, "cannot open " + part_path() + " for writing: " + reason);
    }
    hash_.reset();
    md5_.reset();
    file_bytes_ = 0;
    resume_from_bytes_ = part_file_->size();
    total_bytes_ = -1;
    response_accepted_ = false;
    state_ = State::HashingPartial;
    hash_timer_->start();
    return Ok{};
}

void WeightsDownloader::hash_next_partial_chunk() {
    if (file_bytes_ < resume_from_bytes_) {
        const QByteArray slice =
            part_file_->read(std::min(kHashSliceBytes, resume_from_bytes_ - file_bytes_));
        if (slice.isEmpty())
            return finish(error(ErrorKind::Io, "cannot read " + part_path() +
                                                   " to resume: " + part_file_->errorString()));
        hash_.addData(slice);
        md5_.addData(slice);
        file_bytes_ += slice.size();
        return;  // the zero-interval timer brings the next slice after pending events
    }
    hash_timer_->stop();
    send_request();
}

void WeightsDownloader::send_request() {
    QNetworkRequest request(request_.url);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::NoLessSafeRedirectPolicy);
    // Byte ranges and sizes must refer to the file itself, not to a compressed encoding of it.
    request.setRawHeader("Accept-Encoding", "identity");
    request.setTransferTimeout(request_.stall_timeout_ms);
    if (resume_from_bytes_ > 0)
        request.setRawHeader("Range", "bytes=" + QByteArray::number(resume_from_bytes_) + "-");
    state_ = State::Transferring;
    reply_ = network_->get(request);
    connect(reply_, &QNetworkReply::readyRead, this, &WeightsDownloader::on_ready_read);
    connect(reply_, &QNetworkReply::finished, this, &WeightsDownloader::on_reply_finished);
}

// Decides, once per response, what its body means for the .part: a continuation (206) or
// the whole file (200, e.g. from a server that ignores Range).
Status WeightsDownloader::accept_response() {
    const QString url = reply_->url().toString();
    const QString content_type = reply_->header(QNetworkRequest::ContentTypeHeader).toString();
    // The usual failure of checkpoint links (Google Drive, expired mirrors) is an HTML page
    // saved under a .pth name; refuse it before it touches the partial file.
    if (content_type.startsWith("text/html", Qt::CaseInsensitive))
        return error(ErrorKind::Format, url + " answered with a web page (" + content_type +
                                            "), not the file; open it in a browser instead");
    const qint64 content_length =
        reply_->header(QNetworkRequest::ContentLengthHeader).isValid()
            ? reply_->header(QNetworkRequest::ContentLengthHeader).toLongLong()
            : -1;
    if (http_status(reply_) == 206) {
        static const QRegularExpression range_re(R"(^bytes (\d+)-(\d+)/(\d+|\*)$)");
        const QString content_range = QString::fromLatin1(reply_->rawHeader("Content-Range"));
        const auto match = range_re.match(content_range.trimmed());
        if (!match.hasMatch() || match.captured(1).toLongLong() != resume_from_bytes_)
            return error(ErrorKind::Format,
                         QString("%1 sent a range that does not continue %2 (%3 bytes): "
                                 "\"Content-Range: %4\"")
                             .arg(url, part_path())
                             .arg(resume_from_bytes_)
                             .arg(content_range));
        total_bytes_ = match.captured(3) != "*" ? match.captured(3).toLongLong()
                       : content_length >= 0    ? resume_from_bytes_ + content_length
                                                : -1;
        return Ok{};
    }
    if (file_bytes_ > 0) {  // 200: the body starts at byte 0, so the old bytes must go
        if (!part_file_->resize(0) || !part_file_->seek(0))
            return error(ErrorKind::Io,
                         "cannot truncate " + part_path() + ": " + part_file_->errorString());
        hash_.reset();
        md5_.reset();
        file_bytes_ = 0;
    }
    total_bytes_ = content_length;
    return Ok{};
}

void WeightsDownloader::on_ready_read() {
    if (state_ != State::Transferring || !reply_) return;
    if (!response_accepted_) {
        const int status = http_status(reply_);
        if (status != 200 && status != 206) {
            reply_->readAll();  // an error page; on_reply_finished reports the status
            return;
        }
        if (Status accepted = accept_response(); !accepted) return finish(std::move(accepted));
        response_accepted_ = true;
    }
    const QByteArray data = reply_->readAll();
    if (part_file_->write(data) != data.size())
        return finish(error(ErrorKind::Io, "cannot write " + part_path() + ": " +
                                               part_file_->errorString() + " (is the disk full?)"));
    hash_.addData(data);
    md5_.addData(data);
    file_bytes_ += data.size();
    emit progress(file_bytes_, total_bytes_);
}

void WeightsDownloader::on_reply_finished() {
    if (state_ != State::Transferring || !reply_) return;
    const int status = http_status(reply_);
    const QString url = reply_->url().toString();
    if (reply_->error() != QNetworkReply::NoError) {
        // 416: the .part is no prefix the server can continue (often it is already complete,
        // or the file changed upstream). Start once more from byte 0.
        if (status == 416 && resume_from_bytes_ > 0 && !retried_without_range_) {
            retried_without_range_ = true;
            abort_reply();
            part_file_.reset();
            QFile::remove(part_path());
            if (Status reopened = open_partial(); !reopened) finish(std::move(reopened));
            return;
        }
        QString message;
        if (status >= 400)
            message =
                QString("HTTP %1 %2 from %3")
                    .arg(status)
                    .arg(reply_->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString(),
                         url);
        else if (reply_->error() == QNetworkReply::OperationCanceledError)
            message = QString("no data from %1 for %2 s")
                          .arg(url)
                          .arg(request_.stall_timeout_ms / 1000.0);
        else
            message = "cannot download " + url + ": " + reply_->errorString();
        if (file_bytes_ > 0)
            message += QString("; %1 bytes kept in %2, download again to resume")
                           .arg(file_bytes_)
                           .arg(part_path());
        return finish(error(ErrorKind::Io, message));
    }
    if (!response_accepted_) {
        if (status != 200 && status != 206)
            return finish(error(ErrorKind::Io,
                                QString("unexpected HTTP status %1 from %2").arg(status).arg(url)));
        on_ready_read();  // accepts the response even when the body is empty
    } else if (reply_->bytesAvailable() > 0) {
        on_ready_read();
    }
    if (state_ != State::Transferring) return;  // a write failed and finish() already ran
    abort_reply();
    finish(verify_and_commit());
}

Status WeightsDownloader::verify_and_commit() {
    part_file_->close();
    const QString url = request_.url.toString();
    const QString& destination = request_.destination_path;
    if (total_bytes_ >= 0 && file_bytes_ < total_bytes_)
        return error(ErrorKind::Io, QString("the connection to %1 closed early: %2 of %3 bytes "
                                            "arrived; they are kept in %4, download again to "
                                            "resume")
                                        .arg(url)
                                        .arg(file_bytes_)
                                        .arg(total_bytes_)
                                        .arg(part_path()));
    const QString got_sha256 = QString::fromLatin1(hash_.result().toHex());
    QString mismatch;
    if (total_bytes_ >= 0 && file_bytes_ > total_bytes_)
        mismatch = QString("size mismatch for %1: the server announced %2 bytes, got %3")
                       .arg(destination)
                       .arg(total_bytes_)
                       .arg(file_bytes_);
    else if (request_.expected_size_bytes && file_bytes_ != *request_.expected_size_bytes)
        mismatch = QString("size mismatch for %1: expected %2 bytes, got %3")
                       .arg(destination)
                       .arg(*request_.expected_size_bytes)
                       .arg(file_bytes_);
    else if (request_.expected_sha256 &&
             got_sha256.compare(*request_.expected_sha256, Qt::CaseInsensitive) != 0)
        mismatch = QString("sha256 mismatch for %1: expected %2, got %3")
                       .arg(destination, request_.expected_sha256->toLower(), got_sha256);
    else if (const QString got_md5 = QString::fromLatin1(md5_.result().toHex());
             request_.expected_md5 &&
             got_md5.compare(*request_.expected_md5, Qt::CaseInsensitive) != 0)
        mismatch = QString("md5 mismatch for %1: expected %2, got %3")
                       .arg(destination, request_.expected_md5->toLower(), got_md5);
    if (!mismatch.isEmpty()) {
        // A wrong file cannot become right by resuming it, so it must not stay as a .part.
        QFile::remove(part_path());
        return error(ErrorKind::Mismatch, mismatch + "; the partial file was deleted");
    }
    // rename(2) replaces an existing destination atomically: a reader sees the old file or
    // the new one, and the old one survives every failed check above.
    std::error_code rename_error;
    std::filesystem::rename(QFile::encodeName(part_path()).toStdString(),
                            QFile::encodeName(destination).toStdString(), rename_error);
    if (rename_error)
        return error(ErrorKind::Io, "cannot rename " + part_path() + " to " + destination + ": " +
                                        QString::fromStdString(rename_error.message()));
    last_sha256_ = got_sha256;
    return Ok{};
}

void WeightsDownloader::cancel() {
    if (state_ == State::Idle) return;
    const qint64 kept_bytes = part_file_ ? part_file_->size() : 0;
    finish(error(ErrorKind::Cancelled, QString("download of %1 cancelled; %2 bytes kept in %3 "
                                               "to resume")
                                           .arg(request_.url.toString())
                                           .arg(kept_bytes)
                                           .arg(part_path())));
}

void WeightsDownloader::abort_reply() {
    if (!reply_) return;
    QNetworkReply* reply = reply_;
    reply_ = nullptr;
    reply->disconnect(this);  // abort() emits finished() synchronously; it is not news here
    reply->abort();
    reply->deleteLater();
}

void WeightsDownloader::finish(Status status) {
    hash_timer_->stop();
    abort_reply();
    if (part_file_) {
        part_file_->close();
        // An empty .part holds nothing to resume; leave no litter.
        if (!status.ok() && QFileInfo(part_path()).size() == 0) QFile::remove(part_path());
        part_file_.reset();
    }
    state_ = State::Idle;  // before the signal, so a receiver may start() again at once
    emit finished(status);
}

}  // namespace ps::net
