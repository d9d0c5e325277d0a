// The main window on the offscreen platform: opening images, good and bad.
#include <QGraphicsPixmapItem>
#include <QGraphicsView>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "golden_dir.h"
#include "main_window.h"

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void opens_an_image_onto_the_canvas() {
        ps::ui::MainWindow window;
        window.show();
        QSignalSpy opened(&window, &ps::ui::MainWindow::image_opened);
        const QString path = golden_dir() + "/images/coffee.png";
        QVERIFY(window.open_image(path));
        QCOMPARE(opened.count(), 1);
        QCOMPARE(window.current_path(), path);
        const QList<QGraphicsItem*> items = window.view()->scene()->items();
        QCOMPARE(items.size(), 1);
        const auto* pixmap = dynamic_cast<QGraphicsPixmapItem*>(items.first());
        QVERIFY(pixmap);
        QCOMPARE(pixmap->pixmap().size(), QSize(600, 400));
        QVERIFY(window.windowTitle().startsWith("coffee.png"));
    }

    void a_corrupt_file_keeps_the_current_image() {
        ps::ui::MainWindow window;  // not shown: no modal dialog in the way
        QVERIFY(window.open_image(golden_dir() + "/images/coffee.png"));
        QTemporaryDir dir;
        QFile bad(dir.path() + "/broken.png");
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("\x89PNG\r\n\x1a\nnot really");
        bad.close();
        QVERIFY(!window.open_image(bad.fileName()));
        QCOMPARE(window.current_path(), golden_dir() + "/images/coffee.png");
        QCOMPARE(window.view()->scene()->items().size(), 1);
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
