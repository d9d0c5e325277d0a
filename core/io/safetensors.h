// Reading safetensors files (https://github.com/huggingface/safetensors) into tensors that alias
// the file's memory map. Writing is save_safetensors() in checkpoint.h.
#pragma once

#include <memory>

#include "common/result.h"
#include "io/checkpoint.h"
#include "io/mapped_file.h"

namespace ps::io {

// Validates the header as the reference implementation does (JSON object, known dtypes,
// offsets inside the data section, sizes matching shapes, tensors tiling the data section
// without overlaps or gaps) and returns every tensor, `__metadata__` skipped.
// Error messages do not name the file; callers prefix it.
Result<TensorMap> read_safetensors(const std::shared_ptr<MappedFile>& file);

}  // namespace ps::io
