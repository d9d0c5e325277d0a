#include "models/runtime/threaded_matmul.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ps::runtime {
namespace {

// Below this many multiply-adds in all, one at::matmul costs less than a parallel region.
constexpr int64_t kMinMacs = int64_t(1) << 20;

// PHOTOSYNTH_THREADED_MATMUL=0: at::matmul everywhere, to measure what this changes.
bool enabled() {
    static const bool on = [] {
        const char* value = std::getenv("PHOTOSYNTH_THREADED_MATMUL");
        return !value || std::strcmp(value, "0") != 0;
    }();
    return on;
}

}  // namespace

at::Tensor threaded_matmul(const at::Tensor& a, const at::Tensor& b) {
    const int64_t threads = at::get_num_threads();
    if (!enabled() || !a.device().is_cpu() || a.dim() < 2 || b.dim() < 2 || threads <= 1 ||
        at::in_parallel_region() || a.scalar_type() != b.scalar_type())
        return at::matmul(a, b);
    const int64_t n = a.size(-2), k = a.size(-1), m = b.size(-1);
    if (b.size(-2) != k) return at::matmul(a, b);  // at::matmul names the mismatch
    std::vector<int64_t> batch =
        at::infer_size(a.sizes().slice(0, a.dim() - 2), b.sizes().slice(0, b.dim() - 2));
    int64_t count = 1;
    for (int64_t d : batch) count *= d;
    if (count * n * k * m < kMinMacs || n == 0 || m == 0) return at::matmul(a, b);

    std::vector<int64_t> a_shape = batch, b_shape = batch, out_shape = batch;
    a_shape.insert(a_shape.end(), {n, k});
    b_shape.insert(b_shape.end(), {k, m});
    out_shape.insert(out_shape.end(), {n, m});
    const at::Tensor a3 = a.expand(a_shape).reshape({count, n, k});
    const at::Tensor b3 = b.expand(b_shape).reshape({count, k, m});
    at::Tensor out = at::empty({count, n, m}, a.options());
    // Fewer products than threads: each product's rows in `splits` pieces.
    const int64_t splits = count >= threads ? 1 : std::min(n, (threads + count - 1) / count);
    const int64_t rows = (n + splits - 1) / splits;
    at::parallel_for(0, count * splits, 1, [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
            const int64_t i = task / splits, first = (task % splits) * rows;
            const int64_t length = std::min(rows, n - first);
            if (length <= 0) continue;
            at::Tensor target = out.select(0, i).narrow(0, first, length);
            at::mm_out(target, a3.select(0, i).narrow(0, first, length), b3.select(0, i));
        }
    });
    return out.view(out_shape);
}

}  // namespace ps::runtime
