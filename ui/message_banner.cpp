// Message banner: icon, wrapped selectable text and a close button; hidden when empty.
#include "message_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QStyle>
#include <QToolButton>

namespace ps::ui {
namespace {

struct LevelLook {
    QStyle::StandardPixmap icon;
    const char* style;
};

LevelLook look_of(MessageBanner::Level level) {
    switch (level) {
        case MessageBanner::Level::Error:
            return {
                QStyle::SP_MessageBoxCritical,
                "QFrame#message_banner { background: #fde2e1; border-bottom: 1px solid #e0a09c; }"};
        case MessageBanner::Level::Warning:
            return {
                QStyle::SP_MessageBoxWarning,
                "QFrame#message_banner { background: #fff4d6; border-bottom: 1px solid #e6c66e; }"};
        case MessageBanner::Level::Info:
            break;
    }
    return {QStyle::SP_MessageBoxInformation,
            "QFrame#message_banner { background: #e3eefc; border-bottom: 1px solid #9bb8e0; }"};
}

}  // namespace

MessageBanner::MessageBanner(QWidget* parent) : QFrame(parent) {
    setObjectName("message_banner");
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    icon_ = new QLabel(this);
    text_ = new QLabel(this);
    text_->setObjectName("message_banner_text");
    text_->setWordWrap(true);
    text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Dark text whatever the palette: the banner's own background is always light.
    text_->setStyleSheet("color: #202020;");
    close_ = new QToolButton(this);
    close_->setObjectName("message_banner_close");
    close_->setAutoRaise(true);
    close_->setText(QStringLiteral("✕"));
    close_->setToolTip(tr("Dismiss"));
    layout->addWidget(icon_, 0, Qt::AlignTop);
    layout->addWidget(text_, 1);
    layout->addWidget(close_, 0, Qt::AlignTop);
    connect(close_, &QToolButton::clicked, this, &MessageBanner::dismiss);
    hide();
}

void MessageBanner::show_message(const QString& text, Level level) {
    const LevelLook look = look_of(level);
    setStyleSheet(look.style);
    const int size = style()->pixelMetric(QStyle::PM_SmallIconSize);
    icon_->setPixmap(style()->standardIcon(look.icon).pixmap(size, size));
    text_->setText(text);
    setToolTip(text);
    show();
}

void MessageBanner::dismiss() {
    if (isHidden()) return;
    text_->clear();
    hide();
    emit dismissed();
}

QString MessageBanner::text() const {
    return isHidden() ? QString() : text_->text();
}

}  // namespace ps::ui
