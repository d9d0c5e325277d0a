// Which inputs of a batch one task of a cluster job handles: a deterministic split of the sorted
// relative paths by a stable hash, so every input lands in exactly one of N shards whatever the
// machine, the order the files were listed in or the number of tasks that run at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ps::batch {

// Shard `index` of `count`, 0-based: what `--shard 2/4`, SLURM_ARRAY_TASK_ID=2 of an
// `--array=0-3` job, or a Kubernetes Indexed Job's JOB_COMPLETION_INDEX=2 with `--shards 4` name.
struct Shard {
    int index = 0;
    int count = 1;
    bool operator==(const Shard& other) const {
        return index == other.index && count == other.count;
    }
};

// "2-of-4": the name of the shard's summary and journal files.
std::string shard_file_stem(const Shard& shard);
// "2/4", as the option spells it.
std::string to_string(const Shard& shard);

// "I/N" with 0 <= I < N <= 100000; the error quotes the text.
Result<Shard> parse_shard(const std::string& text);
// "--shards N": a whole number from 1 to 100000.
Result<int> parse_shard_count(const std::string& text);

// The environment variables that name a task of a cluster job, read by shard_from_environment.
using EnvironmentLookup = std::function<std::optional<std::string>(const char* name)>;
EnvironmentLookup process_environment();

// The shard when no --shard was given, from (in this order):
//  - SLURM_ARRAY_TASK_ID: the index; the count is `shards` (--shards N) when given, else
//    SLURM_ARRAY_TASK_COUNT, else SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1. Arrays number
//    from 0 (--array=0-3). A resubmitted subset (--array=2) has COUNT 1, so the sbatch templates
//    always pass --shards N: then the task's own index is taken as it is.
//  - JOB_COMPLETION_INDEX (Kubernetes Indexed Job): the index; `shards` is required.
// nullopt when none is set (and no --shards): the whole batch, as on one machine. Errors name
// the variables: an index outside the count, a stepped or offset array without --shards, a
// --shards with no task index to go with it.
Result<std::optional<Shard>> shard_from_environment(const EnvironmentLookup& environment,
                                                    std::optional<int> shards);

// FNV-1a, 64 bits: stable across machines, compilers and runs (std::hash is none of these).
uint64_t fnv1a_64(std::string_view bytes, uint64_t hash = 14695981039346656037ull);

// The shard that owns `relative_path` (UTF-8, '/' separators): fnv1a_64(path) mod count.
int shard_of(const std::string& relative_path, int count);

// The paths of `sorted_paths` that `shard` owns, in their order.
std::vector<std::string> select_shard(const std::vector<std::string>& sorted_paths,
                                      const Shard& shard);

// A sequence's share instead of a folder's: the contiguous items [first, end) of `total` that
// `shard` owns, first = floor(I * total / N), end = floor((I + 1) * total / N). Contiguous,
// because a video's frames are decoded in order and smoothed over their predecessors; every
// item lands in exactly one shard and the shares differ by at most one item.
struct ItemRange {
    long long first = 0, end = 0;
    long long size() const { return end - first; }
};
ItemRange shard_range(long long total, const Shard& shard);

}  // namespace ps::batch
