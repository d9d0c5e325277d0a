// photosynth-cli: the engine on the command line (segment, remove-bg, annotate, export...).
#include <QCoreApplication>

#include <iostream>

#include "commands.h"

namespace ps::cli {

int fail(const std::string& message, int code) {
    // Exactly one line, so scripts and tests can rely on it.
    std::string line = message;
    for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    std::cerr << "photosynth-cli: " << line << std::endl;
    return code;
}

}  // namespace ps::cli

namespace {

const char* const kHelp =
    "photosynth-cli COMMAND [options]\n"
    "  info CHECKPOINT [--json]            detected family, configuration, parameters, dtype\n"
    "  segment --model CKPT --image IMG --prompts PROMPTS.json --out DIR\n"
    "          [--device cpu|cuda|auto] [--precision fp32|fp16|bf16] [--metrics FILE.json]\n"
    "  remove-bg --model CKPT --image IMG --out OUT.png [--matte MATTE.png]\n"
    "          [--device cpu|cuda|auto] [--precision fp32|fp16|bf16]   U²-Net cut-out (RGBA)\n"
    "          or --input-dir DIR --output-dir DIR [--matte-dir DIR] [--jobs N] [--overwrite]\n"
    "  effect --name bw|pop_art|pop_art_grid|dither|halftone|duotone [--param k=v ...]\n"
    "          [--mask MASK.png --target object|background] --image IMG --out OUT.png\n"
    "          or --input-dir DIR --output-dir DIR [--jobs N] [--overwrite]; effect --list\n"
    "  bench-effects [--width 6000] [--height 4000] [--iterations N] [--json FILE]\n"
    "  bench --model CKPT... [--device ..] [--precision ..] [--images DIR | --synthetic WxH]\n"
    "          [--iterations N] [--warmup N] --json OUT.json [--csv OUT.csv]\n"
    "  init-checkpoint --arch vit_b|vit_l|vit_h|mobile_sam|u2net|u2netp --out F.safetensors\n"
    "          [--seed N]\n"
    "  annotate --model CKPT --input-dir DIR --points POINTS.json --project DIR [--jobs N]\n"
    "          [--device ..] [--precision ..] [--metrics FILE.json]   point prompts into a\n"
    "          project (created if absent), unverified; resumes, skipping annotated images\n"
    "  export --project DIR --format coco|yolo|labelme|png --out DIR [--polygons]\n"
    "          [--include-hidden] [--only-verified]\n"
    "  import --format coco|labelme --input FILE|DIR --project DIR [--image-dir DIR]\n"
    "  environment: PHOTOSYNTH_MAX_WORKERS, PHOTOSYNTH_EMBED_CACHE_MB, PHOTOSYNTH_DEVICE,\n"
    "  PHOTOSYNTH_PRECISION, PHOTOSYNTH_SLOW_MS, PHOTOSYNTH_MAX_FILE_MB, PHOTOSYNTH_MAX_PIXELS,\n"
    "  PHOTOSYNTH_CUDA_GRAPHS=0 (run CUDA forward passes without recorded graphs)\n";

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);  // Qt's image plugins and JSON need an application object
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "help") {
        std::cout << kHelp;
        return argc < 2 ? 2 : 0;
    }
    const std::string command = argv[1];
    const std::vector<std::string> rest(argv + 2, argv + argc);
    try {
        if (command == "info") return ps::cli::run_info(rest);
        if (command == "segment") return ps::cli::run_segment(rest);
        if (command == "remove-bg") return ps::cli::run_remove_bg(rest);
        if (command == "effect") return ps::cli::run_effect(rest);
        if (command == "bench-effects") return ps::cli::run_bench_effects(rest);
        if (command == "bench") return ps::cli::run_bench(rest);
        if (command == "init-checkpoint") return ps::cli::run_init_checkpoint(rest);
        if (command == "annotate") return ps::cli::run_annotate(rest);
        if (command == "export") return ps::cli::run_export(rest);
        if (command == "import") return ps::cli::run_import(rest);
    } catch (const std::exception& e) {
        // The engine returns errors as values; this is the last line of defence, never a crash.
        return ps::cli::fail(std::string("internal error: ") + e.what());
    }
    return ps::cli::fail("unknown command '" + command + "' (try --help)", 2);
}
