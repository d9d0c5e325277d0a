// Effects panel: forms generated from the effect catalogue; previews on a display-sized copy.
#include "effects_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <opencv2/imgproc.hpp>

#include "display_names.h"
#include "engine/engine.h"
#include "engine/future_watch.h"
#include "image/downscale.h"
#include "image/effects/effect_registry.h"
#include "io/image_writer.h"

namespace ps::ui {
namespace {

constexpr int kPreviewLongSide = 1280;  // the preview is computed at about screen size
constexpr int kThumbnailLongSide = 160;
constexpr int kPreviewChannel = 500, kThumbnailChannel = 600, kExportChannel = 700;

QImage to_qimage(const cv::Mat& rgb) {
    return QImage(rgb.data, rgb.cols, rgb.rows, int(rgb.step[0]), QImage::Format_RGB888).copy();
}

Result<cv::Mat> run_effect(const std::string& name, const std::vector<std::string>& assignments,
                           const cv::Mat& rgb, const cv::Mat& work_matte,
                           const std::string& target) {
    auto params = image::parse_effect_params(name, assignments);
    if (!params) return params.error();
    auto output = image::apply_effect(name, rgb, *params);
    if (!output) return output.error();
    auto parsed_target = image::parse_effect_target(target);
    if (!parsed_target) return parsed_target.error();
    if (*parsed_target == image::EffectTarget::All) return output;
    if (work_matte.empty()) {
        // Never silently restyle the whole image when the user asked for part of it.
        return make_error(
            ErrorKind::InvalidArgument,
            "No object mask yet: click on the image (or accept an object) to restyle only the " +
                target);
    }
    cv::Mat matte = work_matte;
    if (matte.size() != rgb.size())
        cv::resize(work_matte, matte, rgb.size(), 0, 0, cv::INTER_LINEAR);
    return image::apply_with_target(rgb, *output, matte, *parsed_target);
}

}  // namespace

EffectsPanel::EffectsPanel(engine::Engine& engine, QWidget* parent)
    : QDockWidget(tr("Effects"), parent), engine_(engine) {
    setObjectName("effects_panel");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    strip_ = new QListWidget(body);
    strip_->setObjectName("effect_strip");
    strip_->setViewMode(QListView::IconMode);
    strip_->setFlow(QListView::LeftToRight);
    strip_->setWrapping(false);
    // One fixed row: Static movement and uniform cells keep IconMode from re-flowing the items
    // into a second row when new thumbnails arrive.
    strip_->setMovement(QListView::Static);
    strip_->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    strip_->setIconSize(QSize(kThumbnailLongSide / 2, kThumbnailLongSide / 2));
    strip_->setGridSize(QSize(kThumbnailLongSide / 2 + 16, kThumbnailLongSide / 2 + 28));
    strip_->setFixedHeight(kThumbnailLongSide / 2 + 44);
    for (const image::EffectInfo& info : image::effect_catalogue()) {
        auto* item = new QListWidgetItem(display_name(info.name), strip_);
        item->setData(Qt::UserRole, QString::fromStdString(info.name));
        item->setToolTip(QString::fromStdString(info.help));
    }
    layout->addWidget(strip_);
    form_host_ = new QWidget(body);
    form_ = new QFormLayout(form_host_);
    layout->addWidget(form_host_);
    target_ = new QComboBox(body);
    target_->setObjectName("effect_target");
    for (const QString target : {"all", "object", "background"})
        target_->addItem(target_display_name(target), target);
    target_->setToolTip(
        tr("Where the effect applies; the object is the current mask, else the visible objects"));
    layout->addWidget(target_);
    on_canvas_ = new QCheckBox(tr("Before / after on the canvas"), body);
    on_canvas_->setObjectName("effect_on_canvas");
    on_canvas_->setToolTip(
        tr("Show the result on the main canvas; drag the line there to compare"));
    layout->addWidget(on_canvas_);
    preview_label_ = new QLabel(body);
    preview_label_->setObjectName("effect_preview");
    preview_label_->setMinimumSize(160, 100);
    preview_label_->setAlignment(Qt::AlignCenter);
    layout->addWidget(preview_label_, 1);
    status_ = new QLabel(body);
    status_->setObjectName("effect_status");
    status_->setWordWrap(true);
    layout->addWidget(status_);
    setWidget(body);

    connect(strip_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        const QString name = item ? item->data(Qt::UserRole).toString() : QString();
        if (name.isEmpty() || name == effect_) return;
        effect_ = name;
        rebuild_form();
        request_preview();
    });
    // Choosing an effect or a target means "show me": on the canvas, where the result is large.
    connect(strip_, &QListWidget::itemClicked, this, [this] { on_canvas_->setChecked(true); });
    connect(target_, &QComboBox::activated, this, [this] { on_canvas_->setChecked(true); });
    connect(target_, &QComboBox::currentIndexChanged, this, [this] { request_preview(); });
    connect(on_canvas_, &QCheckBox::toggled, this, &EffectsPanel::canvas_preview_changed);
    rebuild_form();
}

