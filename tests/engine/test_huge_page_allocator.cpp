// ATen's CPU tensors through the huge-page allocator (LibTorch 1.x): big tensors land on 2 MB
// boundaries with THP requested and are freed whichever way ATen frees them; small ones keep
// ATen's allocator; arithmetic on them is what it was.
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <torch/version.h>

#include <QtTest>

#include <cstdint>
#include <fstream>
#include <string>

#include "engine/huge_page_allocator.h"

namespace {

// AnonHugePages of this process's mappings, in kB (0 where the kernel does not say).
long anon_huge_kb() {
    std::ifstream smaps("/proc/self/smaps_rollup");
    std::string key;
    long value = 0;
    while (smaps >> key) {
        if (key == "AnonHugePages:") {
            smaps >> value;
            return value;
        }
        smaps.ignore(1 << 12, '\n');
    }
    return 0;
}

}  // namespace

class TestHugePageAllocator : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
#if TORCH_VERSION_MAJOR >= 2
        QSKIP("LibTorch 2.x keeps its own CPU allocator");
#endif
        ps::engine::install_huge_page_cpu_allocator();
        ps::engine::install_huge_page_cpu_allocator();  // once only
    }

    void big_tensors_are_huge_page_aligned_and_correct() {
        const at::Tensor a = at::arange(6 * 1024 * 1024, at::kFloat);  // 24 MB
        QCOMPARE(reinterpret_cast<uintptr_t>(a.data_ptr()) % (2u << 20), uintptr_t(0));
        const at::Tensor b = a * 2 + 1;
        QCOMPARE(b[12345].item<float>(), 2 * 12345.f + 1);
        QCOMPARE(b.sum().item<double>(), 2.0 * (6.0 * 1024 * 1024) * (6.0 * 1024 * 1024 - 1) / 2 + 6.0 * 1024 * 1024);
        qInfo("AnonHugePages: %ld kB", anon_huge_kb());
    }

    void small_tensors_use_atens_allocator() {
        const at::Tensor t = at::ones({1000}, at::kFloat);
        // ATen aligns to 64 bytes; ours would be 2 MB: a small tensor is almost never there.
        QCOMPARE(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64, uintptr_t(0));
        QCOMPARE(t.sum().item<float>(), 1000.f);
    }

    void raw_allocation_round_trips() {
        // Some ATen code (oneDNN scratch buffers) frees through raw_deleter() with the pointer only.
        c10::Allocator* allocator = c10::GetCPUAllocator();
        for (size_t bytes : {size_t(100), size_t(64) << 20}) {
            void* p = allocator->raw_allocate(bytes);
            QVERIFY(p != nullptr);
            static_cast<char*>(p)[bytes - 1] = 7;
            allocator->raw_deallocate(p);
        }
    }

    void many_cycles_do_not_leak_mappings() {
        for (int i = 0; i < 200; ++i) {
            at::Tensor t = at::empty({int64_t(8) << 20}, at::kByte);  // 8 MB
            t.fill_(static_cast<uint8_t>(i));
            QCOMPARE(t[int64_t(8 << 20) - 1].item<uint8_t>(), static_cast<uint8_t>(i));
        }
        std::ifstream maps("/proc/self/maps");
        int lines = 0;
        for (std::string line; std::getline(maps, line);) ++lines;
        QVERIFY2(lines < 2000, qPrintable(QString::number(lines)));
    }
};

QTEST_GUILESS_MAIN(TestHugePageAllocator)
#include "test_huge_page_allocator.moc"
