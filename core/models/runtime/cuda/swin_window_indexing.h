// The index arithmetic of swin_v1.py's F.pad, torch.roll, window_partition and window_reverse,
// shared by the Swin window kernels (swin_window_kernels.cu) and their CPU twins
// (swin_windows.cpp), so that the CPU tests check the very indexing the GPU runs.
#pragma once

#include <cstdint>

#include "models/runtime/cuda/host_device.h"

namespace ps::runtime::cuda {

struct SwinWindowIndexing {
    int64_t height = 0, width = 0, window = 0, shift = 0;
    int64_t padded_h = 0, padded_w = 0, windows_x = 0, windows_per_image = 0;
};

// The map padded at the bottom and right to multiples of `window`.
inline SwinWindowIndexing swin_window_indexing(int64_t height, int64_t width, int64_t window,
                                               int64_t shift) {
    SwinWindowIndexing ix;
    ix.height = height;
    ix.width = width;
    ix.window = window;
    ix.shift = shift;
    ix.padded_h = (height + window - 1) / window * window;
    ix.padded_w = (width + window - 1) / window * window;
    ix.windows_x = ix.padded_w / window;
    ix.windows_per_image = (ix.padded_h / window) * ix.windows_x;
    return ix;
}

// Row `token` of the (batch x windows) x (w x w) partition: the token (b * height + y) * width + x
// of the map it copies, or -1 for padding. Position in the padded, shifted map; roll(-shift)
// reads (p + shift) mod the padded size.
PS_HOST_DEVICE inline int64_t window_source_token(const SwinWindowIndexing& ix, int64_t token) {
    const int64_t n = token % (ix.window * ix.window), window = token / (ix.window * ix.window);
    const int64_t b = window / ix.windows_per_image, w = window % ix.windows_per_image;
    const int64_t py = (w / ix.windows_x) * ix.window + n / ix.window;
    const int64_t px = (w % ix.windows_x) * ix.window + n % ix.window;
    const int64_t sy = (py + ix.shift) % ix.padded_h, sx = (px + ix.shift) % ix.padded_w;
    if (sy >= ix.height || sx >= ix.width) return -1;
    return (b * ix.height + sy) * ix.width + sx;
}

// The partition row that window_reverse, roll(+shift) and the crop put at map token
// (b * height + y) * width + x: roll(+shift) reads (p - shift) mod the padded size.
PS_HOST_DEVICE inline int64_t merged_window_row(const SwinWindowIndexing& ix, int64_t token) {
    const int64_t x = token % ix.width, y = (token / ix.width) % ix.height,
                  b = token / (ix.width * ix.height);
    const int64_t py = (y - ix.shift + ix.padded_h) % ix.padded_h;
    const int64_t px = (x - ix.shift + ix.padded_w) % ix.padded_w;
    const int64_t window =
        b * ix.windows_per_image + (py / ix.window) * ix.windows_x + px / ix.window;
    return window * ix.window * ix.window + (py % ix.window) * ix.window + px % ix.window;
}

}  // namespace ps::runtime::cuda
