// The first steps of every model family's load(), in one order: the file's name as the label of
// every message, the device (with the CPU fallback rules of choose_device), the checkpoint read,
// its state dict checked, and the family's configuration inferred from the tensor shapes.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"
#include "io/checkpoint.h"
#include "models/runtime/device.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/state_dict_check.h"

namespace ps::runtime {

template <typename Config>
struct OpenedCheckpoint {
    std::string label;  // the file name, which every error starts with
    at::Device device;
    io::Checkpoint checkpoint;  // owns the tensors' storage (a memory map)
    Config config;
};

// infer(tensors, label) -> Result<Config>.
template <typename Config, typename Infer>
Result<OpenedCheckpoint<Config>> open_checkpoint(const std::string& path, Device device,
                                                 Precision precision, Infer infer) {
    const std::string label = std::filesystem::path(path).filename().string();
    auto chosen = choose_device(label, device, precision);
    if (!chosen) return chosen.error();
    auto checkpoint = io::load_checkpoint(path);
    if (!checkpoint) return checkpoint.error();
    if (auto weights = check_state_dict(checkpoint->tensors, label); !weights)
        return weights.error();
    auto config = infer(checkpoint->tensors, label);
    if (!config) return config.error();
    return OpenedCheckpoint<Config>{label, *chosen, std::move(*checkpoint), std::move(*config)};
}

}  // namespace ps::runtime
