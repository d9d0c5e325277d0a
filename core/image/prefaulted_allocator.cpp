// Prefaulted, huge-page-backed cv::Mat buffers (see prefaulted_allocator.h).
#include "image/prefaulted_allocator.h"

#include "image/buffer_mat_allocator.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL and fault lazily
#endif

namespace ps::image {
namespace {

constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kPage = 4096;

size_t round_up(size_t value, size_t unit) {
    return (value + unit - 1) / unit * unit;
}

// A 2 MB-aligned anonymous mapping of `length` bytes (a multiple of 2 MB): map 2 MB more, keep
// the aligned middle.
void* map_aligned(size_t length) {
    const size_t padded = length + kHugePage;
    void* raw = mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = round_up(start, kHugePage);
    if (aligned > start) munmap(raw, aligned - start);
    const uintptr_t end = start + padded, used_end = aligned + length;
    if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
    return reinterpret_cast<void*>(aligned);
}

// Freed buffers wait here for the next Mat of the same mapped size, pages still present: the
// masks of the next click reuse those of the last one. Bounded, so it never hoards memory.
class BufferPool {
  public:
    static constexpr size_t kMaxPooledBytes = size_t(64) << 20;

    void* take(size_t length) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = free_.find(length);
        if (it == free_.end()) return nullptr;
        void* data = it->second;
        free_.erase(it);
        pooled_bytes_ -= length;
        return data;
    }

    void give_back(void* data, size_t length) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (pooled_bytes_ + length <= kMaxPooledBytes) {
                free_.emplace(length, data);
                pooled_bytes_ += length;
                return;
            }
        }
        munmap(data, length);
    }

  private:
    std::mutex mutex_;
    std::multimap<size_t, void*> free_;
    size_t pooled_bytes_ = 0;
};

void* map_prefaulted(size_t length, bool huge) {
    void* data =
        huge ? map_aligned(length)
             : mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!data || data == MAP_FAILED) return nullptr;
    if (huge) madvise(data, length, MADV_HUGEPAGE);
    madvise(data, length, MADV_POPULATE_WRITE);
    return data;
}

class PrefaultedAllocator final : public BufferMatAllocator {
  protected:
    void* acquire(size_t bytes, void** handle) const override {
        const bool huge = bytes >= kHugePage;
        const size_t length = round_up(std::max<size_t>(bytes, 1), huge ? kHugePage : kPage);
        void* data = pool_.take(length);
        if (!data) data = map_prefaulted(length, huge);
        if (!data) CV_Error(cv::Error::StsNoMem, "cannot map " + std::to_string(length) + " bytes");
        *handle = reinterpret_cast<void*>(length);  // what munmap needs
        return data;
    }

    void release(void* data, void* handle) const override {
        pool_.give_back(data, reinterpret_cast<size_t>(handle));
    }

  private:
    mutable BufferPool pool_;
};

}  // namespace

cv::MatAllocator* prefaulted_allocator() {
    // Never destroyed: Mats made with it may outlive any static destructor order.
    static auto* allocator = new PrefaultedAllocator();
    return allocator;
}

cv::Mat make_prefaulted_mat(int rows, int cols, int type) {
    cv::Mat mat;
    mat.allocator = prefaulted_allocator();
    mat.create(rows, cols, type);
    return mat;
}

}  // namespace ps::image
