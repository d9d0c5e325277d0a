// Checkpoint discovery: list the model folders, load each file's tensors (memory-mapped, so only
// the headers and shapes are read) and classify it with the same code that will later load it.
//
// ATen-bearing headers come before any Qt header: Qt's `slots` macro breaks ATen's headers.
#include "engine/model_family.h"
#include "io/checkpoint.h"

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

void classify(const io::Checkpoint& checkpoint, const std::string& label,
              DiscoveredCheckpoint& out) {
    auto match = identify_family(checkpoint.tensors, label);
    if (!match) {
        out.error = QString::fromStdString(match.message());
        return;
    }
    out.family = QString::fromStdString(match->family);
    out.arch = QString::fromStdString(match->arch);
    out.parameter_count = match->parameter_count;
    out.description = QString::fromStdString(match->description);
    out.input_size = match->input_size;
    out.input_height = match->input_height;
    out.any_size = match->any_size;
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
        // The loader and the families' inference return errors; this guards a scan of a whole
        // folder against anything they missed (a c10::Error from an odd tensor, std::bad_alloc).
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
