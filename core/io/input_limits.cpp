// The shared input validation (see input_limits.h and docs/limits.md).
#include "io/input_limits.h"

#include <QList>
#include <QString>

#include <cmath>
#include <sstream>

namespace ps::io {
namespace {

Error invalid(const std::string& what) {
    return make_error(ErrorKind::InvalidArgument, what);
}

std::string number(double value) {
    std::ostringstream text;
    text << value;
    return text.str();
}

std::string box_text(const std::array<double, 4>& box) {
    return "[" + number(box[0]) + ", " + number(box[1]) + ", " + number(box[2]) + ", " +
           number(box[3]) + "]";
}

// A name shown in a message with its control characters visible ("a\nb" -> a\u000a b).
std::string escaped(const QString& name) {
    QString out;
    for (const QChar c : name) {
        if (c.category() == QChar::Other_Control)
            out += QString("\\u%1").arg(c.unicode(), 4, 16, QChar('0'));
        else
            out += c;
    }
    if (out.size() > 60) out = out.left(57) + "...";
    return out.toStdString();
}

}  // namespace

Status check_prompt_shape(const PromptGeometry& prompt) {
    if (prompt.points.empty() && !prompt.box) return invalid("needs points, a box, or both");
    if (prompt.points.size() > kMaxPointsPerPrompt)
        return invalid("has " + std::to_string(prompt.points.size()) + " points, more than the " +
                       std::to_string(kMaxPointsPerPrompt) + " a prompt may have");
    for (const auto& point : prompt.points)
        if (!std::isfinite(point[0]) || !std::isfinite(point[1]))
            return invalid("point coordinates must be finite numbers");
    if (const auto& box = prompt.box) {
        for (double v : *box)
            if (!std::isfinite(v)) return invalid("box coordinates must be finite numbers");
        if (!((*box)[0] < (*box)[2]) || !((*box)[1] < (*box)[3]))
            return invalid("box " + box_text(*box) +
                           " must be [x0, y0, x1, y1] with x0 < x1 and y0 < y1 (non-zero area)");
    }
    return Ok{};
}

Status check_prompt(const PromptGeometry& prompt, int width, int height) {
    if (auto shape = check_prompt_shape(prompt); !shape) return shape;
    const std::string image = std::to_string(width) + "×" + std::to_string(height) + " image";
    for (const auto& point : prompt.points) {
        if (point[0] < 0 || point[1] < 0 || point[0] > width || point[1] > height)
            return invalid("point (" + number(point[0]) + ", " + number(point[1]) +
                           ") is outside the " + image);
    }
    if (const auto& box = prompt.box) {
        if ((*box)[0] < 0 || (*box)[1] < 0 || (*box)[2] > width || (*box)[3] > height)
            return invalid("box " + box_text(*box) + " is outside the " + image);
    }
    return Ok{};
}

Result<std::string> check_label(const std::string& name) {
    const QString trimmed = QString::fromStdString(name).trimmed();
    if (trimmed.isEmpty()) return invalid("a label name must not be empty");
    for (const QChar c : trimmed) {
        if (c.category() == QChar::Other_Control)
            return invalid("label \"" + escaped(trimmed) +
                           "\" contains a control character (a newline or tab, say)");
    }
    const auto chars = trimmed.toUcs4().size();
    if (static_cast<size_t>(chars) > kMaxLabelChars)
        return invalid("label \"" + escaped(trimmed) + "\" has " + std::to_string(chars) +
                       " characters, more than " + std::to_string(kMaxLabelChars));
    return trimmed.toStdString();
}

}  // namespace ps::io
