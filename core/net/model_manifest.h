// The manifest of official checkpoints (models/manifest.json) as plain structs.
#pragma once

#include <QByteArray>
#include <QString>

#include <optional>
#include <vector>

#include "common/result.h"

namespace ps::net {

struct ModelEntry {
    QString name;    // shown to the user: "SAM ViT-B"
    QString family;  // sam_vit, mobile_sam, u2net
    QString arch;    // vit_b, vit_t, u2netp, ...
    QString file;    // plain file name to save under; never a path
    QString url;
    std::optional<qint64> size_bytes;  // absent where the publisher states no exact size
    std::optional<QString> sha256;     // 64 lower-case hex digits; absent where none is published
    std::optional<QString> md5;        // 32 lower-case hex digits, where that is all it gives
    QString notes;
};

// Reads and validates a manifest file. Errors name the file and the offending entry.
Result<std::vector<ModelEntry>> load_model_manifest(const QString& path);

// Same, from bytes already in memory; `source_name` is used in error messages.
Result<std::vector<ModelEntry>> parse_model_manifest(const QByteArray& json,
                                                     const QString& source_name);

}  // namespace ps::net
