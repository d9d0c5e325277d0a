// photosynth-cli: the engine on the command line (segment, remove-bg, annotate, export...).
#include <QCoreApplication>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

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

struct Command {
    const char* name;
    int (*run)(const std::vector<std::string>& argv);
    const char* usage;    // the command's one-line synopsis (commands.h)
    const char* summary;  // what it does, for --help
};

const Command kCommands[] = {
    {"info", ps::cli::run_info, ps::cli::kInfoUsage,
     "what a checkpoint holds: its family (sam, mobile_sam, u2net, isnet), configuration read off "
     "the "
     "tensor shapes, parameter count and dtype"},
    {"segment", ps::cli::run_segment, ps::cli::kSegmentUsage,
     "SAM or MobileSAM masks for each prompt of PROMPTS.json: promptK_maskI.png and result.json "
     "in DIR"},
    {"remove-bg", ps::cli::run_remove_bg, ps::cli::kRemoveBgUsage,
     "U²-Net or ISNet cut-out (RGBA) and matte of one image, or of every image of a folder"},
    {"effect", ps::cli::run_effect, ps::cli::kEffectUsage,
     "an image effect on the whole image, or on an object or its background through a mask"},
    {"bench-effects", ps::cli::run_bench_effects, ps::cli::kBenchEffectsUsage,
     "times every effect on a synthetic image"},
    {"bench", ps::cli::run_bench, ps::cli::kBenchUsage,
     "per-stage latency of each model through the engine, as JSON and CSV"},
    {"init-checkpoint", ps::cli::run_init_checkpoint, ps::cli::kInitCheckpointUsage,
     "randomly initialised weights with the official key names and shapes"},
    {"annotate", ps::cli::run_annotate, ps::cli::kAnnotateUsage,
     "point prompts into a project (created if absent), unverified; resumes, skipping annotated "
     "images"},
    {"export", ps::cli::run_export, ps::cli::kExportUsage,
     "a project's objects as COCO, YOLO, LabelMe or PNG masks"},
    {"import", ps::cli::run_import, ps::cli::kImportUsage,
     "COCO or LabelMe annotations into a project"},
    {"track", ps::cli::run_track, ps::cli::kTrackUsage,
     "SAM 2.1 objects tracked through a video (file or frame folder) from a prompts file into a "
     "resumable track store in DIR, exported as PNG masks, YouTube-VIS JSON or RGBA cut-outs; "
     "--input-dir: every video of a folder, split over machines with --shard I/N"},
    {"merge", ps::cli::run_merge, ps::cli::kMergeUsage,
     "the shard summaries of a batch split with --shard I/N (or a Slurm array) gathered into one "
     "report: done, failed, skipped, each failure and each shard's images/s"},
};

const char kUsagePrefix[] = "usage: photosynth-cli ";
constexpr size_t kLineWidth = 100;

const char kEnvironment[] =
    "environment: PHOTOSYNTH_MAX_WORKERS, PHOTOSYNTH_EMBED_CACHE_MB, PHOTOSYNTH_DEVICE, "
    "PHOTOSYNTH_PRECISION, PHOTOSYNTH_SLOW_MS, PHOTOSYNTH_MAX_FILE_MB, PHOTOSYNTH_MAX_PIXELS, "
    "PHOTOSYNTH_CUDA_GRAPHS=0 (run CUDA forward passes without recorded graphs)";

// The words of `text`, an optional group ("[--device cpu|cuda|auto]") counting as one word so
// that a line never breaks inside it.
std::vector<std::string> words_of(const std::string& text) {
    std::istringstream stream(text);
    std::vector<std::string> words;
    std::string word;
    int depth = 0;
    while (stream >> word) {
        if (depth > 0) {
            words.back() += " " + word;
        } else {
            words.push_back(word);
        }
        depth += static_cast<int>(std::count(word.begin(), word.end(), '[')) -
                 static_cast<int>(std::count(word.begin(), word.end(), ']'));
    }
    return words;
}

// `text` in lines of at most kLineWidth columns (a longer word gets a line of its own); the first
// line starts at `first_indent`, the others at `indent`.
std::string wrap(const std::string& text, size_t first_indent, size_t indent) {
    std::string out(first_indent, ' ');
    size_t column = first_indent;
    bool line_empty = true;
    for (const std::string& word : words_of(text)) {
        if (!line_empty && column + 1 + word.size() > kLineWidth) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
            line_empty = true;
        }
        if (!line_empty) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        line_empty = false;
    }
    return out + "\n";
}

// `photosynth-cli NAME --help`: the synopsis (continuation lines under the command's options),
// then what the command does.
std::string command_help(const Command& command) {
    const size_t options_column =
        std::string(kUsagePrefix).size() + std::string(command.name).size() + 1;
    return wrap(command.usage, 0, options_column) + wrap(command.summary, 2, 2);
}

// `photosynth-cli --help`: every command at the margin, its options and summary indented.
std::string overall_help() {
    std::string out =
        std::string(kUsagePrefix) +
        "COMMAND [options]; `photosynth-cli COMMAND --help` (or -h) for one command\n";
    for (const Command& command : kCommands) {
        const std::string synopsis =
            std::string(command.usage).substr(std::string(kUsagePrefix).size());
        out +=
            wrap(synopsis, 2, 4 + std::string(command.name).size()) + wrap(command.summary, 6, 6);
    }
    return out + wrap(kEnvironment, 0, 4);
}

const Command* find_command(const std::string& name) {
    for (const Command& command : kCommands) {
        if (name == command.name) return &command;
    }
    return nullptr;
}

bool asks_for_help(const std::string& argument) {
    return argument == "--help" || argument == "-h";
}

}  // namespace

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);  // Qt's image plugins and JSON need an application object
    if (argc < 2) {
        std::cout << overall_help();
        return 2;
    }
    const std::string command_name = argv[1];
    const std::vector<std::string> rest(argv + 2, argv + argc);
    if (asks_for_help(command_name) || (command_name == "help" && rest.empty())) {
        std::cout << overall_help();
        return 0;
    }
    if (command_name == "help") {
        if (rest.size() > 1) return ps::cli::fail("help takes one command name (try --help)", 2);
        const Command* command = find_command(rest[0]);
        if (command == nullptr)
            return ps::cli::fail("help: unknown command '" + rest[0] + "' (try --help)", 2);
        std::cout << command_help(*command);
        return 0;
    }
    const Command* command = find_command(command_name);
    if (command == nullptr)
        return ps::cli::fail("unknown command '" + command_name + "' (try --help)", 2);
    // A request for help wins over anything else on the line, even where it stands as an
    // option's value: `segment --model m.pth --help` is answered, not refused for a missing
    // --image. (A file literally named -h is still reachable as ./-h.)
    if (std::any_of(rest.begin(), rest.end(), asks_for_help)) {
        std::cout << command_help(*command);
        return 0;
    }
    try {
        return command->run(rest);
    } catch (const std::exception& e) {
        // The engine returns errors as values; this is the last line of defence, never a crash.
        return ps::cli::fail(std::string("internal error: ") + e.what());
    }
}
