// Checkpoint discovery: list the model folders, load each file's tensors (memory-mapped, so only
// the headers and shapes are read) and classify it with the same code that will later load it.
//
// ATen-bearing headers come before any Qt header: Qt's `slots` macro breaks ATen's headers.
#include "io/checkpoint.h"
#include "models/sam/sam_config.h"

#include "engine/checkpoint_discovery.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSet>
#include <QStandardPaths>

#include <exception>
#include <string>

namespace ps::engine {
namespace {

const QStringList kCheckpointPatterns = {"*.pth", "*.pt", "*.safetensors"};

std::int64_t floating_elements(const io::TensorMap& tensors) {
    std::int64_t count = 0;
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) count += tensor.numel();
    }
    return count;
}

// U²-Net and U²-NetP share every key; they differ in the width of the RSU blocks' middle
// channels (u2net.py: RSU7(in_ch, 32, 64) for U2NET, RSU7(in_ch, 16, 64) for U2NETP).
QString u2net_arch(const io::TensorMap& tensors) {
    const auto it = tensors.find("stage1.rebnconv1.conv_s1.weight");
    if (it == tensors.end() || it->second.dim() != 4) return "u2net_custom";
    switch (it->second.size(0)) {
        case 32:
            return "u2net";
        case 16:
            return "u2netp";
        default:
            return "u2net_custom";
    }
}

void classify(const io::Checkpoint& checkpoint, const std::string& label,
              DiscoveredCheckpoint& out) {
    auto config = sam::infer_sam_config(checkpoint.tensors, label);
    if (config) {
        out.family = config->encoder == sam::EncoderKind::TinyViT ? "mobile_sam" : "sam";
        out.arch = QString::fromStdString(config->arch);
        out.parameter_count = config->parameter_count;
        out.description = QString::fromStdString(config->describe());
        return;
    }
    // infer_sam_config is the one place that recognises foreign state dicts; its verdict is
    // reused rather than duplicating the key tests here.
    if (config.message().find("U²-Net") != std::string::npos) {
        out.family = "u2net";
        out.arch = u2net_arch(checkpoint.tensors);
        out.parameter_count = floating_elements(checkpoint.tensors);
        out.description = QStringLiteral("%1: U²-Net background removal; %2 parameters")
                              .arg(out.arch)
                              .arg(out.parameter_count);
        return;
    }
    out.error = QString::fromStdString(config.message());
}

QString canonical_or_absolute(const QFileInfo& info) {
    const QString canonical = info.canonicalFilePath();
    return canonical.isEmpty() ? info.absoluteFilePath() : canonical;
}

}  // namespace

DiscoveredCheckpoint inspect_checkpoint(const QString& path) {
    const QFileInfo info(path);
    DiscoveredCheckpoint out;
    out.path = canonical_or_absolute(info);
    out.size_bytes = info.size();
    out.family = "unknown";
    const std::string label = info.fileName().toStdString();
    try {
        // Shapes only: a scan of a models folder must not read every (multi-GB) file in full.
        auto checkpoint =
            io::load_checkpoint(out.path.toStdString(), io::TensorStorage::MappedForInspection);
        if (!checkpoint) {
            out.error = QString::fromStdString(checkpoint.message());
            return out;
        }
        classify(*checkpoint, label, out);
    } catch (const std::exception& e) {
        // The loader and infer_sam_config return errors; this guards a scan of a whole folder
        // against anything they missed (a c10::Error from an odd tensor, std::bad_alloc).
        out.family = "unknown";
        out.error = QString::fromStdString(label + ": " + e.what());
    }
    return out;
}

std::vector<DiscoveredCheckpoint> discover_checkpoints(const std::vector<QString>& folders) {
    std::vector<DiscoveredCheckpoint> found;
    QSet<QString> seen_files;
    QSet<QString> seen_folders;
    for (const QString& folder : folders) {
        const QFileInfo folder_info(folder);
        if (folder.isEmpty() || !folder_info.isDir()) continue;
        const QString root = canonical_or_absolute(folder_info);
        if (seen_folders.contains(root)) continue;
        seen_folders.insert(root);

        QStringList to_scan = {root};
        for (const QFileInfo& sub :
             QDir(root).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
            to_scan << sub.absoluteFilePath();
        }
        for (const QString& dir : to_scan) {
            for (const QFileInfo& file : QDir(dir).entryInfoList(
                     kCheckpointPatterns, QDir::Files | QDir::Readable, QDir::Name)) {
                const QString path = canonical_or_absolute(file);
                if (seen_files.contains(path)) continue;
                seen_files.insert(path);
                found.push_back(inspect_checkpoint(path));
            }
        }
    }
    return found;
}

QString user_model_folder() {
    // Not AppLocalDataLocation: with organisation and application both "Photosynth" that is
    // ~/.local/share/Photosynth/Photosynth, while models/README.md documents
    // ~/.local/share/Photosynth/models; this also does not depend on the names being set.
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation) +
           "/Photosynth/models";
}

std::vector<QString> default_model_folders() {
    std::vector<QString> folders;
    if (QCoreApplication::instance() != nullptr) {
        const QDir app_dir(QCoreApplication::applicationDirPath());
        folders.push_back(QDir::cleanPath(app_dir.filePath("../models")));
        folders.push_back(QDir::cleanPath(app_dir.filePath("../../models")));
    }
    folders.push_back(user_model_folder());
    return folders;
}

}  // namespace ps::engine
