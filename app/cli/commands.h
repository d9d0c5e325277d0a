// photosynth-cli subcommands. Each returns the process exit code; errors go to stderr as one line.
#pragma once

#include <string>
#include <vector>

namespace ps::cli {

int run_info(const std::vector<std::string>& argv);
int run_segment(const std::vector<std::string>& argv);
int run_remove_bg(const std::vector<std::string>& argv);
int run_effect(const std::vector<std::string>& argv);
int run_bench_effects(const std::vector<std::string>& argv);
int run_bench(const std::vector<std::string>& argv);
int run_init_checkpoint(const std::vector<std::string>& argv);
int run_annotate(const std::vector<std::string>& argv);
int run_export(const std::vector<std::string>& argv);
int run_import(const std::vector<std::string>& argv);
int run_track(const std::vector<std::string>& argv);
int run_merge(const std::vector<std::string>& argv);

// Each command's synopsis on one line, "usage: photosynth-cli NAME ...", defined beside the
// command: quoted in its usage errors, and wrapped by main for `photosynth-cli NAME --help`.
extern const char kInfoUsage[];
extern const char kSegmentUsage[];
extern const char kRemoveBgUsage[];
extern const char kEffectUsage[];
extern const char kBenchEffectsUsage[];
extern const char kBenchUsage[];
extern const char kInitCheckpointUsage[];
extern const char kAnnotateUsage[];
extern const char kExportUsage[];
extern const char kImportUsage[];
extern const char kTrackUsage[];
extern const char kMergeUsage[];

// Prints "photosynth-cli: <message>" on one line to stderr and returns 1 (2 for usage errors).
int fail(const std::string& message, int code = 1);

}  // namespace ps::cli
