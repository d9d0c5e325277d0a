#include "models/sam/host_masks.h"

#include <ATen/ATen.h>

#include <memory>
#include <string>

#include "image/prefaulted_allocator.h"

#if PHOTOSYNTH_WITH_CUDA
#include <ATen/cuda/CachingHostAllocator.h>
#endif

namespace ps::sam {
namespace {

#if PHOTOSYNTH_WITH_CUDA
class PinnedMatAllocator final : public cv::MatAllocator {
public:
    cv::UMatData* allocate(int dims, const int* sizes, int type, void* data0, size_t* step,
                           cv::AccessFlag, cv::UMatUsageFlags) const override {
        const size_t total = image::dense_mat_bytes(dims, sizes, type, data0, step);
        auto* u = new cv::UMatData(this);
        u->size = total;
        if (data0) {
            u->data = u->origdata = static_cast<uchar*>(data0);
            u->flags |= cv::UMatData::USER_ALLOCATED;
            return u;
        }
        try {
            auto block = std::make_unique<at::DataPtr>(at::cuda::getCachingHostAllocator()->allocate(total));
            u->data = u->origdata = static_cast<uchar*>(block->get());
            u->userdata = block.release();
        } catch (const std::exception& e) {
            delete u;
            CV_Error(cv::Error::StsNoMem, std::string("pinned host memory: ") + e.what());
        }
        return u;
    }

    bool allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const override {
        return u != nullptr;
    }

    void deallocate(cv::UMatData* u) const override {
        if (!u) return;
        CV_Assert(u->urefcount == 0 && u->refcount == 0);
        delete static_cast<at::DataPtr*>(u->userdata);  // back to LibTorch's pinned cache
        delete u;
    }
};

cv::MatAllocator* pinned_allocator() {
    static auto* allocator = new PinnedMatAllocator();  // Mats may outlive static destructors
    return allocator;
}
#endif

cv::Mat make_host_mat(int rows, int cols) {
#if PHOTOSYNTH_WITH_CUDA
    try {
        cv::Mat mat;
        mat.allocator = pinned_allocator();
        mat.create(rows, cols, CV_8UC1);
        return mat;
    } catch (const std::exception&) {
        // No pinned memory left: an ordinary buffer (the DMA goes through the driver's staging).
    }
#endif
    return image::make_prefaulted_mat(rows, cols, CV_8UC1);
}

}  // namespace

std::vector<cv::Mat> masks_to_host(const at::Tensor& masks) {
    const int64_t count = masks.size(1);
    const int rows = static_cast<int>(masks.size(2)), cols = static_cast<int>(masks.size(3));
    std::vector<cv::Mat> out;
    for (int64_t i = 0; i < count; ++i) {
        cv::Mat mat = make_host_mat(rows, cols);
        at::from_blob(mat.data, {rows, cols}, at::TensorOptions().dtype(at::kByte)).copy_(masks[0][i]);
        out.push_back(std::move(mat));
    }
    return out;
}

}  // namespace ps::sam