cv::Mat EffectsPanel::display_copy(const cv::Mat& image) const {
    return image.empty() ? image : image::downscale_for_interactive(image, kPreviewLongSide);
}

void EffectsPanel::set_image(const cv::Mat& full_rgb) {
    full_ = full_rgb;
    display_ = display_copy(full_rgb);
    matte_.release();
    ++generation_;  // a preview still coming is of the image before
    // Nothing of the image before stays on screen: its preview and thumbnails go with it.
    clear_preview(unavailable_reason_);
    render_thumbnails();
    request_preview();
}

void EffectsPanel::set_unavailable(const QString& reason) {
    unavailable_reason_ = reason;
    for (QWidget* control : {static_cast<QWidget*>(strip_), form_host_,
                             static_cast<QWidget*>(target_), static_cast<QWidget*>(on_canvas_)})
        control->setEnabled(reason.isEmpty());
    if (!reason.isEmpty())
        set_image(cv::Mat());
    else if (display_.empty())
        clear_preview(QString());
}

void EffectsPanel::clear_preview(const QString& text) {
    preview_image_ = QImage();
    preview_label_->setPixmap(QPixmap());
    preview_label_->setText(text);
    status_->setText(QString());
    status_->setStyleSheet(QString());
    emit canvas_preview_changed();
}

void EffectsPanel::set_matte(const cv::Mat& matte_u8) {
    // Kept at the size it comes in (the work image's); jobs resize it to the image they run on,
    // so a 24-megapixel resize never happens on the GUI thread.
    matte_ = full_.empty() ? cv::Mat() : matte_u8;
    if (target() != "all") request_preview();
}

void EffectsPanel::choose_effect(const QString& name) {
    for (int row = 0; row < strip_->count(); ++row) {
        if (strip_->item(row)->data(Qt::UserRole).toString() == name) strip_->setCurrentRow(row);
    }
}

void EffectsPanel::set_target(const QString& target) {
    target_->setCurrentIndex(target_->findData(target));
}
QString EffectsPanel::target() const {
    return target_->currentData().toString();
}
bool EffectsPanel::shows_on_canvas() const {
    return on_canvas_->isChecked();
}
void EffectsPanel::set_shows_on_canvas(bool on) {
    on_canvas_->setChecked(on);
}

void EffectsPanel::show_problem(const QString& message) {
    // The old preview must not stay on screen as if it answered the new settings.
    status_->setText(message);
    status_->setStyleSheet("color: #c0392b");
    preview_image_ = QImage();
    preview_label_->setPixmap(QPixmap());
    preview_label_->setText(message);
    emit canvas_preview_changed();
}

