// The decoder's candidate masks as thumbnails with their predicted IoU; click or 1/2/3 chooses.
#pragma once

#include <QWidget>

#include <vector>

#include "models/sam/sam_model.h"

class QToolButton;

namespace ps::ui {

class CandidateStrip : public QWidget {
    Q_OBJECT
  public:
    explicit CandidateStrip(QWidget* parent = nullptr);
    // masks may be empty (no prompt); `chosen` is highlighted. show_iou is false for segmenters
    // that predict no IoU (GrabCut), so no made-up number is shown.
    void show_candidates(const sam::SamMaskSet* masks, int chosen, bool show_iou = true);
    QToolButton* button(int index) const { return buttons_.at(size_t(index)); }

  signals:
    void candidate_chosen(int index);

  private:
    std::vector<QToolButton*> buttons_;
};

}  // namespace ps::ui
