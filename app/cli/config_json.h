// The detected SAM configuration as JSON, for `info --json` and segment's result.json.
#pragma once

#include <QJsonObject>

#include "models/sam/sam_config.h"

namespace ps::cli {

QJsonObject to_json(const sam::SamConfig& config);

}  // namespace ps::cli
