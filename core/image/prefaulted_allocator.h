// Big cv::Mat buffers whose pages are present before anything writes them. A fresh buffer over
// glibc's mmap threshold is otherwise faulted in page by page while it is filled: copying three
// 2048x1536 masks to the host measured 6-7 ms on an H100 VM, almost all of it page faults,
// against ~0.5 ms for the copy itself.
#pragma once

#include <opencv2/core/mat.hpp>

namespace ps::image {

// The allocator (process lifetime) and a helper that creates a Mat with it. Buffers are mapped
// 2 MB-aligned with transparent huge pages requested, then populated in one call
// (MADV_POPULATE_WRITE); where the kernel lacks either, they behave like ordinary buffers.
// Freed buffers are kept for reuse (up to 64 MB), so steady clicking allocates nothing new.
cv::MatAllocator* prefaulted_allocator();
cv::Mat make_prefaulted_mat(int rows, int cols, int type);

}  // namespace ps::image
