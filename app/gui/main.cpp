// photosynth: the desktop app. Wires the engine and the main window; an image path may be given.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QScreen>
#include <QTimer>

#include "app_settings.h"
#include "engine/engine.h"
#include "background_panel.h"
#include "effects_panel.h"
#include "main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Photosynth");
    QApplication::setOrganizationName("Photosynth");
    QCommandLineParser parser;
    parser.setApplicationDescription("Local AI image editing");
    parser.addHelpOption();
    parser.addPositionalArgument("image", "An image or a folder to open");
    QCommandLineOption model({"m", "model"}, "SAM checkpoint (.pth or .safetensors)", "path");
    parser.addOption(model);
    // Automation for documentation screenshots: add points once the image is encoded, grab the
    // window when the masks are shown, and quit.
    QCommandLineOption point({"p", "point"}, "Add a prompt point x,y[,label] after opening", "x,y,label");
    QCommandLineOption screenshot("screenshot", "Save a screenshot of the window and quit", "png");
    QCommandLineOption panel("panel", "Show a panel: background or effects", "name");
    parser.addOption(panel);
    parser.addOption(point);
    parser.addOption(screenshot);
    parser.process(app);

    ps::ui::AppSettings settings;
    ps::engine::Engine engine(settings.to_engine_settings());
    ps::ui::MainWindow window(engine, &settings);
    if (parser.isSet(model)) window.set_sam_model(parser.value(model));
    if (!parser.positionalArguments().isEmpty()) {
        const QString target = parser.positionalArguments().front();
        if (QFileInfo(target).isDir()) {
            window.open_folder(target);
        } else {
            window.open_image(target);
        }
    }
    if (parser.value(panel) == "effects") window.effects_panel()->raise();
    if (parser.value(panel) == "background") window.background_panel()->raise();
    window.show();
    if (parser.isSet(point) || parser.isSet(screenshot)) {
        const QStringList points = parser.values(point);
        const QString shot = parser.value(screenshot);
        QObject::connect(&window, &ps::ui::MainWindow::image_opened, &window, [&window, points] {
            // Points go in once the encode has finished, so the first mask is immediate.
            auto* poll = new QTimer(&window);
            QObject::connect(poll, &QTimer::timeout, &window, [&window, poll, points] {
                if (window.busy()) return;
                poll->deleteLater();
                for (const QString& p : points) {
                    const QStringList xyl = p.split(',');
                    if (xyl.size() < 2) continue;
                    window.add_point({xyl[0].toDouble(), xyl[1].toDouble()},
                                     xyl.size() > 2 ? xyl[2].toInt() : 1);
                }
            });
            poll->start(50);
        });
        if (!shot.isEmpty()) {
            QObject::connect(&window, &ps::ui::MainWindow::masks_shown, &window, [&window, shot] {
                if (window.busy()) return;  // wait for the answer to the last point
                // Let the docks repaint and the panels' background previews arrive.
                QTimer::singleShot(2500, &window, [&window, shot] {
                    // From the display server (Xvfb in scripts/screenshot.sh), as a user sees it.
                    QPixmap pixels = window.screen()->grabWindow(window.winId());
                    if (pixels.isNull()) pixels = window.grab();
                    pixels.save(shot);
                    QApplication::quit();
                });
            });
        }
    }
    return app.exec();
}
