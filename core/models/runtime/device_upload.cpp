#include "models/runtime/device_upload.h"

#include <ATen/ATen.h>

namespace ps::runtime {

at::Tensor upload(const at::Tensor& host, const at::Device& device) {
    if (!device.is_cuda() || !host.is_cpu()) return host.to(device);
    return host.pin_memory().to(device, /*non_blocking=*/true);
}

at::Tensor download_async(const at::Tensor& tensor, at::ScalarType dtype) {
    if (!tensor.is_cuda()) return tensor.to(at::kCPU, dtype);
    // _to_copy pins a non-blocking copy's host side and records the copy in the host allocator.
    return tensor.to(at::kCPU, dtype, /*non_blocking=*/true);
}

}  // namespace ps::runtime
