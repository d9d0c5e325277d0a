// Finds checkpoints in the model folders and says what each one is, read off its tensor shapes.
#pragma once

#include <QString>

#include <cstdint>
#include <vector>

namespace ps::engine {

struct DiscoveredCheckpoint {
    QString path;  // absolute, canonical
    std::int64_t size_bytes = 0;
    QString family;  // "sam", "mobile_sam", "u2net", "isnet" or "unknown"
    QString arch;    // SamConfig::arch ("vit_b", "mobile_sam", ...), "u2net", "u2netp", "isnet"
    std::int64_t parameter_count = 0;  // floating-point tensor elements, as SamConfig counts them
    QString description;               // one line on what the file holds (empty when unusable)
    // Background removal: the size the network sees (1024 x 1024 for ISNet), or the image's own
    // (any_size: BiRefNet_dynamic).
    int input_size = 0;  // the width
    int input_height = 0;
    bool any_size = false;
    QString error;  // why the file cannot be used (empty when usable)

    bool usable() const { return error.isEmpty(); }
};

// What a single checkpoint file is. Never throws: unreadable, corrupt or hostile files come
// back as family "unknown" with the loader's refusal in `error`.
DiscoveredCheckpoint inspect_checkpoint(const QString& path);

// Scans each folder and its immediate subfolders (one level: "models/sam/x.pth" is found, deeper
// trees are not, so pointing at a home folder stays cheap) for *.pth, *.pt and *.safetensors.
// Missing folders are skipped; a file reached twice (same canonical path) is listed once.
// Results are in folder order, then by file name.
std::vector<DiscoveredCheckpoint> discover_checkpoints(const std::vector<QString>& folders);

// <app dir>/../models (installed layout), <app dir>/../../models (the checkout's models/ seen
// from build-*/app/), and the user data folder (~/.local/share/Photosynth/models on Linux).
// Requires a QCoreApplication for the first two; folders that do not exist are still listed.
std::vector<QString> default_model_folders();

// The user data folder alone: where downloads go.
QString user_model_folder();

}  // namespace ps::engine
