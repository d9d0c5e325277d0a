// CUDA graph recording and replay (see graph_cache.h).
#include "models/runtime/graph_cache.h"

#include <ATen/ATen.h>

#if PHOTOSYNTH_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <set>

namespace ps::runtime {
namespace {

[[maybe_unused]] std::string signature(const std::string& key,
                                       const std::vector<at::Tensor>& inputs) {
    std::string out = key;
    for (const at::Tensor& t : inputs) {
        out += '|';
        out += c10::toString(t.scalar_type());
        for (int64_t d : t.sizes()) out += ',' + std::to_string(d);
    }
    return out;
}

}  // namespace

#if PHOTOSYNTH_WITH_CUDA

struct Recorded {
    at::cuda::CUDAGraph graph;
    std::vector<at::Tensor> inputs, outputs;  // the buffers the graph reads and writes
};

// Records forward() on a side stream, as torch.cuda.graph does: one warm-up run first so lazy
// initialisation (cuBLAS handles, cuDNN workspaces) happens outside the recording.
static std::unique_ptr<Recorded> record(const std::vector<at::Tensor>& inputs,
                                        const GraphCache::Forward& forward) {
    c10::cuda::CUDAGuard device_guard(inputs.front().device());
    auto recorded = std::make_unique<Recorded>();
    for (const at::Tensor& t : inputs) recorded->inputs.push_back(t.clone());
    const c10::cuda::CUDAStream main = c10::cuda::getCurrentCUDAStream();
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
    at::cuda::CUDAEvent inputs_ready;
    inputs_ready.record(main);
    inputs_ready.block(side);
    {
        c10::cuda::CUDAStreamGuard stream_guard(side);
        forward(recorded->inputs);
        side.synchronize();
        // Thread-local capture: other threads' CUDA calls (another model, a cache copy) are not
        // forbidden while this one records.
        recorded->graph.capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
        try {
            recorded->outputs = forward(recorded->inputs);
        } catch (...) {
            try {
                recorded->graph.capture_end();
            } catch (...) {
            }
            cudaGetLastError();  // clear the sticky capture error
            throw;
        }
        recorded->graph.capture_end();
    }
    at::cuda::CUDAEvent recorded_done;
    recorded_done.record(side);
    recorded_done.block(main);
    return recorded;
}

#else

struct Recorded {
    std::vector<at::Tensor> inputs, outputs;
};

#endif

struct GraphCache::Impl {
    size_t capacity;
    int record_after = 1;
    std::map<std::string, int> sightings;  // of signatures not recorded yet
    bool enabled = compiled_in();
    mutable std::mutex mutex;
    std::list<std::string> recency;  // front: most recently used
    std::map<std::string, std::unique_ptr<Recorded>> graphs;
    std::set<std::string> direct_only;
    std::string last_problem;
};

GraphCache::GraphCache(size_t capacity, int record_after) : impl_(std::make_unique<Impl>()) {
    impl_->capacity = std::max<size_t>(capacity, 1);
    impl_->record_after = std::max(record_after, 1);
}

GraphCache::~GraphCache() = default;

void GraphCache::set_enabled(bool enabled) {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->enabled = enabled && compiled_in();
}

bool GraphCache::compiled_in() {
#if PHOTOSYNTH_WITH_CUDA
    return true;
#else
    return false;
#endif
}

size_t GraphCache::size() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->graphs.size();
}

std::string GraphCache::last_problem() const {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->last_problem;
}

std::vector<at::Tensor> GraphCache::run(const std::string& key,
                                        const std::vector<at::Tensor>& inputs,
                                        const Forward& forward) {
    if (!impl_->enabled || inputs.empty() || !inputs.front().is_cuda()) return forward(inputs);
#if PHOTOSYNTH_WITH_CUDA
    std::lock_guard<std::mutex> lock(impl_->mutex);
    const std::string id = signature(key, inputs);
    if (impl_->direct_only.count(id)) return forward(inputs);
    auto found = impl_->graphs.find(id);
    if (found == impl_->graphs.end()) {
        if (impl_->record_after > 1) {
            // Shapes seen once in a long while should not pile up counts.
            if (impl_->sightings.size() > 256) impl_->sightings.clear();
            if (++impl_->sightings[id] < impl_->record_after) return forward(inputs);
            impl_->sightings.erase(id);
        }
        std::unique_ptr<Recorded> recorded;
        try {
            recorded = record(inputs, forward);
        } catch (const std::exception& e) {
            const std::string message = e.what();
            impl_->last_problem = key + ": CUDA graph not recorded (" +
                                  message.substr(0, message.find('\n')) + "); running directly";
            impl_->direct_only.insert(id);
            return forward(inputs);
        }
        if (impl_->graphs.size() >= impl_->capacity) {
            impl_->graphs.erase(impl_->recency.back());
            impl_->recency.pop_back();
        }
        found = impl_->graphs.emplace(id, std::move(recorded)).first;
    } else {
        impl_->recency.remove(id);
    }
    impl_->recency.push_front(id);
    Recorded& graph = *found->second;
    for (size_t i = 0; i < inputs.size(); ++i)
        graph.inputs[i].copy_(inputs[i], /*non_blocking=*/true);
    graph.graph.replay();
    std::vector<at::Tensor> outputs;
    outputs.reserve(graph.outputs.size());
    // The next replay overwrites the recorded outputs; callers keep copies.
    for (const at::Tensor& t : graph.outputs) outputs.push_back(t.clone());
    return outputs;
#else
    return forward(inputs);
#endif
}

}  // namespace ps::runtime
