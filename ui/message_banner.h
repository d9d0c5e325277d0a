// A non-blocking banner above the canvas for messages that need the user's attention: it stays
// until dismissed or replaced by a newer message (the status bar is for progress).
#pragma once

#include <QFrame>

class QLabel;
class QToolButton;

namespace ps::ui {

class MessageBanner : public QFrame {
    Q_OBJECT
  public:
    enum class Level { Error, Warning, Info };
    explicit MessageBanner(QWidget* parent = nullptr);

    void show_message(const QString& text, Level level = Level::Error);
    void dismiss();
    QString text() const;
    bool showing() const { return !isHidden(); }

  signals:
    void dismissed();

  private:
    QLabel* icon_ = nullptr;
    QLabel* text_ = nullptr;
    QToolButton* close_ = nullptr;
};

}  // namespace ps::ui
