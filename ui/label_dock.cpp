// Label dock: edits go through check(), hotkeys become actions of the Labels menu.
#include "label_dock.h"

#include <QAction>
#include <QActionGroup>
#include <QColorDialog>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QKeySequenceEdit>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QVBoxLayout>

#include "io/input_limits.h"
#include "shortcut_sheet.h"

namespace ps::ui {
namespace {

QColor to_qcolor(const std::array<uint8_t, 3>& rgb) {
    return QColor(rgb[0], rgb[1], rgb[2]);
}

QIcon swatch(const QColor& colour) {
    QPixmap pixmap(14, 14);
    pixmap.fill(colour);
    return QIcon(pixmap);
}

// Name, colour and hotkey of one label.
class LabelDialog : public QDialog {
  public:
    LabelDialog(const annotation::Label& label, bool new_label, QWidget* parent)
        : QDialog(parent), colour_(to_qcolor(label.colour)) {
        setWindowTitle(new_label ? tr("Add Label") : tr("Edit Label"));
        auto* form = new QFormLayout(this);
        name_ = new QLineEdit(QString::fromStdString(label.name), this);
        // Annotation files store the name: renaming would orphan objects on other images.
        name_->setEnabled(new_label);
        form->addRow(tr("Name"), name_);
        colour_button_ = new QPushButton(this);
        connect(colour_button_, &QPushButton::clicked, this, [this] {
            const QColor chosen = QColorDialog::getColor(colour_, this, tr("Label Colour"));
            if (chosen.isValid()) set_colour(chosen);
        });
        set_colour(colour_);
        form->addRow(tr("Colour"), colour_button_);
        hotkey_ = new QKeySequenceEdit(QKeySequence(QString::fromStdString(label.hotkey)), this);
        form->addRow(tr("Hotkey"), hotkey_);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
        connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
        connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
        form->addRow(buttons);
    }

    annotation::Label label() const {
        annotation::Label label;
        label.name = name_->text().trimmed().toStdString();
        label.colour = {uint8_t(colour_.red()), uint8_t(colour_.green()), uint8_t(colour_.blue())};
        // One key combination: the first of what the editor recorded.
        const QKeySequence keys = hotkey_->keySequence();
        label.hotkey =
            keys.isEmpty() ? std::string() : QKeySequence(keys[0]).toString().toStdString();
        return label;
    }

  private:
    void set_colour(const QColor& colour) {
        colour_ = colour;
        colour_button_->setIcon(swatch(colour));
        colour_button_->setText(colour.name());
    }

