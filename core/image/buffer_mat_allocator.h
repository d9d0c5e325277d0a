// A cv::MatAllocator whose buffers come from somewhere other than malloc (prefaulted mappings,
// pinned memory): OpenCV's bookkeeping once, the buffer source in a subclass.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

class BufferMatAllocator : public cv::MatAllocator {
  public:
    cv::UMatData* allocate(int dims, const int* sizes, int type, void* data0, size_t* step,
                           cv::AccessFlag, cv::UMatUsageFlags) const override;
    bool allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const override;
    void deallocate(cv::UMatData* u) const override;

  protected:
    // A buffer of at least `bytes` and what release() needs to give it back; throws cv::Exception
    // (CV_Error) when there is none.
    virtual void* acquire(size_t bytes, void** handle) const = 0;
    virtual void release(void* data, void* handle) const = 0;
};

}  // namespace ps::image
