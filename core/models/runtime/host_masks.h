// Masks computed on the GPU (SAM's and SAM 2's clicks), brought to the host as cv::Mats. In CUDA
// builds the Mats' buffers come from LibTorch's caching pinned-memory allocator, so the DMA writes
// them directly: copying through a pinned staging buffer into pageable Mats cost 1.0-1.2 ms of
// a 2.3 ms click (three 2048x1536 masks, H100 VM), the DMA itself 0.19 ms. Freed Mats return their
// pinned blocks to LibTorch's cache (rounded up to powers of two), so pinned memory stays at the
// high-water mark of masks alive at once.
#pragma once

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include <memory>
#include <vector>

namespace ps::runtime {

// masks: 1 x N x H x W bytes on a CUDA device -> N single-channel Mats.
std::vector<cv::Mat> masks_to_host(const at::Tensor& masks);

// logits: N x H x W float32 on any device -> N CV_32FC1 Mats, rows of one host buffer (pinned
// when the logits are on a CUDA device) filled by one copy: SAM 2's tracked frames, every
// object's logits at the video's size with a single wait for the GPU.
std::vector<cv::Mat> logits_to_host(const at::Tensor& logits);

// logits_to_host in two halves: the copy queued (on the current CUDA stream, into pinned memory)
// and, later, the wait for it, so that the host can queue more GPU work in between (a video's
// next frame while this frame's masks come down). On the CPU the copy is done when queued.
class HostLogitsCopy {
  public:
    HostLogitsCopy() = default;
    explicit HostLogitsCopy(const at::Tensor& logits);
    // Blocks until the copy has landed; the Mats as logits_to_host's. Once only.
    std::vector<cv::Mat> wait();
    bool empty() const { return count_ == 0; }

  private:
    struct Done;
    cv::Mat all_;
    int64_t count_ = 0;
    int rows_ = 0;
    std::shared_ptr<Done> done_;  // the copy's CUDA event; null on the CPU
};

}  // namespace ps::runtime
