// Private JSON helpers of the annotation module shared by the project files and the COCO and
// LabelMe readers and writers (Qt's JSON types).
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>

#include <optional>
#include <string>

#include "annotation/annotation.h"
#include "common/result.h"

namespace ps::annotation {

// A JSON number that is a whole int; nullopt otherwise.
std::optional<int> json_integer(const QJsonValue& value);

// An image size read from a file, within the image reader's pixel limit (PHOTOSYNTH_MAX_PIXELS):
// masks of that size are allocated whole, so a hostile size must not reach cv::Mat.
Status check_image_size(int height, int width, const std::string& context);

// COCO's RLE object {"size": [h, w], "counts": "<compressed>"}.
QJsonObject rle_to_json(const Rle& rle);
// Reads {"size", "counts"} with counts a compressed string or a list of run lengths.
Result<Rle> rle_from_json(const QJsonValue& value, const std::string& context);

QJsonArray labels_to_json_array(const LabelSet& labels);
Result<LabelSet> labels_from_json_value(const QJsonValue& value, const std::string& context);
// Non-empty, unique names.
Status validate_labels(const LabelSet& labels, const std::string& context);

}  // namespace ps::annotation
