// See deform_columns.h. sample_unit is deform_im2col.cu's kernel body, in F.
#include "models/runtime/deform_columns.h"

#include <ATen/Parallel.h>

namespace ps::runtime {
namespace {

template <typename F>
struct Biases {
    const F *offset, *mask;  // either null
};

template <typename F>
void sample_unit(const F* input, const F* offset, const F* mask, Biases<F> biases, F* columns,
                 const cuda::DeformPixelGeometry& g, int index) {
    const cuda::DeformUnit unit = cuda::deform_unit(g, index);
    const F dy_bias = biases.offset ? biases.offset[unit.offset_channel] : F(0);
    const F dx_bias = biases.offset ? biases.offset[unit.offset_channel + 1] : F(0);
    const F y = static_cast<F>(unit.base_y) + (offset[unit.dy_index] + dy_bias);
    const F x = static_cast<F>(unit.base_x) + (offset[unit.dx_index] + dx_bias);
    const cuda::BilinearCorners<F> corners = cuda::bilinear_corners(y, x, g.height, g.width);
    F* out = columns + unit.column;
    for (int j = 0; j < g.pack; ++j) out[j] = F(0);
    for (int q = 0; q < 4; ++q) {
        if (!corners.counted[q]) continue;
        const F* p = input + static_cast<int64_t>(corners.pixel[q]) * g.channels + unit.channel;
        for (int j = 0; j < g.pack; ++j) out[j] += corners.weight[q] * p[j];
    }
    const F modulation =
        mask ? cuda::modulation_of(mask[unit.mask_index],
                                   biases.mask ? biases.mask[unit.mask_channel] : F(0),
                                   g.mask_sigmoid_scale)
             : F(1);
    for (int j = 0; j < g.pack; ++j) out[j] *= modulation;
}

}  // namespace

template <typename F>
void deform_im2col_pixels_cpu(const F* input, const F* offset, const F* mask, const F* offset_bias,
                              const F* mask_bias, F* columns, const cuda::DeformPixelGeometry& g) {
    const Biases<F> biases{offset_bias, mask_bias};
    at::parallel_for(0, g.units(), 1024, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
            sample_unit(input, offset, mask, biases, columns, g, static_cast<int>(i));
    });
}

template void deform_im2col_pixels_cpu<float>(const float*, const float*, const float*,
                                              const float*, const float*, float*,
                                              const cuda::DeformPixelGeometry&);
template void deform_im2col_pixels_cpu<double>(const double*, const double*, const double*,
                                               const double*, const double*, double*,
                                               const cuda::DeformPixelGeometry&);

}  // namespace ps::runtime
