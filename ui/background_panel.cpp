// Background panel: matte source -> refinement -> composite, each step off the GUI thread.
#include "background_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <opencv2/imgproc.hpp>

#include <mutex>
#include <string>

#include "display_names.h"
#include "engine/checkpoint_discovery.h"
#include "engine/engine.h"
#include "engine/future_watch.h"
#include "image/background.h"
#include "image/downscale.h"
#include "io/image_reader.h"
#include "io/image_writer.h"
#include "models/grabcut/grabcut_segmenter.h"

namespace ps::ui {
namespace {

constexpr int kPreviewLongSide = 1024;
// Item data of a checkpoint entry of "Matte from": the prefix, then the absolute path.
const QString kModelPrefix = QStringLiteral("model:");
constexpr int kMatteChannel = 800, kPreviewChannel = 801, kExportChannel = 802;

QImage to_qimage(const cv::Mat& rgb) {
    return QImage(rgb.data, rgb.cols, rgb.rows, int(rgb.step[0]), QImage::Format_RGB888).copy();
}

// GrabCut needs a prompt; without one, assume the subject fills the middle of the frame.
sam::SamPrompt centre_box(const cv::Mat& rgb) {
    sam::SamPrompt prompt;
    prompt.box =
        std::array<double, 4>{rgb.cols * 0.08, rgb.rows * 0.05, rgb.cols * 0.92, rgb.rows * 0.98};
    return prompt;
}

}  // namespace

struct Background {
    image::BackgroundKind kind = image::BackgroundKind::Transparent;
    cv::Scalar colour{255, 255, 255};
    std::string image_path;  // read on the worker, never on the GUI thread
};

namespace {

// The chosen background image, decoded once per path (previews recompose on every slider step).
Result<cv::Mat> background_image(const std::string& path) {
    static std::mutex mutex;
    static std::string cached_path;
    static cv::Mat cached;
    std::lock_guard<std::mutex> lock(mutex);
    if (path != cached_path) {
        auto read = io::read_rgb_image(path);
        if (!read) return read.error();
        cached = std::move(read.value());
        cached_path = path;
    }
    return cached;  // shared, read-only: remove_background only reads it
}

// The composite as the user chose it (core's one pipeline, shared with `remove-bg`).
Result<image::Cutout> compose(const cv::Mat& rgb, const cv::Mat& matte_u8,
                              const image::RefineOptions& options, const Background& background) {
    image::BackgroundOptions chosen{background.kind, background.colour, cv::Mat()};
    if (background.kind == image::BackgroundKind::Image) {
        if (background.image_path.empty()) {
            chosen.kind = image::BackgroundKind::Transparent;  // no image chosen yet
        } else {
            auto read = background_image(background.image_path);
            if (!read) return read.error();
            chosen.image = std::move(read.value());
        }
    }
    return image::remove_background(rgb, matte_u8, options, chosen);
}

// The mattes that need no model: the current SAM mask, or GrabCut on a centre box.
Result<cv::Mat> matte_without_model(const QString& source, const cv::Mat& rgb,
                                    const cv::Mat& sam_mask) {
    if (source == "sam") {
        if (sam_mask.empty()) {
            return make_error(ErrorKind::InvalidArgument,
                              "No SAM mask yet: click on the image (or accept an object) first");
        }
        cv::Mat resized;
        cv::resize(sam_mask, resized, rgb.size(), 0, 0, cv::INTER_LINEAR);
        return resized;
    }
    auto masks = grabcut::grabcut_segment(rgb, centre_box(rgb));
    if (!masks) return masks.error();
    return masks->masks.front();
}

}  // namespace

BackgroundPanel::BackgroundPanel(engine::Engine& engine, QWidget* parent)
    : QDockWidget(tr("Remove Background"), parent), engine_(engine) {
    setObjectName("background_panel");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    // One widget holds the controls so that set_unavailable greys them and their labels at once.
    controls_ = new QWidget(body);
    auto* controls_layout = new QVBoxLayout(controls_);
    controls_layout->setContentsMargins(0, 0, 0, 0);
    auto* form = new QFormLayout();
    source_ = new QComboBox(body);
    source_->setObjectName("matte_source");
    source_->addItem(tr("GrabCut (built-in)"), "grabcut");
    source_->addItem(tr("SAM mask"), "sam");
    form->addRow(tr("Matte from"), source_);
    hard_alpha_ = new QCheckBox(tr("hard edge"), body);
    hard_alpha_->setObjectName("hard_alpha");
    threshold_ = new QSlider(Qt::Horizontal, body);
    threshold_->setObjectName("threshold");
    threshold_->setRange(1, 99);
    threshold_->setValue(50);
    form->addRow(hard_alpha_, threshold_);
    grow_ = new QSpinBox(body);
    grow_->setObjectName("grow");
    grow_->setRange(-100, 100);
    grow_->setSuffix(" px");
    form->addRow(tr("Grow / shrink"), grow_);
    feather_ = new QSpinBox(body);
    feather_->setObjectName("feather");
    feather_->setRange(0, 100);
    feather_->setSuffix(" px");
    form->addRow(tr("Feather"), feather_);
    fill_holes_ = new QCheckBox(tr("fill holes"), body);
    fill_holes_->setObjectName("fill_holes");
    specks_ = new QSpinBox(body);
    specks_->setObjectName("specks");
    specks_->setRange(0, 1000000);
    specks_->setSuffix(" px²");
    form->addRow(fill_holes_, specks_);
    edge_refine_ = new QCheckBox(tr("edge-aware refinement"), body);
    edge_refine_->setObjectName("edge_refine");
    decontaminate_ = new QCheckBox(tr("decontaminate colours"), body);
    decontaminate_->setObjectName("decontaminate");
    form->addRow(edge_refine_, decontaminate_);
    background_ = new QComboBox(body);
    background_->setObjectName("background_kind");
    background_->addItem(tr("Transparent"), "transparent");
    background_->addItem(tr("Colour"), "colour");
    background_->addItem(tr("Blurred original"), "blurred");
    background_->addItem(tr("Image"), "image");
    form->addRow(tr("Background"), background_);
    colour_ = new QLineEdit("#ffffff", body);
    colour_->setObjectName("background_colour");
    form->addRow(tr("Colour"), colour_);
    background_image_ = new QLineEdit(body);
    background_image_->setObjectName("background_image");
    background_image_->setPlaceholderText(tr("path of a background image"));
    form->addRow(tr("Image"), background_image_);
    controls_layout->addLayout(form);
    on_canvas_ = new QCheckBox(tr("Before / after on the canvas"), body);
    on_canvas_->setObjectName("background_on_canvas");
    on_canvas_->setToolTip(
        tr("Show the result on the main canvas; drag the line there to compare"));
    controls_layout->addWidget(on_canvas_);
    split_ = new QSlider(Qt::Horizontal, body);
    split_->setObjectName("split");
    split_->setRange(0, 100);
    split_->setValue(50);
    split_->setToolTip(tr("Before / after"));
    controls_layout->addWidget(split_);
    layout->addWidget(controls_);
    preview_label_ = new QLabel(body);
    preview_label_->setObjectName("background_preview");
    preview_label_->setMinimumSize(160, 100);
    preview_label_->setAlignment(Qt::AlignCenter);
    preview_label_->setWordWrap(true);  // a problem shows here in place of the preview
    layout->addWidget(preview_label_, 1);
    status_ = new QLabel(body);
    status_->setObjectName("background_status");
    status_->setWordWrap(true);
    layout->addWidget(status_);
    setWidget(body);

    connect(source_, &QComboBox::currentIndexChanged, this, &BackgroundPanel::source_changed);
    // A control the user touches means "show me the result": on the canvas, where it is large.
    connect(source_, &QComboBox::activated, this, &BackgroundPanel::user_changed_something);
    connect(background_, &QComboBox::activated, this, &BackgroundPanel::user_changed_something);
    for (QCheckBox* box : {hard_alpha_, fill_holes_, edge_refine_, decontaminate_}) {
        connect(box, &QCheckBox::clicked, this, &BackgroundPanel::user_changed_something);
    }
    // Only changes made from the keyboard or the mouse on the control itself count, not focus
    // changes (editingFinished) or values set by the program.
    for (QSpinBox* spin : {grow_, feather_, specks_}) {
        connect(spin, &QSpinBox::valueChanged, this, [this, spin] {
            if (spin->hasFocus()) user_changed_something();
        });
    }
    connect(threshold_, &QSlider::valueChanged, this, [this] {
        if (threshold_->hasFocus() || threshold_->isSliderDown()) user_changed_something();
    });
    connect(on_canvas_, &QCheckBox::toggled, this, &BackgroundPanel::canvas_preview_changed);
    connect(split_, &QSlider::valueChanged, this, &BackgroundPanel::split_changed);
    for (QCheckBox* box : {hard_alpha_, fill_holes_, edge_refine_, decontaminate_}) {
        connect(box, &QCheckBox::toggled, this, &BackgroundPanel::request_preview);
    }
    for (QSpinBox* spin : {grow_, feather_, specks_}) {
        connect(spin, &QSpinBox::valueChanged, this, &BackgroundPanel::request_preview);
    }
    connect(threshold_, &QSlider::valueChanged, this, &BackgroundPanel::request_preview);
    connect(background_, &QComboBox::currentIndexChanged, this, &BackgroundPanel::request_preview);
    connect(colour_, &QLineEdit::editingFinished, this, &BackgroundPanel::request_preview);
    connect(background_image_, &QLineEdit::editingFinished, this,
            &BackgroundPanel::request_preview);
    connect(split_, &QSlider::valueChanged, this, &BackgroundPanel::show_preview);
}

BackgroundPanel::~BackgroundPanel() = default;

QString BackgroundPanel::source() const {
    const QString data = source_->currentData().toString();
    return data.startsWith(kModelPrefix) ? QStringLiteral("model") : data;
}
QString BackgroundPanel::model_path() const {
    const QString data = source_->currentData().toString();
    return data.startsWith(kModelPrefix) ? data.mid(kModelPrefix.size()) : QString();
}
void BackgroundPanel::set_source(const QString& source) {
    if (source != "model") {
        source_->setCurrentIndex(source_->findData(source));
        return;
    }
    int index =
        last_model_path_.isEmpty() ? -1 : source_->findData(kModelPrefix + last_model_path_);
    for (int i = 0; index < 0 && i < source_->count(); ++i)
        if (source_->itemData(i).toString().startsWith(kModelPrefix)) index = i;
    if (index >= 0) source_->setCurrentIndex(index);
}

int BackgroundPanel::add_model_entry(const QString& path, const QString& label,
                                     const QString& tooltip) {
    int index = source_->findData(kModelPrefix + path);
    if (index < 0) {
        source_->addItem(label, kModelPrefix + path);
        index = source_->count() - 1;
    } else {
        source_->setItemText(index, label);
    }
    source_->setItemData(index, tooltip, Qt::ToolTipRole);
    return index;
}

void BackgroundPanel::add_matting_models(const std::vector<engine::DiscoveredCheckpoint>& found) {
    for (const auto& checkpoint : found) {
        if (!checkpoint.usable() || !engine::is_matting_family(checkpoint.family.toStdString()))
            continue;
        add_model_entry(checkpoint.path,
                        matting_model_label(checkpoint.family, checkpoint.arch,
                                            QFileInfo(checkpoint.path).fileName(),
                                            checkpoint.size_bytes, checkpoint.input_size,
                                            checkpoint.input_height, checkpoint.any_size),
                        checkpoint.description + "\n" + QDir::toNativeSeparators(checkpoint.path));
    }
}

void BackgroundPanel::set_matting_checkpoint(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    const int index = source_->findData(kModelPrefix + absolute) >= 0
                          ? source_->findData(kModelPrefix + absolute)
                          : add_model_entry(absolute, QFileInfo(path).fileName(),
                                            QDir::toNativeSeparators(absolute));
    if (source_->currentIndex() == index) {
        source_changed();  // chosen already: (re)load if it is not loaded
    } else {
        source_->setCurrentIndex(index);
    }
}

void BackgroundPanel::source_changed() {
    if (source() == "model") {
        last_model_path_ = model_path();
        if (!loaded_.count(model_path())) {
            load_chosen_model();
            return;
        }
    }
    request_matte();
}
void BackgroundPanel::set_background(const QString& kind) {
    background_->setCurrentIndex(background_->findData(kind));
}
int BackgroundPanel::split_percent() const {
    return split_->value();
}
void BackgroundPanel::set_split_percent(int percent) {
    const QSignalBlocker quiet(split_);  // the canvas moved it: no echo back
    split_->setValue(percent);
    show_preview();
}
bool BackgroundPanel::shows_on_canvas() const {
    return on_canvas_->isChecked();
}
void BackgroundPanel::set_shows_on_canvas(bool on) {
    on_canvas_->setChecked(on);
}
void BackgroundPanel::user_changed_something() {
    on_canvas_->setChecked(true);
}

void BackgroundPanel::show_problem(const QString& message) {
    // The old result must not stay on screen as if it answered the new settings.
    status_->setText(message);
    status_->setStyleSheet("color: #c0392b");
    composite_display_.release();
    result_image_ = QImage();
    preview_image_ = QImage();
    preview_label_->setPixmap(QPixmap());
    preview_label_->setText(message);
    emit canvas_preview_changed();
}
QString BackgroundPanel::status_text() const {
    return status_->text();
}

image::RefineOptions BackgroundPanel::refine_options() const {
    image::RefineOptions o;
    o.hard_alpha = hard_alpha_->isChecked();
    o.threshold_level = threshold_->value() / 100.0;
    o.grow_px = grow_->value();
    o.feather_sigma_px = feather_->value();
    o.fill_holes = fill_holes_->isChecked();
    o.min_speck_area_px = specks_->value();
    o.guided_radius_px = edge_refine_->isChecked() ? 8 : 0;
    o.decontaminate = decontaminate_->isChecked();
    return o;
}

void BackgroundPanel::set_image(int engine_image_id) {
    image_id_ = engine_image_id;
    full_ = engine_image_id > 0 ? engine_.full_image(engine_image_id) : cv::Mat();
    display_ =
        full_.empty() ? cv::Mat() : image::downscale_for_interactive(full_, kPreviewLongSide);
    matte_display_.release();
    composite_display_.release();
    result_image_ = QImage();
    // Answers still coming for the image before are not this one's (or, without one, anyone's).
    ++matte_generation_;
    ++preview_generation_;
    preview_image_ = QImage();
    preview_label_->setPixmap(QPixmap());
    if (display_.empty()) {
        preview_label_->setText(unavailable_reason_);
        status_->setStyleSheet(QString());
        status_->setText(available() ? tr("No image open") : QString());
    }
    emit canvas_preview_changed();
    request_matte();
}

void BackgroundPanel::set_unavailable(const QString& reason) {
    unavailable_reason_ = reason;
    controls_->setEnabled(available());
    if (!available()) {
        set_image(0);
    } else if (display_.empty()) {
        preview_label_->setText(QString());
        status_->setStyleSheet(QString());
        status_->setText(QString());
    }
}

void BackgroundPanel::set_sam_mask(const cv::Mat& mask_u8) {
    sam_mask_ = mask_u8;
    if (source() == "sam") request_matte();
}

void BackgroundPanel::load_chosen_model() {
    const QString path = model_path();
    status_->setText(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    // The engine's device and precision settings, its locks and its metrics: as SAM's models.
    engine::when_finished(
        this, engine_.load_model(path.toStdString()), [this, path](Result<engine::ModelInfo> info) {
            if (info)
                if (auto ok = engine::require_family(*info, "matting"); !ok) info = ok.error();
            if (!info) {
                if (model_path() == path) status_->setText(QString::fromStdString(info.message()));
                return;
            }
            loaded_[path] = info->id;
            const QString description =
                QFileInfo(path).fileName() + " · " + QString::fromStdString(info->device);
            const int index = source_->findData(kModelPrefix + path);
            if (index >= 0 && source_->itemText(index) == QFileInfo(path).fileName()) {
                // Listed by set_matting_checkpoint without discovery's details: name it now.
                source_->setItemText(
                    index,
                    matting_model_label(QString::fromStdString(info->family),
                                        QString::fromStdString(info->arch),
                                        QFileInfo(path).fileName(), QFileInfo(path).size(), 0));
            }
            emit model_ready(description);
            if (model_path() != path) return;  // another entry was chosen meanwhile
            status_->setText(
                tr("%1 ready: %2").arg(QString::fromStdString(info->arch), description));
            request_matte();
        });
}

void BackgroundPanel::matte_then(int longest_side_px, int channel,
                                 std::function<void(Result<cv::Mat>)> done) {
    if (source() != "model") {
        const cv::Mat rgb = longest_side_px > 0 ? display_ : full_;
        auto job = [source = source(), rgb, sam = sam_mask_] {
            return matte_without_model(source, rgb, sam);
        };
        engine::when_finished(this, engine_.preview(channel, job), std::move(done));
        return;
    }
    const auto loaded = loaded_.find(model_path());
    if (loaded == loaded_.end()) {
        done(make_error(
            ErrorKind::InvalidArgument,
            "no background-removal checkpoint loaded" +
                (model_path().isEmpty()
                     ? std::string()
                     : " (" + QFileInfo(model_path()).fileName().toStdString() + " is loading)")));
        return;
    }
    engine::MatteOptions options;
    options.longest_side_px = longest_side_px;
    engine::when_finished(this, engine_.matte(image_id_, loaded->second, options),
                          [done = std::move(done)](Result<engine::MatteResult> matte) {
                              if (!matte) return done(matte.error());
                              done(std::move(matte->matte));
                          });
}

void BackgroundPanel::request_matte() {
    if (display_.empty()) return;
    const int generation = ++matte_generation_;
    status_->setText(tr("Computing the matte…"));
    matte_then(kPreviewLongSide, kMatteChannel, [this, generation](Result<cv::Mat> matte) {
        if (generation != matte_generation_) return;
        if (!matte) {
            if (matte.error().kind != ErrorKind::Superseded)
                show_problem(QString::fromStdString(matte.message()));
            return;
        }
        matte_display_ = *matte;
        emit matte_ready();
        request_preview();
    });
}

Background BackgroundPanel::chosen_background() const {
    const QString kind = background_->currentData().toString();
    Background background;
    background.kind = kind == "colour"    ? image::BackgroundKind::Colour
                      : kind == "blurred" ? image::BackgroundKind::Blurred
                      : kind == "image"   ? image::BackgroundKind::Image
                                          : image::BackgroundKind::Transparent;
    background.image_path = background_image_->text().toStdString();
    const QColor colour(colour_->text());
    if (colour.isValid())
        background.colour = cv::Scalar(colour.red(), colour.green(), colour.blue());
    return background;
}

void BackgroundPanel::request_preview() {
    if (display_.empty() || matte_display_.empty()) return;
    const int generation = ++preview_generation_;
    const Background background = chosen_background();
    auto job = [rgb = display_, matte = matte_display_, options = refine_options(),
                background]() -> Result<cv::Mat> {
        auto out = compose(rgb, matte, options, background);
        if (!out) return out.error();
        return out->image.channels() == 4 ? image::over_checkerboard(out->image) : out->image;
    };
    engine::when_finished(this, engine_.preview(kPreviewChannel, job),
                          [this, generation](Result<cv::Mat> out) {
                              if (generation != preview_generation_) return;
                              if (!out) {
                                  if (out.error().kind != ErrorKind::Superseded)
                                      show_problem(QString::fromStdString(out.message()));
                                  return;
                              }
                              composite_display_ = *out;
                              result_image_ = to_qimage(composite_display_);
                              status_->setStyleSheet(QString());
                              status_->setText(tr("Preview %1 × %2").arg(out->cols).arg(out->rows));
                              preview_label_->setText(QString());
                              show_preview();
                              emit preview_ready();
                              emit canvas_preview_changed();
                          });
}

void BackgroundPanel::show_preview() {
    if (composite_display_.empty()) return;
    // Before | after: the original left of the split line, the result right of it.
    cv::Mat split = composite_display_.clone();
    const int x = display_.cols * split_->value() / 100;
    if (x > 0) display_.colRange(0, x).copyTo(split.colRange(0, x));
    if (x > 0 && x < split.cols) split.col(x).setTo(cv::Scalar(255, 200, 0));
    preview_image_ = to_qimage(split);
    preview_label_->setPixmap(
        QPixmap::fromImage(preview_image_)
            .scaled(preview_label_->size(), Qt::KeepAspectRatio, Qt::SmoothTransformation));
}

void BackgroundPanel::export_result(const QString& path, const QString& matte_path) {
    if (full_.empty()) {
        emit export_finished(tr("No image"));
        return;
    }
    status_->setText(tr("Exporting at full resolution…"));
    const auto finish = [this](const Status& written) {
        const QString error = written ? QString() : QString::fromStdString(written.message());
        status_->setText(error.isEmpty() ? tr("Exported") : error);
        emit export_finished(error);
    };
    // The matte at full resolution, then the same pipeline as the preview, written as chosen.
    matte_then(
        0, kExportChannel,
        [this, finish, rgb = full_, options = refine_options(), background = chosen_background(),
         path = path.toStdString(), matte_path = matte_path.toStdString()](Result<cv::Mat> matte) {
            if (!matte) return finish(matte.error());
            auto job = [rgb, matte = *matte, options, background, path,
                        matte_path]() -> Result<cv::Mat> {
                auto out = compose(rgb, matte, options, background);
                if (!out) return out.error();
                const Status written = out->image.channels() == 4
                                           ? io::write_rgba_png(path, out->image)
                                           : io::write_png(path, out->image);
                if (!written) return written.error();
                if (!matte_path.empty())
                    if (auto ok = io::write_png(matte_path, out->matte); !ok) return ok.error();
                return out->image;
            };
            engine::when_finished(this, engine_.preview(kExportChannel, job, engine::Stage::Export),
                                  [finish](Result<cv::Mat> out) {
                                      finish(out ? Status(Ok{}) : Status(out.error()));
                                  });
        });
}

}  // namespace ps::ui
