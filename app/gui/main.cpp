// photosynth: the desktop app. Wires the main window; an image path may be given as argument.
#include <QApplication>
#include <QCommandLineParser>

#include "main_window.h"

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName("Photosynth");
    QApplication::setOrganizationName("Photosynth");
    QCommandLineParser parser;
    parser.setApplicationDescription("Local AI image editing");
    parser.addHelpOption();
    parser.addPositionalArgument("image", "An image to open");
    parser.process(app);

    ps::ui::MainWindow window;
    if (!parser.positionalArguments().isEmpty()) window.open_image(parser.positionalArguments()[0]);
    window.show();
    return app.exec();
}
