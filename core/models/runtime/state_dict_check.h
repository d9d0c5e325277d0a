// Checks a loaded state dict before any layer is built: every weight has a floating dtype and
// holds only finite values. A mutated or corrupted checkpoint is refused at load with the tensor
// named, instead of running with NaN masks or failing later in ATen ("expected scalar type Float
// but found Long"). Shared by SAM, MobileSAM and U²-Net.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "common/result.h"

namespace ps::runtime {

// "<file>: tensor K has dtype int64, expected a floating type", "<file>: tensor K has shape [1, 0,
// 0, 256], which holds no values" or "<file>: tensor K holds NaN or infinite values". Integer
// buffers that models keep on purpose (BatchNorm's num_batches_tracked, TinyViT's
// attention_bias_idxs) are allowed.
Status check_state_dict(const std::map<std::string, at::Tensor>& tensors,
                        const std::string& file_label);

// How a family's config names the dtype its weights are stored in: "float32", "bfloat16",
// "float16", "float64" (anything else reads as "float32", the load converts it).
std::string floating_dtype_name(at::ScalarType type);

// Whether any key starts with `prefix` (a module of the state dict: "image_encoder.").
bool has_key_prefix(const std::map<std::string, at::Tensor>& tensors, const std::string& prefix);

}  // namespace ps::runtime
