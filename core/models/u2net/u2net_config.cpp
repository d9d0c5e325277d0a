// Reads U²-Net widths off tensor shapes; the one place where its configuration is inferred.
#include "models/u2net/u2net_config.h"

#include <ATen/ATen.h>

#include <sstream>
#include <stdexcept>

#include "models/runtime/weights.h"

namespace ps::u2net {
namespace {

using runtime::TensorSpec;
using runtime::Weights;
using Specs = std::map<std::string, runtime::TensorSpec>;

bool has_prefix(const std::map<std::string, at::Tensor>& tensors, const std::string& prefix) {
    auto it = tensors.lower_bound(prefix);
    return it != tensors.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

// Explains what a non-U²-Net state dict looks like, so the user learns which tool it belongs to.
std::string describe_foreign(const std::map<std::string, at::Tensor>& tensors) {
    if (tensors.empty()) return "holds no tensors";
    if (has_prefix(tensors, "image_encoder.") || has_prefix(tensors, "mask_decoder.")) {
        return "looks like a Segment Anything checkpoint (image_encoder.*, mask_decoder.*), not "
               "U²-Net; use it with `segment`";
    }
    if (has_prefix(tensors, "module.stage1.")) {
        return "has DataParallel keys (module.stage1.*); save net.module.state_dict() instead";
    }
    return "is not a U²-Net checkpoint: no stage1.rebnconvin.conv_s1.weight among its " +
           std::to_string(tensors.size()) + " tensors (first: " + tensors.begin()->first + ")";
}

std::string conv_key(const std::string& stage, const std::string& conv) {
    return stage + "." + conv + ".conv_s1.weight";
}

// A 3x3 convolution weight [out, in, 3, 3] (REBNCONV and the side outputs).
const at::Tensor& conv3x3(const runtime::Weights& w, const std::string& key) {
    const at::Tensor& t = w.get(key);
    if (t.dim() != 4 || t.size(2) != 3 || t.size(3) != 3) {
        w.fail("tensor " + key + " has shape " + runtime::shape_string(t.sizes()) +
               ", expected [out, in, 3, 3]");
    }
    return t;
}

void infer_stage(const runtime::Weights& w, RsuConfig& s) {
    const at::Tensor& in = conv3x3(w, conv_key(s.name, "rebnconvin"));
    s.in_ch = in.size(1);
    s.out_ch = in.size(0);
    s.mid_ch = conv3x3(w, conv_key(s.name, "rebnconv1")).size(0);
    const std::string deepest = "rebnconv" + std::to_string(s.height);
    const std::string beyond = "rebnconv" + std::to_string(s.height + 1);
    if (!w.has(conv_key(s.name, deepest)) || w.has(conv_key(s.name, beyond))) {
        w.fail(s.name + " is not an RSU-" + std::to_string(s.height) + " block (expected " +
               s.name + "." + deepest + ".* and no " + s.name + "." + beyond + ".*)");
    }
}

void expect_width(const runtime::Weights& w, const std::string& what, int64_t got,
                  int64_t expected) {
    if (got != expected) {
        w.fail(what + " reads " + std::to_string(got) + " channels, but " +
               std::to_string(expected) + " arrive there");
    }
}

// The channel plumbing of U2NET.forward: encoder stages chain, decoder stages read the upsampled
// deeper output concatenated with the skip, side k reads stage kd (side6 reads stage6).
void check_chaining(const runtime::Weights& w, U2NetConfig& c) {
    expect_width(w, "stage1", c.stages[0].in_ch, 3);
    for (int k = 1; k < 6; ++k) {
        expect_width(w, c.stages[k].name, c.stages[k].in_ch, c.stages[k - 1].out_ch);
    }
    for (int k = 6; k < 11; ++k) {
        const int skip = 10 - k;  // stage5d pairs with stage5 (index 4), stage1d with stage1
        expect_width(w, c.stages[k].name, c.stages[k].in_ch,
                     c.stages[k - 1].out_ch + c.stages[skip].out_ch);
    }
    const at::Tensor& side1 = conv3x3(w, "side1.weight");
    c.out_ch = side1.size(0);
    for (int k = 1; k <= 6; ++k) {
        const std::string key = "side" + std::to_string(k) + ".weight";
        const RsuConfig& source = c.stages[k == 6 ? 5 : 11 - k];
        c.side_in[k - 1] = source.out_ch;
        w.get(key, {c.out_ch, source.out_ch, 3, 3});
    }
    w.get("outconv.weight", {c.out_ch, 6 * c.out_ch, 1, 1});
}

std::string dtype_name(at::ScalarType type) {
    switch (type) {
        case at::kHalf:
            return "float16";
        case at::kBFloat16:
            return "bfloat16";
        case at::kDouble:
            return "float64";
        default:
            return "float32";
    }
}

bool same_widths(const U2NetConfig& a, const U2NetConfig& b) {
    for (size_t i = 0; i < a.stages.size(); ++i) {
        const RsuConfig &x = a.stages[i], &y = b.stages[i];
        if (x.in_ch != y.in_ch || x.mid_ch != y.mid_ch || x.out_ch != y.out_ch) return false;
    }
    return a.out_ch == b.out_ch;
}

void rebnconv_specs(Specs& s, const std::string& p, int64_t in, int64_t out) {
    s[p + ".conv_s1.weight"] = {{out, in, 3, 3}};
    for (const char* n : {"conv_s1.bias", "bn_s1.weight", "bn_s1.bias", "bn_s1.running_mean",
                          "bn_s1.running_var"}) {
        s[p + "." + n] = {{out}};
    }
    s[p + ".bn_s1.num_batches_tracked"] = {{}, true};
}

}  // namespace

std::vector<RsuConfig> u2net_stage_layout() {
    return {{"stage1", 7, false},  {"stage2", 6, false},  {"stage3", 5, false},
            {"stage4", 4, false},  {"stage5", 4, true},   {"stage6", 4, true},
            {"stage5d", 4, true},  {"stage4d", 4, false}, {"stage3d", 5, false},
            {"stage2d", 6, false}, {"stage1d", 7, false}};
}

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
    c.stages = u2net_stage_layout();
    for (size_t i = 0; i < c.stages.size(); ++i) {
        c.stages[i].in_ch = widths[i][0];
        c.stages[i].mid_ch = widths[i][1];
        c.stages[i].out_ch = widths[i][2];
    }
    for (int k = 1; k <= 6; ++k) c.side_in[k - 1] = c.stages[k == 6 ? 5 : 11 - k].out_ch;
    return c;
}

std::map<std::string, runtime::TensorSpec> u2net_tensor_specs(const U2NetConfig& c) {
    Specs s;
    for (const RsuConfig& st : c.stages) {
        const std::string p = st.name + ".rebnconv";
        rebnconv_specs(s, p + "in", st.in_ch, st.out_ch);
        rebnconv_specs(s, p + "1", st.out_ch, st.mid_ch);
        for (int k = 2; k <= st.height; ++k) {
            rebnconv_specs(s, p + std::to_string(k), st.mid_ch, st.mid_ch);
        }
        for (int k = st.height - 1; k >= 2; --k) {
            rebnconv_specs(s, p + std::to_string(k) + "d", 2 * st.mid_ch, st.mid_ch);
        }
        rebnconv_specs(s, p + "1d", 2 * st.mid_ch, st.out_ch);
    }
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
    config.stages = u2net_stage_layout();
    try {
        for (RsuConfig& stage : config.stages) infer_stage(w, stage);
        check_chaining(w, config);
    } catch (const runtime::WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    }
    config.arch = same_widths(config, official_u2net_config("u2net"))    ? "u2net"
                  : same_widths(config, official_u2net_config("u2netp")) ? "u2netp"
                                                                         : "u2net_custom";
    for (const auto& [key, tensor] : tensors) {
        if (at::isFloatingType(tensor.scalar_type())) config.parameter_count += tensor.numel();
    }
    config.dtype = dtype_name(tensors.at("stage1.rebnconvin.conv_s1.weight").scalar_type());
    return config;
}

}  // namespace ps::u2net
