// The element types a checkpoint may hold, and their names in torch pickles and safetensors.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>
#include <string_view>

namespace ps::io {

// "FloatStorage", "HalfStorage", ... (the class name torch.save pickles for a typed storage).
std::optional<at::ScalarType> dtype_from_storage_class(std::string_view class_name);

// "F32", "F16", "BF16", ... as in the safetensors header.
std::optional<at::ScalarType> dtype_from_safetensors(std::string_view name);

// The safetensors name of a dtype, or nullptr for one we do not read or write.
const char* safetensors_dtype_name(at::ScalarType dtype);

// Bytes per element of a supported dtype.
size_t dtype_size_bytes(at::ScalarType dtype);

}  // namespace ps::io
