// CUDA graphs for fixed-shape forward passes. A forward pass of our models is hundreds of small
// kernel launches, each costing host time in the dispatcher; at batch 1 on a fast GPU that host
// time, not arithmetic, sets the latency (the reference's U²-Net and U²-NetP take the same
// 16 ms although one has 40x the FLOPs). The first call of a shape records the launches once;
// later calls copy the inputs into the recorded buffers and replay the graph with one launch.
// CPU tensors, builds without CUDA and PHOTOSYNTH_CUDA_GRAPHS=0 run the forward pass directly.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ps::runtime {

class GraphCache {
  public:
    using Forward = std::function<std::vector<at::Tensor>(const std::vector<at::Tensor>&)>;

    // `capacity`: graphs kept (least recently used go first); each holds its activations.
    // `record_after`: a key and shape is recorded on its record_after-th run, the runs before
    // direct: where shapes change for a while before they settle (a video's memory bank filling
    // up), a graph is made only for what repeats.
    explicit GraphCache(size_t capacity = 16, int record_after = 1);
    ~GraphCache();
    GraphCache(const GraphCache&) = delete;
    GraphCache& operator=(const GraphCache&) = delete;

    // forward(inputs), replayed from a graph recorded for `key` and the inputs' shapes when the
    // inputs are on a CUDA device. `forward` must not synchronise with the host (no .item(), no
    // host copies); if recording fails anyway, that key runs directly from then on and
    // last_problem() says why. Outputs are the caller's own tensors.
    std::vector<at::Tensor> run(const std::string& key, const std::vector<at::Tensor>& inputs,
                                const Forward& forward);

    // false: every run() is direct (GpuSwitches::cuda_graphs). On by default where compiled in.
    void set_enabled(bool enabled);

    size_t size() const;
    std::string last_problem() const;
    static bool compiled_in();  // built against a CUDA LibTorch

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::runtime
