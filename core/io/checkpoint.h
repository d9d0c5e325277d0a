// Safe checkpoint loading: torch.save zip archives and safetensors, without executing anything.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "common/result.h"

namespace ps::io {

enum class CheckpointFormat { TorchZip, Safetensors };

using TensorMap = std::map<std::string, at::Tensor>;

// Where the loaded tensors' bytes live.
enum class TensorStorage {
    // Read into memory the checkpoint owns, once: the weights survive the file being truncated,
    // rewritten or deleted while a model is loaded (an app keeps models for hours).
    Owned,
    // A private memory map of the file: only the pages read are loaded, so listing shapes costs
    // the headers alone. For a quick look at a file only: reading a tensor after the file was
    // truncated kills the process with SIGBUS, and an in-place rewrite may show through.
    MappedForInspection,
};

struct Checkpoint {
    std::string path;
    CheckpointFormat format = CheckpointFormat::Safetensors;
    // CPU tensors keyed by their state-dict names. Floating-point ones alias one page-aligned
    // buffer of the whole file (see TensorStorage), which stays alive as long as any tensor does.
    TensorMap tensors;
};

// Detects the format from the file's bytes (not its extension) and loads every tensor.
// Unwraps {"model": sd} and {"state_dict": sd}. Errors name the file and the problem.
Result<Checkpoint> load_checkpoint(const std::string& path,
                                   TensorStorage storage = TensorStorage::Owned);

// Writes tensors (any supported dtype, any device; made contiguous on the CPU) as safetensors,
// atomically (temporary file + rename). Metadata goes to "__metadata__".
Status save_safetensors(const std::string& path, const TensorMap& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace ps::io
