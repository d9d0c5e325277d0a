// Argument parsing for photosynth-cli.
#include "cli_args.h"

namespace ps::cli {

std::string Args::get(const std::string& key, const std::string& fallback) const {
    auto it = options.find(key);
    return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                        const std::set<std::string>& flags, size_t max_positional) {
    Args args;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.size() > 1 && a[0] == '-' && a[1] != '-') {  // "-" alone may name standard input
            return make_error(ErrorKind::InvalidArgument, "unknown option " + a);
        }
        if (a.rfind("--", 0) != 0 || a == "--") {
            if (args.positional.size() == max_positional) {
                return make_error(ErrorKind::InvalidArgument, "unexpected argument '" + a + "'");
            }
            args.positional.push_back(a);
            continue;
        }
        std::string key = a.substr(2), value;
        const size_t eq = key.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            value = key.substr(eq + 1);
            key = key.substr(0, eq);
        }
        if (flags.count(key) && !inline_value) {
            args.flags.insert(key);
        } else if (valued.count(key)) {
            if (!inline_value) {
                if (i + 1 >= argv.size()) {
                    return make_error(ErrorKind::InvalidArgument, "--" + key + " needs a value");
                }
                value = argv[++i];
            }
            args.options[key].push_back(value);
        } else {
            return make_error(ErrorKind::InvalidArgument, "unknown option --" + key);
        }
    }
    return args;
}

Status require(const Args& args, const std::string& command,
               const std::vector<std::string>& required) {
    for (const std::string& key : required) {
        if (!args.has(key)) {
            return make_error(ErrorKind::InvalidArgument, command + ": missing --" + key);
        }
    }
    return Ok{};
}

Status read_device_options(const Args& args, runtime::Device& device,
                           runtime::Precision& precision) {
    if (args.has("device")) {
        auto parsed = runtime::parse_device(args.get("device"));
        if (!parsed) return parsed.error();
        device = *parsed;
    }
    if (args.has("precision")) {
        auto parsed = runtime::parse_precision(args.get("precision"));
        if (!parsed) return parsed.error();
        precision = *parsed;
    }
    return Ok{};
}

std::set<std::string> with_shard_options(std::set<std::string> valued) {
    valued.insert({"shard", "shards"});
    return valued;
}

Result<std::optional<batch::Shard>> read_shard_options(const Args& args) {
    if (args.has("shard") && args.has("shards"))
        return make_error(ErrorKind::InvalidArgument,
                          "--shard I/N and --shards N exclude each other");
    if (args.has("shard")) {
        auto shard = batch::parse_shard(args.get("shard"));
        if (!shard) return shard.error();
        return std::optional<batch::Shard>(*shard);
    }
    std::optional<int> shards;
    if (args.has("shards")) {
        auto count = batch::parse_shard_count(args.get("shards"));
        if (!count) return count.error();
        shards = *count;
    }
    return batch::shard_from_environment(batch::process_environment(), shards);
}

}  // namespace ps::cli
