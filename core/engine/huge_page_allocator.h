// ATen's big CPU tensors in transparent huge pages. A ViT-B encode on the 2-core machine spent
// half its wall time in the kernel: every large tensor is a fresh glibc mmap, faulted in 4 KB
// page by page and zeroed, then unmapped. Mapped 2 MB-aligned with MADV_HUGEPAGE (the machine's
// THP mode is "madvise"), the same tensors fault 512x less: ViT-B encode 9.4 -> 8.0 s, kernel
// time 24 -> 12 s in an experiment with glibc's equivalent tunable (glibc.malloc.hugetlb=1).
#pragma once

namespace ps::engine {

// Installs it once for the process (LibTorch 1.x; 2.x keeps its own allocator, whose interface
// differs); `enabled` false (EngineSettings::cpu_huge_pages, PHOTOSYNTH_CPU_HUGE_PAGES=0) leaves
// ATen's allocator in place. The first call decides. Tensors allocated before keep their own
// deleters, so installing late is safe.
void install_huge_page_cpu_allocator(bool enabled = true);

}  // namespace ps::engine
