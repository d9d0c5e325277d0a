#include "models/runtime/host_masks.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "image/buffer_mat_allocator.h"
#include "image/prefaulted_allocator.h"

#if PHOTOSYNTH_WITH_CUDA
#include <ATen/cuda/CachingHostAllocator.h>
#endif

namespace ps::runtime {
namespace {

#if PHOTOSYNTH_WITH_CUDA
// Buffers from LibTorch's caching pinned-memory allocator; the DataPtr is the handle.
class PinnedMatAllocator final : public image::BufferMatAllocator {
  protected:
    void* acquire(size_t bytes, void** handle) const override {
        try {
            auto block =
                std::make_unique<at::DataPtr>(at::cuda::getCachingHostAllocator()->allocate(bytes));
            void* data = block->get();
            *handle = block.release();
            return data;
        } catch (const std::exception& e) {
            CV_Error(cv::Error::StsNoMem, std::string("pinned host memory: ") + e.what());
        }
    }

    void release(void*, void* handle) const override {
        delete static_cast<at::DataPtr*>(handle);  // back to LibTorch's pinned cache
    }
};

cv::MatAllocator* pinned_allocator() {
    static auto* allocator = new PinnedMatAllocator();  // Mats may outlive static destructors
    return allocator;
}
#endif

cv::Mat make_host_mat(int rows, int cols, int type = CV_8UC1) {
#if PHOTOSYNTH_WITH_CUDA
    try {
        cv::Mat mat;
        mat.allocator = pinned_allocator();
        mat.create(rows, cols, type);
        return mat;
    } catch (const std::exception&) {
        // No pinned memory left: an ordinary buffer (the DMA goes through the driver's staging).
    }
#endif
    return image::make_prefaulted_mat(rows, cols, type);
}

}  // namespace

std::vector<cv::Mat> masks_to_host(const at::Tensor& masks) {
    const int64_t count = masks.size(1);
    const int rows = static_cast<int>(masks.size(2)), cols = static_cast<int>(masks.size(3));
    std::vector<cv::Mat> out;
    for (int64_t i = 0; i < count; ++i) {
        cv::Mat mat = make_host_mat(rows, cols);
        at::from_blob(mat.data, {rows, cols}, at::TensorOptions().dtype(at::kByte))
            .copy_(masks[0][i]);
        out.push_back(std::move(mat));
    }
    return out;
}

std::vector<cv::Mat> logits_to_host(const at::Tensor& logits) {
    const int64_t count = logits.size(0);
    const int rows = static_cast<int>(logits.size(1)), cols = static_cast<int>(logits.size(2));
    const int total = static_cast<int>(count) * rows;
    cv::Mat all =
        logits.is_cuda() ? make_host_mat(total, cols, CV_32FC1) : cv::Mat(total, cols, CV_32FC1);
    at::from_blob(all.data, {count, rows, cols}, at::TensorOptions().dtype(at::kFloat))
        .copy_(logits.to(at::kFloat));
    std::vector<cv::Mat> out;
    for (int64_t i = 0; i < count; ++i) {
        const int first = static_cast<int>(i) * rows;
        out.push_back(all.rowRange(first, first + rows));  // full rows: continuous
    }
    return out;
}

}  // namespace ps::runtime
