#include "models/runtime/side_stream.h"

#include <ATen/ATen.h>

#if PHOTOSYNTH_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <optional>

namespace ps::runtime {

struct SideStream::Impl {
#if PHOTOSYNTH_WITH_CUDA
    // From the high-priority pool: GraphCache records on low-priority pool streams, and a graph
    // must not be captured on a stream that has other work queued.
    std::optional<c10::cuda::CUDAStream> stream;
    at::cuda::CUDAEvent done;
#endif
};

SideStream::SideStream(const at::Device& device) : impl_(std::make_unique<Impl>()) {
#if PHOTOSYNTH_WITH_CUDA
    if (device.is_cuda())
        impl_->stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/true, device.index());
#else
    (void)device;
#endif
}

SideStream::~SideStream() = default;

bool SideStream::overlaps() const {
#if PHOTOSYNTH_WITH_CUDA
    return impl_->stream.has_value();
#else
    return false;
#endif
}

void SideStream::run(const std::function<void()>& work) {
#if PHOTOSYNTH_WITH_CUDA
    if (impl_->stream) {
        {
            c10::cuda::CUDAStreamGuard guard(*impl_->stream);
            work();
        }
        impl_->done.record(*impl_->stream);
        return;
    }
#endif
    work();
}

void SideStream::wait_for_current() {
#if PHOTOSYNTH_WITH_CUDA
    if (impl_->stream) {
        at::cuda::CUDAEvent queued;
        queued.record(c10::cuda::getCurrentCUDAStream(impl_->stream->device_index()));
        queued.block(*impl_->stream);
    }
#endif
}

void SideStream::join(const std::vector<at::Tensor>& made) {
#if PHOTOSYNTH_WITH_CUDA
    if (impl_->stream) {
        const c10::cuda::CUDAStream current =
            c10::cuda::getCurrentCUDAStream(impl_->stream->device_index());
        impl_->done.block(current);
        for (const at::Tensor& t : made)
            if (t.defined() && t.is_cuda()) t.record_stream(current);
    }
#else
    (void)made;
#endif
}

}  // namespace ps::runtime
