// Weight lookup with precise error messages.
#include "models/runtime/weights.h"

#include <sstream>

namespace ps::runtime {

std::string shape_string(at::IntArrayRef shape) {
    std::ostringstream out;
    out << "[";
    for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << "]";
    return out.str();
}

void Weights::fail(const std::string& what) const {
    throw WeightError(file_label_ + ": " + what);
}

const at::Tensor& Weights::get(const std::string& key) const {
    auto it = tensors_.find(key);
    if (it == tensors_.end()) fail("missing tensor " + key);
    return it->second;
}

const at::Tensor& Weights::get(const std::string& key,
                               const std::vector<int64_t>& expected_shape) const {
    const at::Tensor& tensor = get(key);
    if (tensor.sizes() != at::IntArrayRef(expected_shape)) {
        fail("tensor " + key + " has shape " + shape_string(tensor.sizes()) + ", expected " +
             shape_string(expected_shape));
    }
    return tensor;
}

int Weights::count_children(const std::string& prefix) const {
    int count = 0;
    for (;;) {
        const std::string child = prefix + "." + std::to_string(count) + ".";
        auto it = tensors_.lower_bound(child);
        if (it == tensors_.end() || it->first.compare(0, child.size(), child) != 0) return count;
        ++count;
    }
}

}  // namespace ps::runtime
