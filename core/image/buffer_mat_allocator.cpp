#include "image/buffer_mat_allocator.h"

namespace ps::image {

cv::UMatData* BufferMatAllocator::allocate(int dims, const int* sizes, int type, void* data0,
                                           size_t* step, cv::AccessFlag, cv::UMatUsageFlags) const {
    // Steps and size exactly as OpenCV's own StdMatAllocator computes them.
    size_t total = CV_ELEM_SIZE(type);
    for (int i = dims - 1; i >= 0; --i) {
        if (step) {
            if (data0 && step[i] != cv::Mat::AUTO_STEP) {
                CV_Assert(total <= step[i]);
                total = step[i];
            } else {
                step[i] = total;
            }
        }
        total *= static_cast<size_t>(sizes[i]);
    }
    auto* u = new cv::UMatData(this);
    u->size = total;
    if (data0) {
        u->data = u->origdata = static_cast<uchar*>(data0);
        u->flags |= cv::UMatData::USER_ALLOCATED;
        return u;
    }
    try {
        void* handle = nullptr;
        u->data = u->origdata = static_cast<uchar*>(acquire(total, &handle));
        u->userdata = handle;
    } catch (...) {
        delete u;
        throw;
    }
    return u;
}

bool BufferMatAllocator::allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const {
    return u != nullptr;
}

void BufferMatAllocator::deallocate(cv::UMatData* u) const {
    if (!u) return;
    CV_Assert(u->urefcount == 0 && u->refcount == 0);
    if (!(u->flags & cv::UMatData::USER_ALLOCATED)) release(u->origdata, u->userdata);
    delete u;
}

}  // namespace ps::image
