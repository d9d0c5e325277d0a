// remove-bg's pipeline options: from the command line, as manifest text, and back
// (remove_bg_pipeline.h).
#include "remove_bg_pipeline.h"

#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "io/image_reader.h"

namespace ps::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kImageKey = "background-image";
constexpr const char* kBytesKey = "background-bytes";

// pipeline_text's fields read in their order. Only the background image's path may hold ';':
// it runs to ";background-bytes=", which always follows a path.
class FieldReader {
  public:
    explicit FieldReader(const std::string& text) : text_(text) {}

    // `key`'s value, if the next field is `key`.
    std::optional<std::string> next(const std::string& key) {
        const std::string start = key + "=";
        if (text_.compare(at_, start.size(), start) != 0) return std::nullopt;
        const size_t from = at_ + start.size();
        size_t end = text_.find(';', from);
        if (key == kImageKey && end != from) {
            end = text_.rfind(std::string(";") + kBytesKey + "=");
            if (end == std::string::npos || end < from) return std::nullopt;
        }
        if (end == std::string::npos) end = text_.size();
        at_ = std::min(end + 1, text_.size());
        return text_.substr(from, end - from);
    }

  private:
    const std::string& text_;
    size_t at_ = 0;
};

// The byte count pipeline_text records beside a background image.
std::string file_bytes(const std::string& path) {
    std::error_code ec;
    const auto bytes = fs::file_size(path, ec);
    return ec ? std::string("?") : std::to_string(bytes);
}

// The background image recorded in a run's pipeline text, if it is still the file the run used.
Status check_background_image(const std::string& path, const std::string& recorded_bytes) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        return make_error(ErrorKind::Io, path +
                                             ": the background image the frames were made with "
                                             "is gone; put it back there to composite them");
    const std::string bytes = file_bytes(path);
    if (bytes != recorded_bytes)
        return make_error(ErrorKind::Mismatch,
                          path + ": " + bytes + " bytes, not the " + recorded_bytes +
                              " of the background image the frames were made with; put that "
                              "one back there to composite them");
    return Ok{};
}

}  // namespace

Result<Pipeline> read_pipeline(const Args& args) {
    Pipeline pipeline;
    if (args.has("feather")) {
        auto px = read_whole_number(args, "feather", 0, 100);  // the panel's range
        if (!px) return px.error();
        pipeline.refine.feather_sigma_px = *px;
    }
    if (args.has("grow")) {
        auto px = read_whole_number(args, "grow", -100, 100);
        if (!px) return px.error();
        pipeline.refine.grow_px = *px;
    }
    pipeline.refine.decontaminate = args.flags.count("decontaminate") > 0;
    if (args.has("background") && args.has(kImageKey)) {
        return make_error(ErrorKind::InvalidArgument,
                          "--background and --background-image exclude each other");
    }
    if (args.has("background")) {
        auto background = image::parse_background(args.get("background"));
        if (!background) return background.error();
        pipeline.background = *background;
    }
    if (args.has(kImageKey)) {
        // Read once, before the model loads: a typo costs nothing and every image shares it.
        auto background = io::read_rgb_image(args.get(kImageKey));
        if (!background) return background.error();
        pipeline.background.kind = image::BackgroundKind::Image;
        pipeline.background.image = std::move(background.value());
    }
    return pipeline;
}

std::string pipeline_text(const Args& args) {
    std::string text;
    for (const char* key : {"feather", "grow", "background"})
        text += std::string(key) + "=" + args.get(key) + ";";
    if (args.has(kImageKey)) {
        std::error_code ec;
        const fs::path image = fs::absolute(args.get(kImageKey), ec).lexically_normal();
        text += std::string(kImageKey) + "=" + image.string() + ";" + kBytesKey + "=" +
                file_bytes(image.string()) + ";";
    } else {
        text += std::string(kImageKey) + "=;";
    }
    return text + "decontaminate=" + (args.flags.count("decontaminate") ? "1" : "0");
}

Result<Pipeline> pipeline_from_text(const std::string& text) {
    FieldReader fields(text);
    Args args;
    for (const char* key : {"feather", "grow", "background", kImageKey}) {
        const auto value = fields.next(key);
        if (!value)
            return make_error(ErrorKind::Format, "remove-bg options '" + text + "': no " + key);
        if (!value->empty()) args.options[key] = {*value};
    }
    if (args.has(kImageKey)) {
        const auto bytes = fields.next(kBytesKey);
        if (!bytes)
            return make_error(ErrorKind::Format,
                              "remove-bg options '" + text + "': no " + kBytesKey);
        if (auto ok = check_background_image(args.get(kImageKey), *bytes); !ok) return ok.error();
    }
    const auto decontaminate = fields.next("decontaminate");
    if (!decontaminate || (*decontaminate != "0" && *decontaminate != "1"))
        return make_error(ErrorKind::Format, "remove-bg options '" + text + "': no decontaminate");
    if (*decontaminate == "1") args.flags.insert("decontaminate");
    return read_pipeline(args);
}

}  // namespace ps::cli
