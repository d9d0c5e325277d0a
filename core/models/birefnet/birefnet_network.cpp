// BiRefNet.forward (eval) of models/birefnet.py: Swin-V1 on the image and on its half-size copy
// (mul_scl_ipt 'cat'), the cxt maps on x4, the squeeze block, and the Decoder with its image
// patches (dec_ipt split), lateral skips and out_ref gradient attention.
#include "models/birefnet/birefnet_network.h"

#include <ATen/ATen.h>

#include "models/runtime/map_ops.h"

#include <stdexcept>

namespace ps::birefnet {
namespace {

at::Tensor resize_like(const at::Tensor& x, int64_t height, int64_t width) {
    return at::upsample_bilinear2d(x, {height, width}, /*align_corners=*/true);
}

// image2patches(x, patch_ref=ref, 'b c (hg h) (wg w) -> b (c hg wg) h w'): the grid is the
// integer ratio of the sizes, and the image must split into it exactly.
at::Tensor image2patches(const at::Tensor& x, int64_t ref_h, int64_t ref_w) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const int64_t grid_h = H / ref_h, grid_w = W / ref_w;
    if (grid_h * ref_h != H || grid_w * ref_w != W) {
        throw std::invalid_argument("BiRefNet: the " + std::to_string(W) + "x" + std::to_string(H) +
                                    " input does not split into its decoder's patch grid; use "
                                    "sizes that are multiples of 32");
    }
    if (grid_h == 1 && grid_w == 1) return x;
    return x.view({B, C, grid_h, ref_h, grid_w, ref_w})
        .permute({0, 1, 2, 4, 3, 5})
        .reshape({B, C * grid_h * grid_w, ref_h, ref_w});
}

}  // namespace

BiRefNetNetwork::BiRefNetNetwork(const std::map<std::string, at::Tensor>& file_tensors,
                                 const BiRefNetConfig& config, const std::string& file_label)
    : config_(config), dtype_(at::kFloat), device_(at::kCPU) {
    const std::map<std::string, at::Tensor> tensors = strip_wrapper_prefixes(file_tensors);
    const runtime::Weights w(tensors, file_label);
    const at::Tensor& first = w.get("bb.patch_embed.proj.weight");
    dtype_ = first.scalar_type();
    device_ = first.device();
    const BiRefNetConfig& c = config_;
    backbone_ = runtime::SwinV1::load(w, "bb.", c.backbone);
    squeeze_ = BasicDecBlock::load(w, "squeeze_module.0", c.squeeze_in(), c.dec_inter,
                                   c.aspp_channels, c.channels[0]);
    for (int i = 0; i < 5; ++i) {
        const std::string p = "decoder.ipt_blk" + std::to_string(5 - i);
        ipt_conv1_[i] = runtime::Conv2d::load(w, p + ".conv1", BiRefNetConfig::ipt_in[i],
                                              c.ipt_inter, 3, 1, 1, 1, true);
        ipt_conv_out_[i] = runtime::Conv2d::load(w, p + ".conv_out", c.ipt_inter,
                                                 c.ipt_out(i > 0 ? i - 1 : 0), 3, 1, 1, 1, true);
    }
    for (int i = 0; i < 3; ++i) {
        const std::string k = std::to_string(4 - i);
        Level& level = levels_[i];
        level.block = BasicDecBlock::load(w, "decoder.decoder_block" + k, c.dec_in(i), c.dec_inter,
                                          c.aspp_channels, c.dec_out(i));
        level.gdt_conv = load_conv_batch_norm(w, "decoder.gdt_convs_" + k + ".0",
                                              "decoder.gdt_convs_" + k + ".1", c.dec_out(i),
                                              c.gdt_channels, 3, 1, true);
        level.gdt_attention = runtime::Conv2d::load(w, "decoder.gdt_convs_attn_" + k + ".0",
                                                    c.gdt_channels, 1, 1, 1, 0, 1, true);
        level.lateral = runtime::Conv2d::load(w, "decoder.lateral_block" + k + ".conv",
                                              c.channels[i + 1], c.dec_out(i), 1, 1, 0, 1, true);
    }
    block1_ = BasicDecBlock::load(w, "decoder.decoder_block1", c.dec_in(3), c.dec_inter,
                                  c.aspp_channels, c.dec_out(3));
    const runtime::Conv2d conv_out1 = runtime::Conv2d::load(
        w, "decoder.conv_out1.0", c.dec_out(3) + c.ipt_out(3), 1, 1, 1, 0, 1, true);
    // The output head without its full-size concatenation: conv_out1 is 1 x 1 and bilinear
    // resizing mixes pixels, not channels, so conv_out1(cat(resize(d1), conv_out(h))) =
    // resize(W_d * d1) + (W_p * conv_out)(h) + b. The one-channel product is resized instead of
    // decoder_block1's, and ipt_blk1's last convolution writes one channel instead of
    // ipt_out(3): ~250 MB less traffic at 1024² (BiRefNet_lite's largest maps).
    const int64_t decoder_channels = c.dec_out(3);
    head_decoder_.weight = conv_out1.weight.narrow(1, 0, decoder_channels)
                               .contiguous(conv_out1.weight.suggest_memory_format());
    const runtime::Conv2d& patches_out = ipt_conv_out_[4];
    runtime::FoldedConv head = runtime::fold_pointwise(
        patches_out.weight, patches_out.bias,
        conv_out1.weight.narrow(1, decoder_channels, c.ipt_out(3)), conv_out1.bias);
    head_patches_ = patches_out;
    head_patches_.weight = std::move(head.weight);
    head_input_ = ipt_conv1_[4];
    head_input_.bias = at::Tensor();
    // v[ky][kx]: ipt_blk1.conv1's bias through head_patches_'s tap (ky, kx), in float64 from the
    // weights as the convolution will use them.
    const at::Tensor v = at::tensordot(head_patches_.weight.to(at::kCPU, at::kDouble)[0],
                                       ipt_conv1_[4].bias.to(at::kCPU, at::kDouble), {0}, {0});
    const auto tap = [&](int64_t ky, int64_t kx) { return v[ky][kx].item<double>(); };
    head_patches_.bias =
        (head.bias.to(at::kCPU, at::kDouble) + v.sum()).to(head_patches_.weight.options());
    head_border_.top = v[0].sum().item<double>();
    head_border_.bottom = v[2].sum().item<double>();
    head_border_.left = v.select(1, 0).sum().item<double>();
    head_border_.right = v.select(1, 2).sum().item<double>();
    head_border_.corners = {tap(0, 0), tap(0, 2), tap(2, 0), tap(2, 2)};
    squeeze_.set_fused_relu(c.cudnn_conv_relu);
    block1_.set_fused_relu(c.cudnn_conv_relu);
    for (Level& level : levels_) {
        level.block.set_fused_relu(c.cudnn_conv_relu);
        level.gdt_conv.fused_relu = c.cudnn_conv_relu;
    }
}

