// Checkpoint tensors looked up by state-dict key, with errors that name the key and the file.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ps::runtime {

// Thrown while a network is assembled; converted to an Error at the module border (sam_model.cpp).
class WeightError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Weights {
  public:
    Weights(const std::map<std::string, at::Tensor>& tensors, std::string file_label)
        : tensors_(tensors), file_label_(std::move(file_label)) {}

    bool has(const std::string& key) const { return tensors_.count(key) != 0; }
    // The tensor, or WeightError "<file>: missing tensor <key>".
    const at::Tensor& get(const std::string& key) const;
    // As get(), and checks the shape: "<file>: tensor <key> has shape [..], expected [..]".
    const at::Tensor& get(const std::string& key, const std::vector<int64_t>& expected_shape) const;
    // Counts consecutive indexed children: prefix.0..., prefix.1... (a ModuleList's length).
    int count_children(const std::string& prefix) const;
    [[noreturn]] void fail(const std::string& what) const;
    const std::string& file_label() const { return file_label_; }

  private:
    const std::map<std::string, at::Tensor>& tensors_;
    std::string file_label_;
};

std::string shape_string(at::IntArrayRef shape);

}  // namespace ps::runtime
