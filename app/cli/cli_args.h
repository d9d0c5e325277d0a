// A small "--key value" / "--flag" parser for photosynth-cli's subcommands.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace ps::cli {

struct Args {
    std::map<std::string, std::vector<std::string>> options;  // repeated keys accumulate
    std::set<std::string> flags;
    std::vector<std::string> positional;

    bool has(const std::string& key) const { return options.count(key) || flags.count(key); }
    std::string get(const std::string& key, const std::string& fallback = {}) const;
};

// `valued` lists options that take a value; `flags` those that do not. Anything else is an error.
Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                        const std::set<std::string>& flags);

// Error unless every key in `required` is present: "segment: missing --model".
Status require(const Args& args, const std::string& command,
               const std::vector<std::string>& required);

}  // namespace ps::cli
