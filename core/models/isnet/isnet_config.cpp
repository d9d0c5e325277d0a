// Reads ISNetDIS widths off tensor shapes; the one place where its configuration is inferred.
#include "models/isnet/isnet_config.h"

#include <ATen/ATen.h>

#include <sstream>
#include <stdexcept>

#include "models/runtime/state_dict_check.h"
#include "models/runtime/weights.h"

namespace ps::isnet {
namespace {

using runtime::RsuConfig;

// Explains what a non-ISNet state dict looks like, so the user learns which tool it belongs to.
std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (runtime::has_key_prefix(tensors, "image_encoder.") ||
        runtime::has_key_prefix(tensors, "mask_decoder.")) {
        return "looks like a Segment Anything checkpoint (image_encoder.*, mask_decoder.*), not "
               "ISNet; use it with `segment`";
    }
    if (runtime::has_key_prefix(tensors, "outconv.") &&
        runtime::has_key_prefix(tensors, "stage1.rebnconvin.")) {
        return "looks like a U²-Net checkpoint (outconv.*, no conv_in.*), not ISNet";
    }
    if (runtime::has_key_prefix(tensors, "conv_in.conv.")) {
        return "looks like ISNet's ground-truth encoder (ISNetGTEncoder, conv_in.conv.*), which "
               "only training uses; use the ISNetDIS weights";
    }
    if (runtime::has_key_prefix(tensors, "module.conv_in.")) {
        return "has DataParallel keys (module.conv_in.*); save net.module.state_dict() instead";
    }
    return "is not an ISNet checkpoint: no conv_in.weight among its " +
           std::to_string(tensors.size()) + " tensors (first: " + tensors.begin()->first + ")";
}

// conv_in, then the side outputs of ISNetDIS.forward: side k reads stage kd (side6 reads
// stage6); there is no fusing outconv (isnet.py comments it out).
void infer_stem_and_sides(const runtime::Weights& w, IsNetConfig& c) {
    const at::Tensor& stem = runtime::conv3x3_weight(w, "conv_in.weight");
    if (stem.size(1) != 3) {
        w.fail("tensor conv_in.weight has shape " + runtime::shape_string(stem.sizes()) +
               ", expected [out, 3, 3, 3] (an RGB input)");
    }
    c.stem_ch = stem.size(0);
    w.get("conv_in.bias", {c.stem_ch});
    c.out_ch = runtime::conv3x3_weight(w, "side1.weight").size(0);
    for (int k = 1; k <= 6; ++k) {
        const RsuConfig& source = runtime::side_source(c.stages, k);
        c.side_in[k - 1] = source.out_ch;
        w.get("side" + std::to_string(k) + ".weight", {c.out_ch, source.out_ch, 3, 3});
    }
}

bool same_widths(const IsNetConfig& a, const IsNetConfig& b) {
    for (size_t i = 0; i < a.stages.size(); ++i) {
        const RsuConfig &x = a.stages[i], &y = b.stages[i];
        if (x.in_ch != y.in_ch || x.mid_ch != y.mid_ch || x.out_ch != y.out_ch) return false;
    }
    return a.stem_ch == b.stem_ch && a.out_ch == b.out_ch;
}

}  // namespace

std::string IsNetConfig::describe() const {
    std::ostringstream out;
    out << arch << ": conv_in 3->" << stem_ch << " stride 2; RSU stages (in/mid/out)";
    for (const RsuConfig& s : stages) {
        out << " " << s.name << " " << s.in_ch << "/" << s.mid_ch << "/" << s.out_ch;
    }
    out << "; input " << input_size << "x" << input_size << "; " << parameter_count
        << " parameters (" << dtype << ")";
    return out.str();
}

IsNetConfig official_isnet_config(const std::string& arch) {
    if (arch != "isnet") throw std::invalid_argument("unknown ISNet architecture " + arch);
    // (in, mid, out) per stage from ISNetDIS.__init__ in isnet.py.
    const std::vector<std::array<int64_t, 3>> widths = {
        {64, 32, 64},    {64, 32, 128},   {128, 64, 256},   {256, 128, 512},
        {512, 256, 512}, {512, 256, 512}, {1024, 256, 512}, {1024, 128, 256},
        {512, 64, 128},  {256, 32, 64},   {128, 16, 64}};
    IsNetConfig c;
    c.arch = arch;
    c.stem_ch = 64;
    c.stages = runtime::rsu_stage_layout();
    for (size_t i = 0; i < c.stages.size(); ++i) {
        c.stages[i].in_ch = widths[i][0];
        c.stages[i].mid_ch = widths[i][1];
        c.stages[i].out_ch = widths[i][2];
    }
    for (int k = 1; k <= 6; ++k) c.side_in[k - 1] = runtime::side_source(c.stages, k).out_ch;
    return c;
}

runtime::TensorSpecs isnet_tensor_specs(const IsNetConfig& c) {
    runtime::TensorSpecs s;
    s["conv_in.weight"] = {{c.stem_ch, 3, 3, 3}};
    s["conv_in.bias"] = {{c.stem_ch}};
    runtime::add_rsu_specs(s, c.stages);
    for (int k = 1; k <= 6; ++k) {
        const std::string p = "side" + std::to_string(k);
        s[p + ".weight"] = {{c.out_ch, c.side_in[k - 1], 3, 3}};
        s[p + ".bias"] = {{c.out_ch}};
    }
    return s;
}

Result<IsNetConfig> infer_isnet_config(const std::map<std::string, at::Tensor>& tensors,
                                       const std::string& file_label) {
    if (!tensors.count("conv_in.weight") || runtime::has_key_prefix(tensors, "outconv.")) {
        return make_error(ErrorKind::Mismatch, file_label + ": " + describe_foreign(tensors));
    }
    const runtime::Weights w(tensors, file_label);
    IsNetConfig config;
    config.stages = runtime::rsu_stage_layout();
    try {
        const at::Tensor& stem = runtime::conv3x3_weight(w, "conv_in.weight");
        runtime::infer_rsu_stages(w, config.stages, stem.size(0));
        infer_stem_and_sides(w, config);
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    config.arch = same_widths(config, official_isnet_config("isnet")) ? "isnet" : "isnet_custom";
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) config.parameter_count += tensor.numel();
    }
    config.dtype = runtime::floating_dtype_name(tensors.at("conv_in.weight").scalar_type());
    return config;
}

}  // namespace ps::isnet