    QColor colour_;
    QLineEdit* name_ = nullptr;
    QPushButton* colour_button_ = nullptr;
    QKeySequenceEdit* hotkey_ = nullptr;
};

}  // namespace

LabelDock::LabelDock(QWidget* shortcut_scope, QWidget* parent)
    : QDockWidget(tr("Labels"), parent), shortcut_scope_(shortcut_scope) {
    setObjectName("label_dock");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    list_ = new QListWidget(body);
    list_->setObjectName("label_list");
    layout->addWidget(list_);
    auto* row = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add…"), body);
    add->setObjectName("label_add");
    edit_ = new QPushButton(tr("Edit…"), body);
    edit_->setObjectName("label_edit");
    remove_ = new QPushButton(tr("Remove"), body);
    remove_->setObjectName("label_remove");
    row->addWidget(add);
    row->addWidget(edit_);
    row->addWidget(remove_);
    layout->addLayout(row);
    setWidget(body);
    menu_ = new QMenu(tr("&Labels"), this);
    actions_ = new QActionGroup(this);
    actions_->setExclusive(true);

    connect(add, &QPushButton::clicked, this, [this] { edit_with_dialog(-1); });
    connect(edit_, &QPushButton::clicked, this, [this] { edit_with_dialog(list_->currentRow()); });
    connect(list_, &QListWidget::itemDoubleClicked, this,
            [this] { edit_with_dialog(list_->currentRow()); });
    connect(remove_, &QPushButton::clicked, this, [this] {
        const int index = list_->currentRow();
        if (index < 0) return;
        const QString name = QString::fromStdString(labels_.labels[size_t(index)].name);
        if (QMessageBox::question(
                this, tr("Remove Label"),
                tr("Remove the label “%1”? Objects that have it keep the name.").arg(name)) !=
            QMessageBox::Yes) {
            return;
        }
        if (const QString error = remove_label(index); !error.isEmpty()) {
            QMessageBox::warning(this, tr("Remove Label"), error);
        }
    });
    connect(list_, &QListWidget::currentRowChanged, this, [this](int row) {
        edit_->setEnabled(row >= 0);
        remove_->setEnabled(row >= 0);
        if (updating_ || row < 0) return;
        if (QAction* action = actions_->actions().value(row)) action->setChecked(true);
        emit current_label_changed(current_label());
    });
    setEnabled(false);  // until a project is open
}

void LabelDock::set_labels(const annotation::LabelSet& labels) {
    const QString current = current_label();
    labels_ = labels;
    rebuild();
    setEnabled(true);
    set_current_label(labels_.find(current.toStdString()) || labels_.labels.empty()
                          ? current
                          : QString::fromStdString(labels_.labels.front().name));
}

void LabelDock::rebuild() {
    updating_ = true;
    list_->clear();
    menu_->clear();
    for (QAction* action : actions_->actions()) delete action;
    for (size_t i = 0; i < labels_.labels.size(); ++i) {
        const annotation::Label& label = labels_.labels[i];
        const QString name = QString::fromStdString(label.name);
        const QKeySequence hotkey(QString::fromStdString(label.hotkey));
        auto* item = new QListWidgetItem(swatch(to_qcolor(label.colour)), name, list_);
        if (!hotkey.isEmpty())
            item->setText(
                QString("%1   (%2)").arg(name, hotkey.toString(QKeySequence::NativeText)));
        item->setData(Qt::UserRole, name);
        auto* action = new QAction(swatch(to_qcolor(label.colour)), name, actions_);
        action->setObjectName("label_action_" + name);
        action->setCheckable(true);
        action->setShortcut(hotkey);
        action->setToolTip(tr("Label “%1”: the selected object and the next ones").arg(name));
        connect(action, &QAction::triggered, this, [this, name] {
            set_current_label(name);
            emit label_triggered(name);
        });
        menu_->addAction(action);
    }
    updating_ = false;
}

QString LabelDock::current_label() const {
    const QListWidgetItem* item = list_->currentItem();
    return item ? item->data(Qt::UserRole).toString() : QString();
}

void LabelDock::set_current_label(const QString& name) {
    const int index = labels_.index_of(name.toStdString());
    if (index < 0) return;
    list_->setCurrentRow(index);
    if (QAction* action = actions_->actions().value(index)) action->setChecked(true);
}

QString LabelDock::check(const annotation::Label& label, int index) const {
    if (label.name.empty()) return tr("A label needs a name.");
    if (const auto name = io::check_label(label.name); !name)
        return QString::fromStdString(name.message());
    const int same_name = labels_.index_of(label.name);
    if (same_name >= 0 && same_name != index) {
        return tr("There is already a label “%1”.").arg(QString::fromStdString(label.name));
    }
    const QKeySequence hotkey(QString::fromStdString(label.hotkey));
    if (!label.hotkey.empty() && hotkey.isEmpty()) {
        return tr("“%1” is not a key.").arg(QString::fromStdString(label.hotkey));
    }
    const QAction* own = index >= 0 ? actions_->actions().value(index) : nullptr;
    if (const QAction* owner = shortcut_owner(shortcut_scope_, hotkey, own)) {
        return tr("%1 is already the key of “%2”.")
            .arg(hotkey.toString(QKeySequence::NativeText), owner->text().remove('&'));
    }
    return {};
}

QString LabelDock::add_label(const annotation::Label& label) {
    if (QString error = check(label, -1); !error.isEmpty()) return error;
    annotation::LabelSet next = labels_;
    next.labels.push_back(label);
    emit labels_edited(next);
    return {};
}

QString LabelDock::edit_label(int index, const annotation::Label& label) {
    if (index < 0 || index >= int(labels_.labels.size())) return tr("No such label.");
    if (QString error = check(label, index); !error.isEmpty()) return error;
    annotation::LabelSet next = labels_;
    next.labels[size_t(index)] = label;
    emit labels_edited(next);
    return {};
}

QString LabelDock::remove_label(int index) {
    if (index < 0 || index >= int(labels_.labels.size())) return tr("No such label.");
    annotation::LabelSet next = labels_;
    next.labels.erase(next.labels.begin() + index);
    emit labels_edited(next);
    return {};
}

void LabelDock::edit_with_dialog(int index) {
    const bool fresh = index < 0;
    if (!fresh && index >= int(labels_.labels.size())) return;
    annotation::Label start;
    if (fresh) {
        // Golden-angle hues: each new label's colour stands apart from the ones before it.
        const QColor colour = QColor::fromHsv(int(labels_.labels.size() * 137) % 360, 200, 230);
        start.colour = {uint8_t(colour.red()), uint8_t(colour.green()), uint8_t(colour.blue())};
    } else {
        start = labels_.labels[size_t(index)];
    }
    LabelDialog dialog(start, fresh, this);
    while (dialog.exec() == QDialog::Accepted) {
        const QString error = fresh ? add_label(dialog.label()) : edit_label(index, dialog.label());
        if (error.isEmpty()) return;
        QMessageBox::warning(this, dialog.windowTitle(), error);
    }
}

}  // namespace ps::ui
