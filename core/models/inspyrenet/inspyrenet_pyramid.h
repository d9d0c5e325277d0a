// InSPyReNet's image pyramid (lib/modules/layers.py ImagePyramid: expand / reconstruct of a
// Laplacian pyramid with a 7 x 7 Gaussian, sigma 1), its Transition (the uncertain band of a
// saliency map by elliptical dilation minus erosion, kornia.morphology) and the pyramid
// blending of the high-resolution inference (InSPyReNet.forward_inference, threshold set).
// Everything here runs in float32, whatever the network's precision: the maps have one channel
// and LibTorch 1.13 has no bfloat16 reflection padding on the CPU.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>

namespace ps::inspyrenet {

class ImagePyramid {
  public:
    explicit ImagePyramid(at::Device device);
    // x: N x 1 x h x w -> N x 1 x 2h x 2w: zeros between the samples (pixel_shuffle of
    // [x, 0, 0, 0]), reflect padding, the Gaussian times 4.
    at::Tensor expand(const at::Tensor& x) const;
    // expand(x) + laplacian resized (bilinear, align_corners=True) to its size; float32.
    at::Tensor reconstruct(const at::Tensor& x, const at::Tensor& laplacian) const;

  private:
    at::Tensor kernel_x4_;  // 1 x 1 x 7 x 7: outer(g, g) of cv2.getGaussianKernel(7, 1), * 4
};

// Transition(k): ((dilation(sigmoid(x)) - erosion(sigmoid(x))) > 0.5) with the k x k ellipse of
// cv2.getStructuringElement(MORPH_ELLIPSE); 0/1 in float32.
at::Tensor transition(const at::Tensor& x, int kernel_size);

struct SaliencyPyramid {
    std::array<at::Tensor, 4> d;  // d3 (coarsest) .. d0, logits
    std::array<at::Tensor, 3> p;  // p2, p1, p0: the Laplacian levels
};

// The blending of forward_inference when both sides exceed the threshold: d3 = lr.d0 resized to
// hr.d3's size; then for each level p = resize(transition(d), hr.p) * hr.p and
// d = reconstruct(d, p), with transitions of 5, 9 and 17.
SaliencyPyramid blend_pyramids(const ImagePyramid& pyramid, const SaliencyPyramid& low,
                               const SaliencyPyramid& high);

// sigmoid(d0), then (pred - min) / (max - min + 1e-8): InSPyReNet's `pred`, float32.
at::Tensor prediction(const at::Tensor& d0);

}  // namespace ps::inspyrenet
