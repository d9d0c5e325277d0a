// `photosynth-cli init-checkpoint --arch ARCH --out F.safetensors`: a randomly initialised
// checkpoint with the official key names and shapes, so benchmarks need no downloaded weights.
#include <ATen/core/Tensor.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "io/checkpoint.h"
#include "models/birefnet/birefnet_config.h"
#include "models/inspyrenet/inspyrenet_config.h"
#include "models/isnet/isnet_config.h"
#include "models/sam/sam_init.h"
#include "models/sam/sam_shapes.h"
#include "models/sam2/sam2_init.h"
#include "models/u2net/u2net_config.h"
#include "output_checks.h"

namespace ps::cli {

const char kInitCheckpointUsage[] =
    "usage: photosynth-cli init-checkpoint --arch ARCH --out F.safetensors [--seed N]; ARCH: "
    "vit_b, vit_l, vit_h, mobile_sam, u2net, u2netp, isnet, inspyrenet_res2net50, "
    "inspyrenet_swinb, birefnet, birefnet_hr, birefnet_dynamic, birefnet_lite, birefnet_lite_2k, "
    "sam2.1_hiera_t, sam2.1_hiera_s, sam2.1_hiera_b+, sam2.1_hiera_l "
    "(inspyrenet_swinb: transparent-background's layout, one for "
    "both modes; a file name with \"fast\" in it runs at 384, any other at 1024; BiRefNet: "
    "the variants of one backbone share a layout, the input size follows the file name: \"_HR\" "
    "2048x2048, \"2K\" 2560x1440, else 1024x1024)";

int run_init_checkpoint(const std::vector<std::string>& argv) {
    auto args = parse_args(argv, {"arch", "out", "seed"}, {});
    if (!args) return fail(args.message() + " (" + kInitCheckpointUsage + ")", 2);
    if (auto ok = require(*args, "init-checkpoint", {"arch", "out"}); !ok) {
        return fail(ok.message() + " (" + kInitCheckpointUsage + ")", 2);
    }
    const std::string arch = args->get("arch");
    // Digits only: std::stoull would throw on "abc" and accept "-1" or "12abc".
    const std::string seed_text = args->get("seed", "0");
    uint64_t seed = 0;
    const auto parsed =
        std::from_chars(seed_text.data(), seed_text.data() + seed_text.size(), seed);
    if (seed_text.empty() || parsed.ec != std::errc() ||
        parsed.ptr != seed_text.data() + seed_text.size()) {
        return fail("--seed '" + seed_text + "' is not a whole number from 0 to " +
                        std::to_string(UINT64_MAX) + " (" + kInitCheckpointUsage + ")",
                    2);
    }
    if (auto ok = check_output_file("out", args->get("out")); !ok) return fail(ok.message());
    std::map<std::string, at::Tensor> tensors;
    try {
        tensors =
            arch.rfind("u2net", 0) == 0
                ? runtime::random_tensors(
                      u2net::u2net_tensor_specs(u2net::official_u2net_config(arch)), seed)
            : arch == "isnet"
                ? runtime::random_tensors(
                      isnet::isnet_tensor_specs(isnet::official_isnet_config(arch)), seed)
            : arch.rfind("birefnet", 0) == 0
                ? runtime::random_tensors(
                      birefnet::birefnet_tensor_specs(birefnet::official_birefnet_config(arch)),
                      seed)
            : arch.rfind("sam2", 0) == 0
                ? sam2::random_sam2_tensors(sam2::official_sam2_config(arch), seed)
            : arch.rfind("inspyrenet", 0) == 0
                ? runtime::random_tensors(inspyrenet::inspyrenet_tensor_specs(
                                              inspyrenet::official_inspyrenet_config(arch)),
                                          seed)
                : sam::random_sam_tensors(sam::official_sam_config(arch), seed);
    } catch (const std::invalid_argument& e) {
        return fail(std::string(e.what()) + " (" + kInitCheckpointUsage + ")", 2);
    }
    if (auto saved = io::save_safetensors(
            args->get("out"), tensors,
            {{"format", "pt"}, {"photosynth", "random init " + args->get("arch")}});
        !saved) {
        return fail(saved.message());
    }
    std::cout << "wrote " << args->get("out") << " (" << arch << ", " << tensors.size()
              << " tensors, " << std::filesystem::file_size(args->get("out")) << " bytes)\n";
    return 0;
}

}  // namespace ps::cli