void EffectsPanel::set_parameter(const QString& name, const QString& value) {
    auto it = editors_.find(name.toStdString());
    if (it == editors_.end()) return;
    if (auto* spin = qobject_cast<QSpinBox*>(it->second)) spin->setValue(value.toInt());
    if (auto* real = qobject_cast<QDoubleSpinBox*>(it->second)) real->setValue(value.toDouble());
    if (auto* check = qobject_cast<QCheckBox*>(it->second))
        check->setChecked(value == "true" || value == "1");
    if (auto* combo = qobject_cast<QComboBox*>(it->second))
        combo->setCurrentIndex(combo->findData(value));
    if (auto* line = qobject_cast<QLineEdit*>(it->second)) {
        line->setText(value);
        emit line->editingFinished();
    }
}

void EffectsPanel::rebuild_form() {
    while (form_->rowCount() > 0) form_->removeRow(0);
    editors_.clear();
    const image::EffectInfo* info = image::find_effect(effect_.toStdString());
    if (!info) return;
    for (const image::ParamSpec& spec : info->params) {
        QWidget* editor = nullptr;
        const QString value = QString::fromStdString(spec.default_value);
        switch (spec.kind) {
            case image::ParamKind::Integer: {
                auto* spin = new QSpinBox(form_host_);
                spin->setRange(int(spec.min), int(spec.max));
                spin->setValue(value.toInt());
                connect(spin, &QSpinBox::valueChanged, this, &EffectsPanel::request_preview);
                editor = spin;
                break;
            }
            case image::ParamKind::Real: {
                auto* spin = new QDoubleSpinBox(form_host_);
                spin->setRange(spec.min, spec.max);
                spin->setDecimals(3);
                spin->setSingleStep((spec.max - spec.min) / 50);
                spin->setValue(value.toDouble());
                connect(spin, &QDoubleSpinBox::valueChanged, this, &EffectsPanel::request_preview);
                editor = spin;
                break;
            }
            case image::ParamKind::Boolean: {
                auto* check = new QCheckBox(form_host_);
                check->setChecked(value == "true" || value == "1");
                connect(check, &QCheckBox::toggled, this, &EffectsPanel::request_preview);
                editor = check;
                break;
            }
            case image::ParamKind::Choice: {
                auto* combo = new QComboBox(form_host_);
                for (const std::string& c : spec.choices)
                    combo->addItem(display_name(c), QString::fromStdString(c));
                combo->setCurrentIndex(combo->findData(value));
                connect(combo, &QComboBox::currentIndexChanged, this,
                        &EffectsPanel::request_preview);
                editor = combo;
                break;
            }
            default: {
                auto* line = new QLineEdit(value, form_host_);
                connect(line, &QLineEdit::editingFinished, this, &EffectsPanel::request_preview);
                editor = line;
                break;
            }
        }
        editor->setObjectName(QString::fromStdString("param_" + spec.name));
        editor->setToolTip(QString::fromStdString(spec.help));
        auto* label = new QLabel(display_name(spec.name), form_host_);
        label->setToolTip(QString::fromStdString(spec.help));
        label->setBuddy(editor);
        form_->addRow(label, editor);
        editors_[spec.name] = editor;
    }
}

std::vector<std::string> EffectsPanel::assignments() const {
    // Only values the user changed: some parameters are valid only together with others
    // (dither's colors needs a palette), as on the command line.
    std::map<std::string, std::string> defaults;
    if (const image::EffectInfo* info = image::find_effect(effect_.toStdString())) {
        for (const image::ParamSpec& spec : info->params) defaults[spec.name] = spec.default_value;
    }
    std::vector<std::string> out;
    for (const auto& [name, editor] : editors_) {
        QString value;
        if (auto* spin = qobject_cast<QSpinBox*>(editor)) value = QString::number(spin->value());
        if (auto* real = qobject_cast<QDoubleSpinBox*>(editor))
            value = QString::number(real->value());
        if (auto* check = qobject_cast<QCheckBox*>(editor))
            value = check->isChecked() ? "true" : "false";
        if (auto* combo = qobject_cast<QComboBox*>(editor)) value = combo->currentData().toString();
        if (auto* line = qobject_cast<QLineEdit*>(editor)) value = line->text();
        const std::string text = value.toStdString();
        const auto def = defaults.find(name);
        const bool same_number =
            def != defaults.end() && !text.empty() &&
            QString::fromStdString(def->second).toDouble() == value.toDouble() &&
            (qobject_cast<QSpinBox*>(editor) || qobject_cast<QDoubleSpinBox*>(editor));
        if (def != defaults.end() && (def->second == text || same_number)) continue;
        out.push_back(name + "=" + text);
    }
    return out;
}

