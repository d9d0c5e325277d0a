// Safe checkpoint loading: torch.save zip archives and safetensors, without executing anything.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "common/result.h"

namespace ps::io {

enum class CheckpointFormat { TorchZip, Safetensors };

using TensorMap = std::map<std::string, at::Tensor>;

struct Checkpoint {
    std::string path;
    CheckpointFormat format = CheckpointFormat::Safetensors;
    // CPU tensors keyed by their state-dict names. They may alias a private (copy-on-write)
    // memory map of the file, which stays alive as long as any tensor does.
    TensorMap tensors;
};

// Detects the format from the file's bytes (not its extension) and loads every tensor.
// Unwraps {"model": sd} and {"state_dict": sd}. Errors name the file and the problem.
Result<Checkpoint> load_checkpoint(const std::string& path);

// Writes tensors (any supported dtype, any device; made contiguous on the CPU) as safetensors,
// atomically (temporary file + rename). Metadata goes to "__metadata__".
Status save_safetensors(const std::string& path, const TensorMap& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace ps::io
