// Detected model configurations as JSON, for `info --json` and segment's result.json.
#pragma once

#include <QJsonObject>

#include "models/birefnet/birefnet_config.h"
#include "models/inspyrenet/inspyrenet_config.h"
#include "models/isnet/isnet_config.h"
#include "models/sam/sam_config.h"
#include "models/sam2/sam2_config.h"
#include "models/u2net/u2net_config.h"

namespace ps::cli {

QJsonObject to_json(const sam::SamConfig& config);
QJsonObject to_json(const u2net::U2NetConfig& config);
QJsonObject to_json(const isnet::IsNetConfig& config);
QJsonObject to_json(const inspyrenet::InSPyReNetConfig& config);
QJsonObject to_json(const birefnet::BiRefNetConfig& config);
QJsonObject to_json(const sam2::Sam2Config& config);

}  // namespace ps::cli