std::array<at::Tensor, 4> BiRefNetNetwork::encode(const at::Tensor& x) const {
    const int64_t H = x.size(2), W = x.size(3);
    const std::vector<at::Tensor> full = backbone_.forward(x).stages;
    const std::vector<at::Tensor> half = backbone_.forward(resize_like(x, H / 2, W / 2)).stages;
    // Every F.interpolate here feeds a torch.cat: runtime::resize_concat does both in one pass
    // on the GPU. BiRefNet interpolates with align_corners=True throughout.
    std::array<at::Tensor, 4> f;
    for (int i = 0; i < 4; ++i) {
        f[i] = runtime::resize_concat({{full[i], true}, {half[i], true}}, full[i].size(2),
                                      full[i].size(3));
    }
    // cxt: x1, x2, x3 resized onto x4 and put before it.
    f[3] = runtime::resize_concat({{f[0], true}, {f[1], true}, {f[2], true}, {f[3], true}},
                                  f[3].size(2), f[3].size(3));
    return f;
}

at::Tensor BiRefNetNetwork::image_patches(int k, const at::Tensor& x, int64_t height,
                                          int64_t width) const {
    // The patches already have the map's size, so the reference's F.interpolate to it is a copy.
    const at::Tensor patches = image2patches(x, height, width);
    return ipt_conv_out_[5 - k](ipt_conv1_[5 - k](patches));
}

at::Tensor BiRefNetNetwork::decode(const at::Tensor& x,
                                   const std::array<at::Tensor, 4>& features) const {
    // Level 4 reads the squeezed x4; level 3 and 2 the previous output plus a lateral skip.
    const auto with_patches = [&](const at::Tensor& p, int k) {
        const int64_t h = p.size(2), w = p.size(3);
        return runtime::resize_concat({{p}, {image_patches(k, x, h, w)}}, h, w);
    };
    at::Tensor p = features[3];
    for (int i = 0; i < 3; ++i) {
        const int k = 4 - i;
        p = levels_[i].block(with_patches(p, k + 1));
        const at::Tensor gdt = levels_[i].gdt_conv.relu(p);
        p = p * at::sigmoid(levels_[i].gdt_attention(gdt));
        const at::Tensor& skip = features[2 - i];
        p = runtime::resize_add({p, true}, levels_[i].lateral(skip));
    }
    const at::Tensor d1 = block1_(with_patches(p, 2));
    // conv_out1(cat(resize(d1), ipt_blk1(x))) through the split head (see the constructor): the
    // full-size patches are the image itself.
    return runtime::resize_add({head_decoder_(d1), true}, patches_head(x));
}

at::Tensor BiRefNetNetwork::patches_head(const at::Tensor& x) const {
    at::Tensor out = head_patches_(head_input_(x));
    const int64_t H = out.size(2), W = out.size(3);
    const BorderCorrection& b = head_border_;
    const auto row = [&](int64_t y) { return out.narrow(2, y, 1); };
    const auto column = [&](int64_t x) { return out.narrow(3, x, 1); };
    row(0).sub_(b.top);
    row(H - 1).sub_(b.bottom);
    column(0).sub_(b.left);
    column(W - 1).sub_(b.right);
    row(0).narrow(3, 0, 1).add_(b.corners[0]);
    row(0).narrow(3, W - 1, 1).add_(b.corners[1]);
    row(H - 1).narrow(3, 0, 1).add_(b.corners[2]);
    row(H - 1).narrow(3, W - 1, 1).add_(b.corners[3]);
    return out;
}

BiRefNetSteps BiRefNetNetwork::forward_steps(const at::Tensor& input) const {
    const at::Tensor x = input.to(dtype_);
    if (x.dim() != 4 || x.size(1) != 3 || x.size(2) % 32 != 0 || x.size(3) % 32 != 0) {
        throw std::invalid_argument(
            "BiRefNet needs an N x 3 x H x W input with H and W multiples of 32, got " +
            runtime::shape_string(x.sizes()));
    }
    BiRefNetSteps steps;
    std::array<at::Tensor, 4> f = encode(x);
    steps.x1 = f[0], steps.x2 = f[1], steps.x3 = f[2], steps.x4 = f[3];
    f[3] = squeeze_(f[3]);
    steps.x4_squeezed = f[3];
    steps.logits = decode(x, f);
    return steps;
}

at::Tensor BiRefNetNetwork::forward(const at::Tensor& input) const {
    return forward_steps(input).logits;
}

}  // namespace ps::birefnet
