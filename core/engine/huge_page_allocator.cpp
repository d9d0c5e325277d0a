#include "engine/huge_page_allocator.h"

#include <torch/version.h>

#if TORCH_VERSION_MAJOR < 2
#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>
#endif

namespace ps::engine {

#if TORCH_VERSION_MAJOR < 2
namespace {

constexpr size_t kHugePage = size_t(2) << 20;
// Below this, glibc's heap serves them without faults worth saving.
constexpr size_t kMinBytes = size_t(4) << 20;

// Our mappings by address: ATen also frees through raw_deleter() with the pointer alone.
struct Mappings {
    std::mutex mutex;
    std::unordered_map<void*, size_t> lengths;
    c10::DeleterFnPtr fallback_deleter = nullptr;
};

Mappings& mappings() {
    static auto* registry = new Mappings();  // tensors may be freed after static destructors
    return *registry;
}

void free_any(void* data) {
    Mappings& m = mappings();
    size_t length = 0;
    {
        std::lock_guard<std::mutex> lock(m.mutex);
        const auto it = m.lengths.find(data);
        if (it != m.lengths.end()) {
            length = it->second;
            m.lengths.erase(it);
        }
    }
    if (length > 0) {
        munmap(data, length);
    } else if (data) {
        m.fallback_deleter(data);
    }
}

class HugePageCpuAllocator final : public c10::Allocator {
  public:
    explicit HugePageCpuAllocator(c10::Allocator* fallback) : fallback_(fallback) {
        mappings().fallback_deleter = fallback->raw_deleter();
    }

    c10::DataPtr allocate(size_t bytes) const override {
        if (bytes < kMinBytes) return fallback_->allocate(bytes);
        const size_t length = (bytes + kHugePage - 1) / kHugePage * kHugePage;
        // Map 2 MB more and keep the aligned middle: THP needs 2 MB-aligned ranges.
        void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) return fallback_->allocate(bytes);
        const auto start = reinterpret_cast<uintptr_t>(raw);
        const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
        if (aligned > start) munmap(raw, aligned - start);
        const uintptr_t end = start + length + kHugePage;
        if (end > aligned + length)
            munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
        void* data = reinterpret_cast<void*>(aligned);
        madvise(data, length, MADV_HUGEPAGE);
        {
            std::lock_guard<std::mutex> lock(mappings().mutex);
            mappings().lengths[data] = length;
        }
        return {data, data, &free_any, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &free_any; }

  private:
    c10::Allocator* fallback_;
};

}  // namespace
#endif

void install_huge_page_cpu_allocator(bool enabled) {
#if TORCH_VERSION_MAJOR < 2
    static std::once_flag once;
    std::call_once(once, [enabled] {
        if (!enabled) return;
        static HugePageCpuAllocator allocator(c10::GetDefaultCPUAllocator());
        c10::SetCPUAllocator(&allocator, /*priority=*/1);
    });
#endif
}

}  // namespace ps::engine
