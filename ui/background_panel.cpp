// Background panel: matte source -> refinement -> composite, each step off the GUI thread.
#include "background_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSlider>
#include <QSpinBox>
#include <QVBoxLayout>

#include <mutex>
#include <opencv2/imgproc.hpp>

#include "engine/engine.h"
#include "future_watch.h"
#include "image/composite.h"
#include "image/downscale.h"
#include "io/image_writer.h"
#include "io/image_reader.h"
#include "models/grabcut/grabcut_segmenter.h"
#include "models/u2net/u2net_model.h"

namespace ps::ui {
namespace {

constexpr int kPreviewLongSide = 1024;
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
    QString kind;
    cv::Scalar colour;
    std::string image_path;  // read on the worker, never on the GUI thread
};

namespace {

// The composite as the user chose it; "transparent" returns RGBA (straight alpha).
cv::Mat compose(const cv::Mat& rgb, const cv::Mat& matte_u8, const image::RefineOptions& options,
                const Background& background) {
    const image::RefinedMatte refined =
        image::refine_matte(image::matte_from_u8(matte_u8), rgb, options);
    if (background.kind == "colour")
        return image::on_colour(refined.foreground, refined.matte, background.colour);
    if (background.kind == "blurred") {
        return image::on_blurred(rgb, refined.matte, std::max(4.0, rgb.cols / 80.0),
                                 refined.foreground);
    }
    if (background.kind == "image" && !background.image_path.empty()) {
        auto image = io::read_rgb_image(background.image_path);
        if (!image) throw std::invalid_argument(image.message());
        return image::on_image(refined.foreground, refined.matte, *image);
    }
    return image::rgba_straight(refined.foreground, refined.matte);
}

// RGBA over a checkerboard, so transparency is visible in the preview.
cv::Mat over_checkerboard(const cv::Mat& rgba) {
    cv::Mat out(rgba.size(), CV_8UC3);
    for (int y = 0; y < rgba.rows; ++y) {
        const auto* in = rgba.ptr<cv::Vec4b>(y);
        auto* o = out.ptr<cv::Vec3b>(y);
        for (int x = 0; x < rgba.cols; ++x) {
            const int check = ((x / 12 + y / 12) % 2) ? 200 : 240;
            const int a = in[x][3];
            for (int c = 0; c < 3; ++c)
                o[x][c] = uchar((in[x][c] * a + check * (255 - a) + 127) / 255);
        }
    }
    return out;
}

Result<cv::Mat> matte_for(
    const QString& source, const cv::Mat& rgb, const cv::Mat& sam_mask,
    const std::shared_ptr<std::pair<std::mutex, std::unique_ptr<u2net::U2NetModel>>>& model) {
    if (source == "sam") {
        if (sam_mask.empty()) {
            return make_error(ErrorKind::InvalidArgument,
                              "No SAM mask yet: click on the image (or accept an object) first");
        }
        cv::Mat resized;
        cv::resize(sam_mask, resized, rgb.size(), 0, 0, cv::INTER_LINEAR);
        return resized;
    }
    if (source == "u2net") {
        std::lock_guard<std::mutex> lock(model->first);  // one thread at a time per model
        if (!model->second)
            return make_error(ErrorKind::InvalidArgument, "no U²-Net checkpoint loaded");
        auto out = model->second->run(rgb);
        if (!out) return out.error();
        return out->matte;
    }
    auto masks = grabcut::grabcut_segment(rgb, centre_box(rgb));
    if (!masks) return masks.error();
    return masks->masks.front();
}

}  // namespace

struct BackgroundPanel::ModelSlot : std::pair<std::mutex, std::unique_ptr<u2net::U2NetModel>> {};

BackgroundPanel::BackgroundPanel(engine::Engine& engine, QWidget* parent)
    : QDockWidget(tr("Remove Background"), parent),
      engine_(engine),
      model_(std::make_shared<ModelSlot>()) {
    setObjectName("background_panel");
    auto* body = new QWidget(this);
    auto* layout = new QVBoxLayout(body);
    auto* form = new QFormLayout();
    source_ = new QComboBox(body);
    source_->setObjectName("matte_source");
    source_->addItem(tr("GrabCut (built-in)"), "grabcut");
    source_->addItem(tr("SAM mask"), "sam");
    source_->addItem(tr("U²-Net"), "u2net");
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
    layout->addLayout(form);
    on_canvas_ = new QCheckBox(tr("Before / after on the canvas"), body);
    on_canvas_->setObjectName("background_on_canvas");
    on_canvas_->setToolTip(
        tr("Show the result on the main canvas; drag the line there to compare"));
    layout->addWidget(on_canvas_);
    split_ = new QSlider(Qt::Horizontal, body);
    split_->setObjectName("split");
    split_->setRange(0, 100);
    split_->setValue(50);
    split_->setToolTip(tr("Before / after"));
    layout->addWidget(split_);
    preview_label_ = new QLabel(body);
    preview_label_->setObjectName("background_preview");
    preview_label_->setMinimumSize(160, 100);
    preview_label_->setAlignment(Qt::AlignCenter);
    layout->addWidget(preview_label_, 1);
    status_ = new QLabel(body);
    status_->setObjectName("background_status");
    status_->setWordWrap(true);
    layout->addWidget(status_);
    setWidget(body);

    connect(source_, &QComboBox::currentIndexChanged, this, &BackgroundPanel::request_matte);
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
    return source_->currentData().toString();
}
void BackgroundPanel::set_source(const QString& source) {
    source_->setCurrentIndex(source_->findData(source));
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

void BackgroundPanel::set_image(const cv::Mat& full_rgb) {
    full_ = full_rgb;
    display_ =
        full_rgb.empty() ? cv::Mat() : image::downscale_for_interactive(full_rgb, kPreviewLongSide);
    matte_display_.release();
    composite_display_.release();
    result_image_ = QImage();
    emit canvas_preview_changed();
    request_matte();
}

void BackgroundPanel::set_sam_mask(const cv::Mat& mask_u8) {
    sam_mask_ = mask_u8;
    if (source() == "sam") request_matte();
}

void BackgroundPanel::set_u2net_checkpoint(const QString& path) {
    status_->setText(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    auto slot = model_;
    auto future = engine_.scheduler().submit<QString>(
        engine::Priority::Interactive, nullptr, [slot, path]() -> Result<QString> {
            auto model = u2net::U2NetModel::load(path.toStdString());
            if (!model) return model.error();
            std::lock_guard<std::mutex> lock(slot->first);
            slot->second = std::move(model.value());
            return QFileInfo(path).fileName() + " · " +
                   QString::fromStdString(slot->second->device_name());
        });
    when_finished(this, future, [this](Result<QString> description) {
        if (!description) {
            status_->setText(QString::fromStdString(description.message()));
            return;
        }
        status_->setText(tr("U²-Net ready: %1").arg(*description));
        emit model_ready(*description);
        if (source() == "u2net") request_matte();
    });
}

void BackgroundPanel::request_matte() {
    if (display_.empty()) return;
    const int generation = ++matte_generation_;
    status_->setText(tr("Computing the matte…"));
    auto job =
        [source = source(), rgb = display_, sam = sam_mask_,
         model =
             std::static_pointer_cast<std::pair<std::mutex, std::unique_ptr<u2net::U2NetModel>>>(
                 model_)] { return matte_for(source, rgb, sam, model); };
    when_finished(this, engine_.preview(kMatteChannel, job),
                  [this, generation](Result<cv::Mat> matte) {
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
    Background background{background_->currentData().toString(), cv::Scalar(255, 255, 255),
                          background_image_->text().toStdString()};
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
        try {
            cv::Mat out = compose(rgb, matte, options, background);
            return out.channels() == 4 ? over_checkerboard(out) : out;
        } catch (const std::invalid_argument& e) {
            return make_error(ErrorKind::InvalidArgument, e.what());
        }
    };
    when_finished(this, engine_.preview(kPreviewChannel, job),
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
    const Background background = chosen_background();
    auto job =
        [source = source(), rgb = full_, sam = sam_mask_, options = refine_options(), background,
         model =
             std::static_pointer_cast<std::pair<std::mutex, std::unique_ptr<u2net::U2NetModel>>>(
                 model_),
         path = path.toStdString(), matte_path = matte_path.toStdString()]() -> Result<cv::Mat> {
        auto matte = matte_for(source, rgb, sam, model);  // the matte at full resolution
        if (!matte) return matte;
        try {
            const cv::Mat out = compose(rgb, *matte, options, background);
            const Status written =
                out.channels() == 4 ? io::write_rgba_png(path, out) : io::write_png(path, out);
            if (!written) return written.error();
            if (!matte_path.empty()) {
                const image::RefinedMatte refined =
                    image::refine_matte(image::matte_from_u8(*matte), rgb, options);
                if (auto ok = io::write_png(matte_path, image::matte_to_u8(refined.matte)); !ok)
                    return ok.error();
            }
            return out;
        } catch (const std::invalid_argument& e) {
            return make_error(ErrorKind::InvalidArgument, e.what());
        }
    };
    status_->setText(tr("Exporting at full resolution…"));
    when_finished(this, engine_.preview(kExportChannel, job, engine::Stage::Export),
                  [this](Result<cv::Mat> out) {
                      const QString error = out ? QString() : QString::fromStdString(out.message());
                      status_->setText(error.isEmpty() ? tr("Exported") : error);
                      emit export_finished(error);
                  });
}

}  // namespace ps::ui
