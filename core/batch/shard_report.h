// The shards of one batch gathered into one report: what `photosynth-cli merge` prints and
// writes to <root>/.photosynth/report.json.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "batch/shard_journal.h"
#include "common/result.h"

namespace ps::batch {

struct MergedReport {
    std::string command;
    int shards = 0;
    int inputs = 0, done = 0, failed = 0, skipped = 0, pending = 0;
    std::vector<ShardSummary> summaries;  // by shard index
    std::vector<int> missing;             // shard indices that wrote no summary (never started)
    std::vector<std::pair<std::string, std::string>> failures;  // file, reason; sorted by file
    bool complete() const { return missing.empty() && pending == 0; }
};

// Reads every "<I>-of-<N>.json" of <root>/.photosynth/shards. Errors: no summaries at all, an
// unreadable one (named), summaries of two different splits (N) or of two commands.
Result<MergedReport> merge_shard_summaries(const std::string& root);

std::string report_to_json(const MergedReport& report);
// What the command's inputs are called in messages: "video" for track (a folder of videos),
// "frame" for remove-bg --video, else "image".
std::string input_noun(const std::string& command);

// For people: the totals, each shard's counts and throughput, then every failure "file: reason".
std::string report_to_text(const MergedReport& report);

}  // namespace ps::batch
