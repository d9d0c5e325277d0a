// Argument parsing for photosynth-cli.
#include "cli_args.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

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

Result<int> read_whole_number(const Args& args, const std::string& key, int lowest, int highest) {
    const std::string text = args.get(key);
    char* end = nullptr;
    errno = 0;
    const long value = text.empty() ? 0 : std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE || value < lowest || value > highest) {
        return make_error(ErrorKind::InvalidArgument,
                          "--" + key + " '" + text + "': expected a whole number from " +
                              std::to_string(lowest) + " to " + std::to_string(highest));
    }
    return static_cast<int>(value);
}

Status read_size_option(const Args& args, const std::string& key, int& width, int& height) {
    if (!args.has(key)) return Ok{};
    const std::string wxh = args.get(key);
    int w = 0, h = 0;
    char rest = 0;
    if (std::sscanf(wxh.c_str(), "%dx%d%c", &w, &h, &rest) != 2 || w < 1 || h < 1) {
        return make_error(ErrorKind::InvalidArgument,
                          "--" + key + " must be WIDTHxHEIGHT, got '" + wxh + "'");
    }
    width = w;
    height = h;
    return Ok{};
}

Result<sam2::Sam2LayoutOverrides> read_sam2_layout_option(const Args& args) {
    sam2::Sam2LayoutOverrides layout;
    if (!args.has("sam2-layout")) return layout;
    const std::string text = args.get("sam2-layout");
    const auto bad = [&text](const std::string& why) {
        return make_error(ErrorKind::InvalidArgument, "--sam2-layout '" + text + "': " + why);
    };
    // "A:B:C" -> {A, B, C}, each a whole number >= 0.
    const auto numbers = [](const std::string& value) {
        std::vector<int64_t> out;
        size_t start = 0;
        while (start <= value.size()) {
            const size_t colon = std::min(value.find(':', start), value.size());
            const std::string item = value.substr(start, colon - start);
            size_t used = 0;
            const long long n = std::stoll(item, &used);
            if (used != item.size() || n < 0) throw std::invalid_argument(item);
            out.push_back(n);
            start = colon + 1;
        }
        return out;
    };
    for (size_t start = 0; start < text.size();) {
        const size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        const size_t equals = item.find('=');
        if (equals == std::string::npos) return bad("expected key=value, got '" + item + "'");
        const std::string key = item.substr(0, equals), value = item.substr(equals + 1);
        try {
            if (key == "image_size") {
                layout.image_size = numbers(value).at(0);
            } else if (key == "num_heads") {
                layout.num_heads = numbers(value).at(0);
            } else if (key == "window_spec") {
                layout.window_spec = numbers(value);
            } else if (key == "global_att_blocks") {
                layout.global_att_blocks = numbers(value);
            } else {
                return bad("unknown key '" + key +
                           "' (image_size, num_heads, window_spec, global_att_blocks)");
            }
        } catch (const std::exception&) {
            return bad("'" + value + "' is not a number or a list A:B:...");
        }
        start = comma + 1;
    }
    return layout;
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