void EffectsPanel::request_preview() {
    if (display_.empty()) return;
    const int generation = ++generation_;
    auto job = [name = effect_.toStdString(), assignments = assignments(), rgb = display_,
                matte = matte_, target = target().toStdString()] {
        return run_effect(name, assignments, rgb, matte, target);
    };
    status_->setText(tr("Rendering preview…"));
    engine::when_finished(
        this, engine_.preview(kPreviewChannel, job), [this, generation](Result<cv::Mat> out) {
            if (generation != generation_) return;
            if (!out) {
                if (out.error().kind != ErrorKind::Superseded)
                    show_problem(QString::fromStdString(out.message()));
                return;
            }
            preview_image_ = to_qimage(*out);
            status_->setStyleSheet(QString());
            preview_label_->setText(QString());
            preview_label_->setPixmap(
                QPixmap::fromImage(preview_image_)
                    .scaled(preview_label_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
            status_->setText(tr("%1 × %2 preview").arg(out->cols).arg(out->rows));
            emit preview_ready();
            emit canvas_preview_changed();
        });
}

void EffectsPanel::render_thumbnails() {
    thumbnails_ready_ = 0;
    const int generation = ++thumbnail_generation_;
    for (int row = 0; row < strip_->count(); ++row) strip_->item(row)->setIcon(QIcon());
    if (display_.empty()) return;
    const cv::Mat small = image::downscale_for_interactive(display_, kThumbnailLongSide);
    const auto& catalogue = image::effect_catalogue();
    for (int i = 0; i < int(catalogue.size()); ++i) {
        const std::string name = catalogue[size_t(i)].name;
        auto job = [name, small] { return run_effect(name, {}, small, cv::Mat(), "all"); };
        engine::when_finished(this, engine_.preview(kThumbnailChannel + i, job),
                              [this, i, generation](Result<cv::Mat> out) {
                                  if (!out || generation != thumbnail_generation_) return;
                                  if (QListWidgetItem* item = strip_->item(i))
                                      item->setIcon(QIcon(QPixmap::fromImage(to_qimage(*out))));
                                  if (++thumbnails_ready_ == strip_->count())
                                      emit thumbnails_done();
                              });
    }
}

void EffectsPanel::export_result(const QString& path) {
    if (full_.empty()) {
        emit export_finished(tr("No image"));
        return;
    }
    auto job = [name = effect_.toStdString(), assignments = assignments(), rgb = full_,
                matte = matte_, target = target().toStdString(),
                path = path.toStdString()]() -> Result<cv::Mat> {
        auto out = run_effect(name, assignments, rgb, matte, target);
        if (!out) return out;
        if (auto written = io::write_png(path, *out); !written) return written.error();
        return out;
    };
    status_->setText(tr("Exporting at full resolution…"));
    engine::when_finished(this, engine_.preview(kExportChannel, job, engine::Stage::Export),
                          [this](Result<cv::Mat> out) {
                              const QString error =
                                  out ? QString() : QString::fromStdString(out.message());
                              status_->setText(error.isEmpty() ? tr("Exported") : error);
                              emit export_finished(error);
                          });
}

}  // namespace ps::ui
