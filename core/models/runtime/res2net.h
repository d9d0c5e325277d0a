// Res2Net-v1b (Gao et al. 2019, "Res2Net: a new multi-scale backbone"), as InSPyReNet's
// lib/backbones/Res2Net_v1b.py builds it (res2net50_v1b_26w_4s: the deep stem of three 3x3
// convolutions, Bottle2neck blocks whose 3x3 convolution is split into `scale` chained groups,
// the average-pooled shortcut of v1b), output stride 32. Built from a state dict below a prefix
// ("backbone."), every BatchNorm folded into its convolution.
//
// Keys, below the prefix: conv1.{0,3,6}.weight and conv1.{1,4}.* (the stem), bn1.*,
// layer<L>.<b>.{conv1,conv3}.weight, .{bn1,bn3}.*, .convs.<i>.weight, .bns.<i>.*,
// layer<L>.0.downsample.{1.weight,2.*}; BatchNorms with running_mean, running_var and
// num_batches_tracked.
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "models/runtime/folded_conv.h"
#include "models/runtime/tensor_specs.h"
#include "models/runtime/weights.h"

namespace ps::runtime {

struct Res2NetConfig {
    int64_t stem_mid = 32;                                    // conv1.0 and conv1.3: 3 -> 32 -> 32
    int64_t stem_out = 64;                                    // conv1.6 and bn1
    std::vector<int64_t> blocks{3, 4, 6, 3};                  // Bottle2necks per layer
    std::vector<int64_t> widths{26, 52, 104, 208};            // one split's channels, per layer
    std::vector<int64_t> out_channels{256, 512, 1024, 2048};  // planes * 4, per layer
    int64_t scale = 4;  // splits per block (convs.* holds scale - 1)
    // Not in the file: Res2Net(output_stride=32) sets stride [1, 2, 2, 2], dilation
    // [1, 1, 2, 4] and, in the last layer, a multi-grid [1, 2, 4] on the dilation.
    std::array<int64_t, 4> strides{1, 2, 2, 2};
    std::array<int64_t, 4> dilations{1, 1, 2, 4};
    std::vector<int64_t> last_grid{1, 2, 4};

    std::string describe() const;  // "stem 32/64, blocks 3/4/6/3, widths 26/52/104/208 x4"
};

Res2NetConfig official_res2net50_v1b_config();  // res2net50_v1b_26w_4s

// Widths, depths and scale off the shapes below `prefix`; throws WeightError naming the tensor.
Res2NetConfig infer_res2net_config(const Weights& w, const std::string& prefix);

void add_res2net_specs(TensorSpecs& specs, const std::string& prefix, const Res2NetConfig& c);

class Res2Net {
  public:
    // Tensors already on their device and in the dtype to run in.
    static Res2Net load(const Weights& w, const std::string& prefix, const Res2NetConfig& config);
    // x: N x 3 x H x W. Returns Res2Net.forward's list: the stem's max-pooled map (stride 4),
    // then layer1..layer4 (strides 4, 8, 16, 32).
    std::vector<at::Tensor> forward(const at::Tensor& x) const;
    const Res2NetConfig& config() const { return config_; }

    struct Block {
        FoldedConv2d conv1, conv3;
        std::vector<FoldedConv2d> convs;
        bool has_downsample = false;
        FoldedConv2d downsample;  // after an average pool of `stride` (ceil mode)
        bool stage = false;       // the first block of a layer: 'stage' splits, pooled last split
        int64_t width = 0, stride = 1;
    };

  private:
    at::Tensor run_block(const Block& block, const at::Tensor& x) const;

    Res2NetConfig config_;
    std::array<FoldedConv2d, 3> stem_;  // conv1.0+1 (relu), conv1.3+4 (relu), conv1.6+bn1 (relu)
    std::vector<std::vector<Block>> layers_;
};

}  // namespace ps::runtime
