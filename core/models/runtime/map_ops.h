// The decoders' map plumbing — F.interpolate(bilinear) into torch.cat, F.interpolate + a skip,
// and the 2 x 2 ceil-mode max pool — through the runtime's fused channels-last kernels on the GPU
// (cuda/map_kernels.h), and ATen's ops everywhere else (CPU, NCHW maps, other element types).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace ps::runtime {

struct ResizedMap {
    at::Tensor map;              // N x C x h x w
    bool align_corners = false;  // F.interpolate's flag; a map already h x w is copied
};

// torch.cat([F.interpolate(part.map, size=(height, width), mode='bilinear',
// align_corners=part.align_corners) for part in parts], dim=1), a map already at that size
// entering as it is (the interpolation would return every value unchanged).
at::Tensor resize_concat(const std::vector<ResizedMap>& parts, int64_t height, int64_t width);

// F.interpolate(x.map, size=addend's, mode='bilinear', align_corners=x.align_corners) + addend.
at::Tensor resize_add(const ResizedMap& x, const at::Tensor& addend);

// nn.MaxPool2d(2, stride=2, ceil_mode=True): odd sizes keep their last row/column.
at::Tensor max_pool_2x2_ceil(const at::Tensor& x);

}  // namespace ps::runtime
