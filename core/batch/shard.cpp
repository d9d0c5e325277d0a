// Shard selection: parsing, the cluster environment, the stable hash split.
#include "batch/shard.h"

#include <cstdlib>

namespace ps::batch {
namespace {

constexpr long kMaxShards = 100000;

// A whole number of the text and nothing else.
std::optional<long> whole(const std::string& text) {
    if (text.empty() || text.size() > 9) return std::nullopt;
    long value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

Error environment_error(const std::string& message) {
    return make_error(ErrorKind::InvalidArgument, message);
}

// The variable as a whole number; an error when set to anything else.
Result<std::optional<long>> number_variable(const EnvironmentLookup& environment,
                                            const char* name) {
    const std::optional<std::string> text = environment(name);
    if (!text) return std::optional<long>{};
    const std::optional<long> value = whole(*text);
    if (!value)
        return environment_error(std::string(name) + "='" + *text + "': expected a whole number");
    return value;
}

Result<Shard> checked(long index, long count, const std::string& source) {
    if (count < 1 || count > kMaxShards)
        return environment_error(source + ": a shard count of " + std::to_string(count) +
                                 ", expected 1 to " + std::to_string(kMaxShards));
    if (index >= count)
        return environment_error(source + ": index " + std::to_string(index) +
                                 " is not below the shard count " + std::to_string(count) +
                                 " (indices number from 0)");
    return Shard{static_cast<int>(index), static_cast<int>(count)};
}

}  // namespace

std::string shard_file_stem(const Shard& shard) {
    return std::to_string(shard.index) + "-of-" + std::to_string(shard.count);
}

std::string to_string(const Shard& shard) {
    return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

Result<Shard> parse_shard(const std::string& text) {
    const size_t slash = text.find('/');
    const std::optional<long> index =
        slash == std::string::npos ? std::nullopt : whole(text.substr(0, slash));
    const std::optional<long> count =
        slash == std::string::npos ? std::nullopt : whole(text.substr(slash + 1));
    if (!index || !count || *count < 1 || *count > kMaxShards || *index >= *count)
        return make_error(ErrorKind::InvalidArgument,
                          "--shard '" + text + "': expected I/N with 0 <= I < N <= " +
                              std::to_string(kMaxShards) + " (e.g. 0/4 ... 3/4)");
    return Shard{static_cast<int>(*index), static_cast<int>(*count)};
}

Result<int> parse_shard_count(const std::string& text) {
    const std::optional<long> count = whole(text);
    if (!count || *count < 1 || *count > kMaxShards)
        return make_error(ErrorKind::InvalidArgument, "--shards '" + text +
                                                          "': expected a whole number from 1 to " +
                                                          std::to_string(kMaxShards));
    return static_cast<int>(*count);
}

EnvironmentLookup process_environment() {
    return [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

Result<std::optional<Shard>> shard_from_environment(const EnvironmentLookup& environment,
                                                    std::optional<int> shards) {
    auto task_id = number_variable(environment, "SLURM_ARRAY_TASK_ID");
    if (!task_id) return task_id.error();
    if (*task_id) {
        const long index = **task_id;
        if (shards) {
            auto shard = checked(index, *shards, "SLURM_ARRAY_TASK_ID with --shards");
            if (!shard) return shard.error();
            return std::optional<Shard>(*shard);
        }
        auto count = number_variable(environment, "SLURM_ARRAY_TASK_COUNT");
        auto lowest = number_variable(environment, "SLURM_ARRAY_TASK_MIN");
        auto highest = number_variable(environment, "SLURM_ARRAY_TASK_MAX");
        auto step = number_variable(environment, "SLURM_ARRAY_TASK_STEP");
        for (const auto* value : {&count, &lowest, &highest, &step})
            if (!*value) return value->error();
        if ((*lowest && **lowest != 0) || (*step && **step != 1))
            return environment_error(
                "SLURM_ARRAY_TASK_ID: an array that does not run 0, 1, 2... (--array=0-N-1) "
                "needs --shards N to say how many shards the inputs are split into");
        long total = 0;
        std::string source = "SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT";
        if (*count) {
            total = **count;
        } else if (*highest) {
            total = **highest - (*lowest ? **lowest : 0) + 1;
            source = "SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1";
        } else {
            return environment_error(
                "SLURM_ARRAY_TASK_ID is set without SLURM_ARRAY_TASK_COUNT or "
                "SLURM_ARRAY_TASK_MAX: give --shards N");
        }
        auto shard = checked(index, total, source);
        if (!shard) return shard.error();
        return std::optional<Shard>(*shard);
    }
    auto completion = number_variable(environment, "JOB_COMPLETION_INDEX");
    if (!completion) return completion.error();
    if (*completion) {
        if (!shards)
            return environment_error(
                "JOB_COMPLETION_INDEX is set: give --shards N (the Indexed Job's completions)");
        auto shard = checked(**completion, *shards, "JOB_COMPLETION_INDEX with --shards");
        if (!shard) return shard.error();
        return std::optional<Shard>(*shard);
    }
    if (shards)
        return environment_error(
            "--shards N takes the index from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, and "
            "neither is set (on one machine, --shard I/N)");
    return std::optional<Shard>{};
}

uint64_t fnv1a_64(std::string_view bytes, uint64_t hash) {
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= 1099511628211ull;
    }
    return hash;
}

int shard_of(const std::string& relative_path, int count) {
    return static_cast<int>(fnv1a_64(relative_path) % static_cast<uint64_t>(count));
}

std::vector<std::string> select_shard(const std::vector<std::string>& sorted_paths,
                                      const Shard& shard) {
    std::vector<std::string> owned;
    for (const std::string& path : sorted_paths)
        if (shard_of(path, shard.count) == shard.index) owned.push_back(path);
    return owned;
}

ItemRange shard_range(long long total, const Shard& shard) {
    // 128-bit products: total * N cannot overflow whatever the video's length.
    const auto bound = [&](int index) {
        return static_cast<long long>(static_cast<__int128>(total) * index / shard.count);
    };
    return {bound(shard.index), bound(shard.index + 1)};
}

}  // namespace ps::batch
