// Reads U²-Net widths off tensor shapes; the one place where its configuration is inferred.
#include "models/u2net/u2net_config.h"

#include <ATen/ATen.h>

#include <sstream>
#include <stdexcept>

#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"

namespace ps::u2net {
namespace {

using runtime::TensorSpec;
using runtime::Weights;
using Specs = std::map<std::string, runtime::TensorSpec>;

// Explains what a non-U²-Net state dict looks like, so the user learns which tool it belongs to.
std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (runtime::has_key_prefix(tensors, "image_encoder.") ||
        runtime::has_key_prefix(tensors, "mask_decoder.")) {
        return "looks like a Segment Anything checkpoint (image_encoder.*, mask_decoder.*), not "
               "U²-Net; use it with `segment`";
    }
    if (runtime::has_key_prefix(tensors, "module.stage1.")) {
        return "has DataParallel keys (module.stage1.*); save net.module.state_dict() instead";
    }
    return "is not a U²-Net checkpoint: no stage1.rebnconvin.conv_s1.weight among its " +
           std::to_string(tensors.size()) + " tensors (first: " + tensors.begin()->first + ")";
}

// The side outputs of U2NET.forward: side k reads stage kd (side6 reads stage6), and the 1x1
// outconv fuses the six maps.
void check_sides(const runtime::Weights& w, U2NetConfig& c) {
    const at::Tensor& side1 = runtime::conv3x3_weight(w, "side1.weight");
    c.out_ch = side1.size(0);
    for (int k = 1; k <= 6; ++k) {
        const std::string key = "side" + std::to_string(k) + ".weight";
        const RsuConfig& source = runtime::side_source(c.stages, k);
        c.side_in[k - 1] = source.out_ch;
        w.get(key, {c.out_ch, source.out_ch, 3, 3});
    }
    w.get("outconv.weight", {c.out_ch, 6 * c.out_ch, 1, 1});
}

bool same_widths(const U2NetConfig& a, const U2NetConfig& b) {
    for (size_t i = 0; i < a.stages.size(); ++i) {
        const RsuConfig &x = a.stages[i], &y = b.stages[i];
        if (x.in_ch != y.in_ch || x.mid_ch != y.mid_ch || x.out_ch != y.out_ch) return false;
    }
    return a.out_ch == b.out_ch;
}

}  // namespace

const RsuConfig& U2NetConfig::stage(const std::string& name) const {
    for (const RsuConfig& s : stages) {
        if (s.name == name) return s;
    }
    throw std::invalid_argument("no U²-Net stage " + name);
}

std::string U2NetConfig::describe() const {
    std::ostringstream out;
    out << arch << ": RSU stages (in/mid/out)";
    for (const RsuConfig& s : stages) {
        out << " " << s.name << " " << s.in_ch << "/" << s.mid_ch << "/" << s.out_ch;
    }
    out << "; input " << input_size << "x" << input_size << "; " << parameter_count
        << " parameters (" << dtype << ")";
    return out.str();
}

U2NetConfig official_u2net_config(const std::string& arch) {
    // (in, mid, out) per stage from U2NET.__init__ and U2NETP.__init__ in u2net.py.
    std::vector<std::array<int64_t, 3>> widths;
    if (arch == "u2net") {
        widths = {{3, 32, 64},     {64, 32, 128},   {128, 64, 256},   {256, 128, 512},
                  {512, 256, 512}, {512, 256, 512}, {1024, 256, 512}, {1024, 128, 256},
                  {512, 64, 128},  {256, 32, 64},   {128, 16, 64}};
    } else if (arch == "u2netp") {
        widths = {{3, 16, 64}};
        widths.resize(6, {64, 16, 64});
        widths.resize(11, {128, 16, 64});
    } else {
        throw std::invalid_argument("unknown U²-Net architecture " + arch);
    }
    U2NetConfig c;
    c.arch = arch;
    c.stages = runtime::rsu_stage_layout();
    for (size_t i = 0; i < c.stages.size(); ++i) {
        c.stages[i].in_ch = widths[i][0];
        c.stages[i].mid_ch = widths[i][1];
        c.stages[i].out_ch = widths[i][2];
    }
    for (int k = 1; k <= 6; ++k) c.side_in[k - 1] = runtime::side_source(c.stages, k).out_ch;
    return c;
}

std::map<std::string, runtime::TensorSpec> u2net_tensor_specs(const U2NetConfig& c) {
    Specs s;
    runtime::add_rsu_specs(s, c.stages);
    for (int k = 1; k <= 6; ++k) {
        const std::string p = "side" + std::to_string(k);
        s[p + ".weight"] = {{c.out_ch, c.side_in[k - 1], 3, 3}};
        s[p + ".bias"] = {{c.out_ch}};
    }
    s["outconv.weight"] = {{c.out_ch, 6 * c.out_ch, 1, 1}};
    s["outconv.bias"] = {{c.out_ch}};
    return s;
}

Result<U2NetConfig> infer_u2net_config(const std::map<std::string, at::Tensor>& tensors,
                                       const std::string& file_label) {
    if (!tensors.count("stage1.rebnconvin.conv_s1.weight")) {
        return make_error(ErrorKind::Mismatch, file_label + ": " + describe_foreign(tensors));
    }
    const runtime::Weights w(tensors, file_label);
    U2NetConfig config;
    config.stages = runtime::rsu_stage_layout();
    try {
        runtime::infer_rsu_stages(w, config.stages, 3);
        check_sides(w, config);
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    config.arch = same_widths(config, official_u2net_config("u2net"))    ? "u2net"
                  : same_widths(config, official_u2net_config("u2netp")) ? "u2netp"
                                                                         : "u2net_custom";
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) config.parameter_count += tensor.numel();
    }
    config.dtype =
        runtime::floating_dtype_name(tensors.at("stage1.rebnconvin.conv_s1.weight").scalar_type());
    return config;
}

}  // namespace ps::u2net
