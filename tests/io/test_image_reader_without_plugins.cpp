// read_rgb_image on a system without Qt's image-format plugins: a WebP, TIFF or GIF file is
// refused with the plugin and the Debian package that brings it, not as an unknown format.
#include <QCoreApplication>
#include <QFile>
#include <QImageReader>
#include <QTemporaryDir>
#include <QtTest>

#include "io/image_reader.h"

class TestImageReaderWithoutPlugins : public QObject {
    Q_OBJECT

  private:
    QTemporaryDir dir_;

  private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        // Qt builds its list of image plugins on first use, from the library paths of that
        // moment; emptying them first makes this process look like a system without plugins
        // (the separate executable keeps other tests from having loaded any before).
        QCoreApplication::setLibraryPaths({dir_.path()});
        const QList<QByteArray> formats = QImageReader::supportedImageFormats();
        QVERIFY2(!formats.contains("webp") && !formats.contains("tiff") && !formats.contains("gif"),
                 "image plugins were loaded before the library paths were emptied");
    }

    // Only the signature is read before the plugin is found missing, so a header is enough.
    void missing_plugin_is_named_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("expected");
        const QByteArray tail(64, '\x5a');
        const QString image_formats =
            "Qt's %1 image plugin is not installed (Debian package "
            "qt6-image-formats-plugins)";
        QTest::newRow("webp") << "photo.webp"
                              << QByteArray("RIFF\x4c\x00\x00\x00WEBPVP8L", 16) + tail
                              << image_formats.arg("webp");
        QTest::newRow("tiff, little-endian")
            << "scan.tif" << QByteArray("II*\x00", 4) + tail << image_formats.arg("tiff");
        QTest::newRow("tiff, big-endian")
            << "scan.tiff" << QByteArray("MM\x00*", 4) + tail << image_formats.arg("tiff");
        QTest::newRow("gif")
            << "anim.gif" << QByteArray("GIF89a") + tail
            << "Qt's gif image plugin is not installed (Debian package libqt6gui6)";
    }
    void missing_plugin_is_named() {
        QFETCH(QString, name);
        QFETCH(QByteArray, content);
        QFETCH(QString, expected);
        QFile file(dir_.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write(content) == content.size());
        file.close();
        const auto decoded = ps::io::read_rgb_image(file.fileName().toStdString());
        QVERIFY(!decoded.ok());
        const QString message = QString::fromStdString(decoded.message());
        QVERIFY2(message.startsWith(file.fileName() + ": "), qPrintable(message));
        QVERIFY2(message.contains(expected), qPrintable(message));
        QCOMPARE(decoded.error().kind, ps::ErrorKind::Unsupported);
    }

    // Bytes of no known format keep the plain message.
    void unknown_bytes_stay_unrecognised() {
        QFile file(dir_.filePath("notes.webp"));
        QVERIFY(file.open(QIODevice::WriteOnly) && file.write("not an image at all") > 0);
        file.close();
        const auto decoded = ps::io::read_rgb_image(file.fileName().toStdString());
        QVERIFY(!decoded.ok());
        QVERIFY2(
            decoded.message().find("unrecognised or unsupported image format") != std::string::npos,
            decoded.message().c_str());
    }
};

QTEST_GUILESS_MAIN(TestImageReaderWithoutPlugins)
#include "test_image_reader_without_plugins.moc"
