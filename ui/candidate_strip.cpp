// Candidate thumbnails, refreshed whenever the decoder answers.
#include "candidate_strip.h"

#include <QHBoxLayout>
#include <QImage>
#include <QToolButton>

#include <cmath>

namespace ps::ui {
namespace {

// An empty slot shows a transparent icon of the thumbnails' size, so the strip has the same
// height with and without candidates and the canvas below never jumps.
QIcon placeholder_icon(const QSize& size) {
    QPixmap blank(size);
    blank.fill(Qt::transparent);
    return QIcon(blank);
}

}  // namespace

CandidateStrip::CandidateStrip(QWidget* parent) : QWidget(parent) {
    setObjectName("candidate_strip");
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    for (int i = 0; i < 3; ++i) {
        auto* button = new QToolButton(this);
        button->setObjectName(QString("candidate_%1").arg(i + 1));
        button->setToolButtonStyle(Qt::ToolButtonTextUnderIcon);
        button->setIconSize(QSize(96, 72));
        button->setCheckable(true);
        button->setEnabled(false);
        button->setToolTip(tr("Candidate %1 (key %1)").arg(i + 1));
        button->setIcon(placeholder_icon(button->iconSize()));
        button->setText(QString("%1").arg(i + 1));
        connect(button, &QToolButton::clicked, this, [this, i] { emit candidate_chosen(i); });
        layout->addWidget(button);
        buttons_.push_back(button);
    }
    layout->addStretch();
}

void CandidateStrip::show_candidates(const sam::SamMaskSet* masks, int chosen, bool show_iou) {
    for (size_t i = 0; i < buttons_.size(); ++i) {
        QToolButton* button = buttons_[i];
        const bool present = masks && i < masks->masks.size();
        button->setEnabled(present);
        button->setChecked(present && int(i) == chosen);
        if (!present) {
            button->setIcon(placeholder_icon(button->iconSize()));
            button->setText(QString("%1").arg(i + 1));
            continue;
        }
        const cv::Mat& m = masks->masks[i];
        const QImage image(m.data, m.cols, m.rows, int(m.step[0]), QImage::Format_Grayscale8);
        button->setIcon(QIcon(QPixmap::fromImage(
            image.scaled(button->iconSize(), Qt::KeepAspectRatio, Qt::SmoothTransformation))));
        const float iou = masks->iou[i];
        button->setText(show_iou && std::isfinite(iou)
                            ? QString("%1 · IoU %2").arg(i + 1).arg(iou, 0, 'f', 3)
                            : QString("%1").arg(i + 1));
    }
}

}  // namespace ps::ui
