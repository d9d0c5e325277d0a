// Automation of the window for documentation screenshots and demos: a list of steps (prompt
// points, accept, label choice, mark done) played as a user would, each after the window has
// answered the previous one, then an optional screenshot of the window and quit.
#pragma once

#include <QObject>
#include <QStringList>

class QTimer;

namespace ps::ui {

class MainWindow;

class ScriptedSession : public QObject {
    Q_OBJECT
  public:
    // Steps: "x,y[,label]" a prompt point in image pixels (label 1 object, 0 background);
    // "accept" the current mask; "label=NAME" the current label; "done" mark done & next image.
    // Playing starts at the first opened image; `screenshot` (may be empty) is written after
    // the last step, and the application quits.
    ScriptedSession(MainWindow& window, QStringList steps, QString screenshot);

  private:
    void play();
    void finish();

    MainWindow& window_;
    QStringList steps_;
    QString screenshot_;
    int next_ = 0;
    bool started_ = false;
    bool waiting_ = false;  // for the answer to a point or for the next image
    QTimer* poll_ = nullptr;
};

}  // namespace ps::ui
