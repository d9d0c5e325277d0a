// See map_ops.h. The kernels apply to CUDA maps in channels-last memory of one floating type; the
// result is then channels-last too, as ATen's own NHWC kernels return it.
#include "models/runtime/map_ops.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
#include "models/runtime/cuda/map_kernels.h"
#include "models/runtime/cuda_element_type.h"
#include "models/runtime/cuda_launch.h"
#endif

namespace ps::runtime {
namespace {

at::Tensor resized(const ResizedMap& part, int64_t height, int64_t width) {
    if (part.map.size(2) == height && part.map.size(3) == width) return part.map;
    return at::upsample_bilinear2d(part.map, {height, width}, part.align_corners);
}

#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
bool kernel_applies(const at::Tensor& x, const at::Tensor& first) {
    const at::ScalarType type = x.scalar_type();
    return x.is_cuda() && x.dim() == 4 && x.device() == first.device() &&
           type == first.scalar_type() && x.size(0) == first.size(0) &&
           (type == at::kFloat || type == at::kHalf || type == at::kBFloat16) &&
           x.is_contiguous(at::MemoryFormat::ChannelsLast);
}

cuda::MapPart map_part(const ResizedMap& part) {
    cuda::MapPart p;
    p.data = part.map.data_ptr();
    p.height = part.map.size(2);
    p.width = part.map.size(3);
    p.channels = part.map.size(1);
    p.align_corners = part.align_corners;
    return p;
}

at::Tensor empty_channels_last(const at::Tensor& like, int64_t channels, int64_t height,
                               int64_t width) {
    return at::empty({like.size(0), channels, height, width},
                     like.options().memory_format(at::MemoryFormat::ChannelsLast));
}
#endif

}  // namespace

at::Tensor resize_concat(const std::vector<ResizedMap>& parts, int64_t height, int64_t width) {
    if (parts.empty()) throw std::invalid_argument("resize_concat: no maps");
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    const at::Tensor& first = parts.front().map;
    bool fused = parts.size() <= static_cast<size_t>(cuda::kMaxMapParts);
    for (const ResizedMap& part : parts) fused = fused && kernel_applies(part.map, first);
    if (fused) {
        std::vector<cuda::MapPart> specs;
        int64_t channels = 0;
        for (const ResizedMap& part : parts) {
            specs.push_back(map_part(part));
            channels += part.map.size(1);
        }
        at::Tensor out = empty_channels_last(first, channels, height, width);
        check_launch(cuda::resize_concat(specs.data(), static_cast<int>(specs.size()),
                                         first.size(0), height, width, out.data_ptr(),
                                         cuda_element_type(first.scalar_type()), stream_of(first)),
                     "resize_concat");
        return out;
    }
#endif
    std::vector<at::Tensor> maps;
    maps.reserve(parts.size());
    for (const ResizedMap& part : parts) maps.push_back(resized(part, height, width));
    return at::cat(maps, 1);
}

at::Tensor resize_add(const ResizedMap& x, const at::Tensor& addend) {
    const int64_t height = addend.size(2), width = addend.size(3);
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (kernel_applies(x.map, x.map) && kernel_applies(addend, x.map) &&
        addend.size(1) == x.map.size(1)) {
        at::Tensor out = empty_channels_last(addend, addend.size(1), height, width);
        check_launch(cuda::resize_add(map_part(x), addend.data_ptr(), addend.size(0), height, width,
                                      out.data_ptr(), cuda_element_type(addend.scalar_type()),
                                      stream_of(addend)),
                     "resize_add");
        return out;
    }
#endif
    return at::upsample_bilinear2d(x.map, {height, width}, x.align_corners) + addend;
}

at::Tensor max_pool_2x2_ceil(const at::Tensor& x) {
#ifdef PHOTOSYNTH_WITH_CUDA_KERNELS
    if (kernel_applies(x, x)) {
        const int64_t height = x.size(2), width = x.size(3);
        at::Tensor out = empty_channels_last(x, x.size(1), (height + 1) / 2, (width + 1) / 2);
        check_launch(
            cuda::max_pool_2x2_ceil(x.data_ptr(), out.data_ptr(), x.size(0), height, width,
                                    x.size(1), cuda_element_type(x.scalar_type()), stream_of(x)),
            "max_pool_2x2_ceil");
        return out;
    }
#endif
    return at::max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/true);
}

}  // namespace ps::runtime
