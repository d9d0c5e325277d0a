// Undo commands over EditDocument: every prompt edit and every object change is undoable.
#pragma once

#include <QUndoCommand>

#include "editing/edit_document.h"

namespace ps::editing {

// Any change of the prompt state: add/move/remove a point, draw a box, clear, choose a candidate.
class PromptCommand : public QUndoCommand {
  public:
    PromptCommand(EditDocument& document, PromptState before, PromptState after,
                  const QString& text);
    void undo() override { document_.set_prompts(before_); }
    void redo() override { document_.set_prompts(after_); }

  private:
    EditDocument& document_;
    PromptState before_, after_;
};

// Accepting the current mask as an object also clears the prompts, as one step.
class AcceptObjectCommand : public QUndoCommand {
  public:
    AcceptObjectCommand(EditDocument& document, SegmentObject object, PromptState prompts_before);
    void undo() override;
    void redo() override;

  private:
    EditDocument& document_;
    SegmentObject object_;
    PromptState prompts_before_;
};

// Rename, recolour, hide or show.
class ObjectEditCommand : public QUndoCommand {
  public:
    ObjectEditCommand(EditDocument& document, SegmentObject before, SegmentObject after,
                      const QString& text);
    void undo() override { document_.update_object(before_); }
    void redo() override { document_.update_object(after_); }

  private:
    EditDocument& document_;
    SegmentObject before_, after_;
};

class DeleteObjectCommand : public QUndoCommand {
  public:
    DeleteObjectCommand(EditDocument& document, int object_id);
    void undo() override { document_.insert_object(object_, position_); }
    void redo() override { document_.remove_object(object_.id); }

  private:
    EditDocument& document_;
    SegmentObject object_;
    int position_ = -1;
};

}  // namespace ps::editing
