#include "models/runtime/host_masks.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "image/buffer_mat_allocator.h"
#include "image/prefaulted_allocator.h"

#if PHOTOSYNTH_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CachingHostAllocator.h>
#include <c10/cuda/CUDAStream.h>
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
    return HostLogitsCopy(logits).wait();
}

struct HostLogitsCopy::Done {
#if PHOTOSYNTH_WITH_CUDA
    at::cuda::CUDAEvent event;
#endif
};

HostLogitsCopy::HostLogitsCopy(const at::Tensor& logits)
    : count_(logits.size(0)), rows_(static_cast<int>(logits.size(1))) {
    const int cols = static_cast<int>(logits.size(2));
    const int total = static_cast<int>(count_) * rows_;
    all_ = logits.is_cuda() ? make_host_mat(total, cols, CV_32FC1) : cv::Mat(total, cols, CV_32FC1);
    at::Tensor host =
        at::from_blob(all_.data, {count_, rows_, cols}, at::TensorOptions().dtype(at::kFloat));
#if PHOTOSYNTH_WITH_CUDA
    if (logits.is_cuda()) {
        // Asynchronous only into pinned memory (make_host_mat's fallback is pageable: then the
        // copy waits here, still correct). The source may be freed after this: the caching
        // allocator hands its memory only to work queued later on this stream.
        host.copy_(logits.to(at::kFloat), /*non_blocking=*/true);
        done_ = std::make_shared<Done>();
        done_->event.record(c10::cuda::getCurrentCUDAStream(logits.device().index()));
        return;
    }
#endif
    host.copy_(logits.to(at::kFloat));
}

std::vector<cv::Mat> HostLogitsCopy::wait() {
#if PHOTOSYNTH_WITH_CUDA
    if (done_) done_->event.synchronize();
#endif
    std::vector<cv::Mat> out;
    for (int64_t i = 0; i < count_; ++i) {
        const int first = static_cast<int>(i) * rows_;
        out.push_back(all_.rowRange(first, first + rows_));  // full rows: continuous
    }
    return out;
}

}  // namespace ps::runtime
