// A small "--key value" / "--flag" parser for photosynth-cli's subcommands.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "batch/shard.h"
#include "common/result.h"
#include "models/sam/sam_model.h"
#include "models/sam2/sam2_model.h"

namespace ps::cli {

struct Args {
    std::map<std::string, std::vector<std::string>> options;  // repeated keys accumulate
    std::set<std::string> flags;
    std::vector<std::string> positional;

    bool has(const std::string& key) const { return options.count(key) || flags.count(key); }
    std::string get(const std::string& key, const std::string& fallback = {}) const;
};

// `valued` lists options that take a value; `flags` those that do not. Anything else starting
// with "-" is an unknown option, and arguments beyond `max_positional` are unexpected: both are
// errors, so a mistyped option is never silently ignored. (`--help` and `-h` are answered by
// main before a command parses its arguments.)
Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                        const std::set<std::string>& flags, size_t max_positional = 0);

// Error unless every key in `required` is present: "segment: missing --model".
Status require(const Args& args, const std::string& command,
               const std::vector<std::string>& required);

// --device and --precision, when given, override `device` and `precision` (which hold the
// defaults from the environment); an unknown value is an error naming it.
Status read_device_options(const Args& args, runtime::Device& device,
                           runtime::Precision& precision);

// --KEY as a whole number from lowest to highest; anything else is an error quoting the value.
Result<int> read_whole_number(const Args& args, const std::string& key, int lowest, int highest);

// --KEY WIDTHxHEIGHT, when given, overrides `width` and `height`; anything but two whole numbers
// >= 1 is an error quoting the value.
Status read_size_option(const Args& args, const std::string& key, int& width, int& height);

// --sam2-layout "image_size=256,num_heads=1,window_spec=8:4:6:3,global_att_blocks=4:6": what a
// SAM 2 checkpoint of an unpublished layout (the tests' tiny one) does not store; none when the
// option is absent. An unknown key or a bad number is an error quoting the value.
Result<sam2::Sam2LayoutOverrides> read_sam2_layout_option(const Args& args);

// The options of every batch command that runs as one shard of a cluster job: add them to the
// command's valued options, then read them with read_shard_options.
std::set<std::string> with_shard_options(std::set<std::string> valued);

// --shard I/N; else the task's place in a Slurm job array or a Kubernetes Indexed Job
// (batch::shard_from_environment, with --shards N when given); nullopt: the whole batch, as on
// one machine. --shard and --shards exclude each other.
Result<std::optional<batch::Shard>> read_shard_options(const Args& args);

}  // namespace ps::cli
