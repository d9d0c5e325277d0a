// One table maps each supported dtype to its torch storage class and safetensors name.
#include "io/dtype.h"

#include <array>

namespace ps::io {
namespace {

struct DtypeNames {
    at::ScalarType dtype;
    std::string_view storage_class;
    const char* safetensors;
};

constexpr std::array<DtypeNames, 10> kDtypes = {{
    {at::kFloat, "FloatStorage", "F32"},
    {at::kHalf, "HalfStorage", "F16"},
    {at::kBFloat16, "BFloat16Storage", "BF16"},
    {at::kDouble, "DoubleStorage", "F64"},
    {at::kLong, "LongStorage", "I64"},
    {at::kInt, "IntStorage", "I32"},
    {at::kShort, "ShortStorage", "I16"},
    {at::kChar, "CharStorage", "I8"},
    {at::kByte, "ByteStorage", "U8"},
    {at::kBool, "BoolStorage", "BOOL"},
}};

}  // namespace

std::optional<at::ScalarType> dtype_from_storage_class(std::string_view class_name) {
    for (const DtypeNames& names : kDtypes) {
        if (names.storage_class == class_name) return names.dtype;
    }
    return std::nullopt;
}

std::optional<at::ScalarType> dtype_from_safetensors(std::string_view name) {
    for (const DtypeNames& names : kDtypes) {
        if (name == names.safetensors) return names.dtype;
    }
    return std::nullopt;
}

const char* safetensors_dtype_name(at::ScalarType dtype) {
    for (const DtypeNames& names : kDtypes) {
        if (names.dtype == dtype) return names.safetensors;
    }
    return nullptr;
}

size_t dtype_size_bytes(at::ScalarType dtype) {
    return c10::elementSize(dtype);
}

}  // namespace ps::io
