// Dtype and finiteness checks over a whole state dict (see state_dict_check.h).
#include "models/runtime/state_dict_check.h"

#include <ATen/ATen.h>

#include <array>
#include <cmath>

#include "models/runtime/weights.h"

namespace ps::runtime {
namespace {

bool is_integer_buffer(const std::string& key) {
    // BatchNorm's counter, TinyViT's attention_bias_idxs and Swin's relative_position_index
    // (an int64 buffer InSPyReNet's and BiRefNet's checkpoints carry).
    static const std::array<std::string, 3> suffixes{"num_batches_tracked", "attention_bias_idxs",
                                                     "relative_position_index"};
    for (const std::string& suffix : suffixes)
        if (key.size() >= suffix.size() &&
            key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
            return true;
    return false;
}

std::string dtype_name(at::ScalarType type) {
    switch (type) {
        case at::kByte:
            return "uint8";
        case at::kChar:
            return "int8";
        case at::kShort:
            return "int16";
        case at::kInt:
            return "int32";
        case at::kLong:
            return "int64";
        case at::kBool:
            return "bool";
        default:
            return c10::toString(type);
    }
}

// One pass with no temporary as large as the tensor: the float sum of finite weights is finite
// (weights are far below 1e38), and a NaN or an infinity makes it non-finite. Only then is the
// exact check run, so a sum that merely overflowed is not taken for a bad weight.
bool all_finite(const at::Tensor& tensor) {
    if (tensor.numel() == 0) return true;
    const double sum = tensor.sum(at::kFloat).item<double>();
    if (std::isfinite(sum)) return true;
    return at::isfinite(tensor).all().item<bool>();
}

}  // namespace

Status check_state_dict(const std::map<std::string, at::Tensor>& tensors,
                        const std::string& file_label) {
    try {
        for (const auto& [key, tensor] : tensors) {
            if (is_integer_buffer(key)) continue;
            if (!at::isFloatingType(tensor.scalar_type()))
                return make_error(ErrorKind::Format, file_label + ": tensor " + key +
                                                         " has dtype " +
                                                         dtype_name(tensor.scalar_type()) +
                                                         ", expected a floating type");
            // A zero-sized dimension would become a zero-sized image or layer later (a mutated
            // pos_embed of [1, 0, 0, C] gave "pil_resize_bilinear: output size 0x0").
            if (tensor.numel() == 0)
                return make_error(ErrorKind::Format,
                                  file_label + ": tensor " + key + " has shape " +
                                      shape_string(tensor.sizes()) + ", which holds no values");
            if (!all_finite(tensor))
                return make_error(ErrorKind::Format,
                                  file_label + ": tensor " + key + " holds NaN or infinite values");
        }
    } catch (const std::exception& e) {
        return make_error(ErrorKind::Format,
                          file_label + ": cannot check the weights: " + e.what());
    }
    return Ok{};
}

std::string floating_dtype_name(at::ScalarType type) {
    switch (type) {
        case at::kHalf:
            return "float16";
        case at::kBFloat16:
            return "bfloat16";
        case at::kDouble:
            return "float64";
        default:
            return "float32";
    }
}

bool has_key_prefix(const std::map<std::string, at::Tensor>& tensors, const std::string& prefix) {
    auto it = tensors.lower_bound(prefix);
    return it != tensors.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace ps::runtime
