// photosynth: the desktop app. Wires the engine and the main window; an image path may be given.
#include <QApplication>
#include <QCommandLineParser>

#include "annotation_controller.h"
#include "app_settings.h"
#include "background_panel.h"
#include "effects_panel.h"
#include "engine/engine.h"
#include "main_window.h"
#include "scripted_session.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Photosynth");
    QApplication::setOrganizationName("Photosynth");
    QCommandLineParser parser;
    parser.setApplicationDescription("Local AI image editing");
    parser.addHelpOption();
    parser.addPositionalArgument("image", "An image, a video or a folder to open");
    QCommandLineOption model({"m", "model"}, "SAM checkpoint (.pth or .safetensors)", "path");
    parser.addOption(model);
    // Automation for documentation screenshots: steps played once the image is encoded (points,
    // and in a project "accept", "label=NAME", "done"), then a grab of the window, and quit.
    QCommandLineOption point(
        {"p", "point"}, "After opening: a prompt point x,y[,label], or accept, label=NAME, done",
        "step");
    QCommandLineOption screenshot("screenshot", "Save a screenshot of the window and quit", "png");
    QCommandLineOption panel(
        "panel", "Show a panel (background or effects) and its result on the canvas", "name");
    QCommandLineOption project("project", "Open an annotation project (a folder of images)", "dir");
    parser.addOption(project);
    parser.addOption(panel);
    parser.addOption(point);
    parser.addOption(screenshot);
    parser.process(app);

    ps::ui::AppSettings settings;
    ps::engine::Engine engine(settings.to_engine_settings());
    ps::ui::MainWindow window(engine, &settings);
    if (parser.isSet(model)) window.set_sam_model(parser.value(model));
    if (parser.isSet(project)) {
        window.annotation()->open_project(parser.value(project));
    } else if (!parser.positionalArguments().isEmpty()) {
        window.open_path(parser.positionalArguments().front());
    }
    // A panel in front, with its result before / after on the canvas.
    if (parser.value(panel) == "effects") {
        window.effects_panel()->raise();
        window.effects_panel()->set_shows_on_canvas(true);
    }
    if (parser.value(panel) == "background") {
        window.background_panel()->raise();
        window.background_panel()->set_shows_on_canvas(true);
    }
    window.show();
    if (parser.isSet(point) || parser.isSet(screenshot)) {
        new ps::ui::ScriptedSession(window, parser.values(point), parser.value(screenshot));
    }
    return app.exec();
}
