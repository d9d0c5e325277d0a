// A tiny HTTP/1.1 server on 127.0.0.1 for the download tests (the downloader's and the dialog's):
// no network leaves the machine.
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QStringList>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>
#include <QtTest>

#include <algorithm>
#include <memory>

// Serves one in-memory file. Routes: /file (honours "Range: bytes=N-" unless told not to),
// /missing (404), /redirect (302 to /file), /page (an HTML page with status 200).
// Bodies go out in 64 KiB slices from a zero-interval timer, so the client sees many reads;
// with `stall_after_bytes` set the server stops there and holds the connection open, which
// lets a test cancel mid-transfer without depending on timing.
class LocalHttpServer : public QObject {
  public:
    explicit LocalHttpServer(QByteArray file) : file_(std::move(file)) {
        QVERIFY(server_.listen(QHostAddress::LocalHost, 0));
        connect(&server_, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket* socket = server_.nextPendingConnection()) serve(socket);
        });
    }

    QUrl url(const QString& path) const {
        return QUrl(QString("http://127.0.0.1:%1%2").arg(server_.serverPort()).arg(path));
    }

    bool ignore_range = false;
    qint64 stall_after_bytes = -1;
    QStringList range_headers;  // one per request to /file; empty string when none was sent

  private:
    void serve(QTcpSocket* socket) {
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        auto request = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, socket, [this, socket, request] {
            if (request->contains("\r\n\r\n")) return;  // one request per connection
            request->append(socket->readAll());
            if (request->contains("\r\n\r\n")) respond(socket, *request);
        });
    }

    void respond(QTcpSocket* socket, const QByteArray& request) {
        const QList<QByteArray> lines = request.split('\n');
        const QByteArray path = lines.first().split(' ').value(1);
        QByteArray range;
        for (const QByteArray& line : lines)
            if (line.toLower().startsWith("range:")) range = line.mid(6).trimmed();
        if (path == "/missing")
            return send(socket, "404 Not Found", "Content-Type: text/plain\r\n", "no such file");
        if (path == "/redirect")
            return send(socket, "302 Found", "Location: " + url("/file").toEncoded() + "\r\n", "");
        if (path == "/page")
            return send(socket, "200 OK", "Content-Type: text/html\r\n", "<html>sign in</html>");
        range_headers << QString::fromLatin1(range);
        qint64 from = 0;
        if (range.startsWith("bytes=") && range.endsWith('-') && !ignore_range)
            from = range.mid(6, range.size() - 7).toLongLong();
        if (from >= file_.size() && from > 0)
            return send(socket, "416 Range Not Satisfiable",
                        "Content-Range: bytes */" + QByteArray::number(file_.size()) + "\r\n", "");
        const QByteArray headers = "Content-Type: application/octet-stream\r\n" +
                                   (from > 0 ? "Content-Range: bytes " + QByteArray::number(from) +
                                                   "-" + QByteArray::number(file_.size() - 1) +
                                                   "/" + QByteArray::number(file_.size()) + "\r\n"
                                             : QByteArray());
        send(socket, from > 0 ? "206 Partial Content" : "200 OK", headers, file_.mid(from));
    }

    void send(QTcpSocket* socket, const QByteArray& status, const QByteArray& headers,
              const QByteArray& body) {
        socket->write("HTTP/1.1 " + status + "\r\n" + headers + "Content-Length: " +
                      QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n");
        auto* timer = new QTimer(socket);
        timer->setInterval(0);
        auto sent = std::make_shared<qint64>(0);
        const qint64 limit =
            stall_after_bytes >= 0 ? std::min(stall_after_bytes, qint64(body.size())) : body.size();
        connect(timer, &QTimer::timeout, socket, [socket, timer, sent, body, limit] {
            if (socket->bytesToWrite() > 256 * 1024) return;  // let the client drain
            const qint64 slice = std::min<qint64>(64 * 1024, limit - *sent);
            socket->write(body.constData() + *sent, slice);
            *sent += slice;
            if (*sent < limit) return;
            timer->stop();
            if (limit == body.size()) socket->disconnectFromHost();  // else: stall, stay open
        });
        timer->start();
    }

    QTcpServer server_;
    QByteArray file_;
};
