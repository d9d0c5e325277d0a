// Undo command bodies.
#include "editing/edit_commands.h"

namespace ps::editing {

PromptCommand::PromptCommand(EditDocument& document, PromptState before, PromptState after,
                             const QString& text)
    : QUndoCommand(text),
      document_(document),
      before_(std::move(before)),
      after_(std::move(after)) {}

AcceptObjectCommand::AcceptObjectCommand(EditDocument& document, SegmentObject object,
                                         PromptState prompts_before)
    : QUndoCommand(QObject::tr("Accept %1").arg(object.name)),
      document_(document),
      object_(std::move(object)),
      prompts_before_(std::move(prompts_before)) {}

void AcceptObjectCommand::redo() {
    document_.insert_object(object_);
    PromptState cleared;
    cleared.generation = document_.next_generation();
    document_.set_prompts(cleared);
}

void AcceptObjectCommand::undo() {
    document_.remove_object(object_.id);
    document_.set_prompts(prompts_before_);
}

ObjectEditCommand::ObjectEditCommand(EditDocument& document, SegmentObject before,
                                     SegmentObject after, const QString& text)
    : QUndoCommand(text),
      document_(document),
      before_(std::move(before)),
      after_(std::move(after)) {}

DeleteObjectCommand::DeleteObjectCommand(EditDocument& document, int object_id)
    : document_(document) {
    if (const SegmentObject* object = document.object(object_id)) object_ = *object;
    position_ = document.object_position(object_id);
    setText(QObject::tr("Delete %1").arg(object_.name));
}

}  // namespace ps::editing
