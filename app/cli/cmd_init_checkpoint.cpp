// `photosynth-cli init-checkpoint --arch ARCH --out F.safetensors`: a randomly initialised
// checkpoint with the official key names and shapes, so benchmarks need no downloaded weights.
#include <filesystem>
#include <iostream>

#include "cli_args.h"
#include "commands.h"
#include "io/checkpoint.h"
#include "models/sam/sam_init.h"
#include "models/sam/sam_shapes.h"

namespace ps::cli {

int run_init_checkpoint(const std::vector<std::string>& argv) {
    const char* usage =
        "usage: photosynth-cli init-checkpoint --arch vit_b|vit_l|vit_h|mobile_sam --out F.safetensors "
        "[--seed N]";
    auto args = parse_args(argv, {"arch", "out", "seed"}, {});
    if (!args) return fail(args.message() + " (" + usage + ")", 2);
    if (auto ok = require(*args, "init-checkpoint", {"arch", "out"}); !ok) {
        return fail(ok.message() + " (" + usage + ")", 2);
    }
    sam::SamConfig config;
    try {
        config = sam::official_sam_config(args->get("arch"));
    } catch (const std::invalid_argument& e) {
        return fail(std::string(e.what()) + " (" + usage + ")", 2);
    }
    const uint64_t seed = std::stoull(args->get("seed", "0"));
    const auto tensors = sam::random_sam_tensors(config, seed);
    if (auto saved = io::save_safetensors(args->get("out"), tensors,
                                          {{"format", "pt"},
                                           {"photosynth", "random init " + args->get("arch")}});
        !saved) {
        return fail(saved.message());
    }
    std::cout << "wrote " << args->get("out") << " (" << config.arch << ", " << tensors.size()
              << " tensors, " << std::filesystem::file_size(args->get("out")) << " bytes)\n";
    return 0;
}

}  // namespace ps::cli
