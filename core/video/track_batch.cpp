// list_track_batch: the input folder's entries, sorted, paired with prompts and output folders.
#include "video/track_batch.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <system_error>

namespace ps::video {
namespace {

namespace fs = std::filesystem;

// The canonical path, or the absolute one when it does not exist yet.
fs::path comparable(const std::string& path) {
    std::error_code error;
    fs::path canonical = fs::weakly_canonical(fs::absolute(path), error);
    return error ? fs::absolute(path).lexically_normal() : canonical;
}

}  // namespace

bool is_video_file_name(const std::string& name) {
    std::string ext = fs::path(name).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* known :
         {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
        if (ext == known) return true;
    return false;
}

Result<TrackBatchListing> list_track_batch(const std::string& input_dir,
                                           const std::string& prompts_dir,
                                           const std::string& output_dir) {
    std::error_code error;
    if (!fs::is_directory(input_dir, error))
        return make_error(ErrorKind::Io, input_dir + ": no such folder");
    const fs::path input = comparable(input_dir);
    const fs::path prompts = comparable(prompts_dir);
    const fs::path output = comparable(output_dir);
    // The output folder holds one folder per video: as the input folder they would be read
    // back as frame folders.
    if (output == input)
        return make_error(ErrorKind::InvalidArgument,
                          output_dir +
                              ": --output-dir must differ from --input-dir, so the "
                              "tracks are never taken for frame folders");

    TrackBatchListing listing;
    std::vector<std::pair<std::string, bool>> entries;  // name, is a folder
    for (fs::directory_iterator it(input_dir, error), end; !error && it != end;
         it.increment(error)) {
        const std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.') continue;
        std::error_code kind;
        if (it->is_directory(kind)) {
            const fs::path folder = comparable(it->path().string());
            if (folder != output && folder != prompts) entries.emplace_back(name, true);
        } else if (is_video_file_name(name)) {
            entries.emplace_back(name, false);
        } else {
            ++listing.ignored;
        }
    }
    if (error)
        return make_error(ErrorKind::Io, input_dir + ": cannot list (" + error.message() + ")");
    std::sort(entries.begin(), entries.end());

    std::map<std::string, std::string> owner;  // video name -> the entry that took it
    for (const auto& [entry, folder] : entries) {
        TrackBatchItem item;
        item.input = entry;
        item.name = folder ? entry : fs::path(entry).stem().string();
        item.video = (fs::path(input_dir) / entry).string();
        item.prompts = (fs::path(prompts_dir) / (item.name + ".json")).string();
        item.out_dir = (fs::path(output_dir) / item.name).string();
        const auto [it, fresh] = owner.emplace(item.name, entry);
        if (!fresh)
            item.problem = "same output folder " + item.name + " as " + it->second;
        else if (!fs::is_regular_file(item.prompts, error))
            item.problem = "no prompts file " + item.prompts;
        listing.items.push_back(std::move(item));
    }
    return listing;
}

}  // namespace ps::video
