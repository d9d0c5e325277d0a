// Work queued on a second CUDA stream of the model's device, so that it runs beside what the
// current stream has queued: a video's next frame goes through the image encoder while this
// frame is tracked, whose single-head attentions leave most of an H100's SMs idle. On the CPU
// (and in a build without CUDA) the work simply runs where it is called.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

namespace ps::runtime {

class SideStream {
  public:
    explicit SideStream(const at::Device& device);
    ~SideStream();
    SideStream(const SideStream&) = delete;
    SideStream& operator=(const SideStream&) = delete;

    // `work` with the side stream current: its kernels and allocations belong to that stream,
    // which does not wait for the current one, so `work` must read only tensors whose making is
    // finished (inputs from the host, weights): waiting for the current stream's queue would put
    // the side work behind it again.
    void run(const std::function<void()>& work);

    // The side stream waits for what the current stream has queued so far, not for what comes
    // later: a buffer the current stream is writing now (a recorded graph's inputs and outputs,
    // a cache made on first use) is ready before run() queues work that reads it.
    void wait_for_current();

    // The current stream waits for everything run() queued, and `made` (tensors run() made) is
    // marked as used by the current stream: its memory is not handed back to the side stream
    // before the current stream is done with it.
    void join(const std::vector<at::Tensor>& made);

    bool overlaps() const;  // false: run() is plain inline work (CPU, no CUDA)

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ps::runtime
