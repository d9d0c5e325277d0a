// The videos of a folder tracked as one batch (`photosynth-cli track --input-dir`): which
// entries are videos, and each one's prompts file and output folder. Sharding splits these
// entries (batch::shard_of on `input`), one video being the unit: tracking a video is sequential.
//
//   auto listing = video::list_track_batch("clips", "prompts", "tracks");
//   // clips/a.mp4 -> prompts/a.json, tracks/a/ ; clips/b/ (frames) -> prompts/b.json, tracks/b/
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace ps::video {

struct TrackBatchItem {
    std::string input;    // the entry's name: "a.mp4", or "b" for a frame folder
    std::string name;     // the video's name: "a", "b" (the prompts file's and output's stem)
    std::string video;    // input folder / input
    std::string prompts;  // prompts folder / name.json
    std::string out_dir;  // output folder / name
    // Non-empty: the entry fails without being tracked (no prompts file, a name taken by an
    // earlier entry).
    std::string problem;
};

struct TrackBatchListing {
    std::vector<TrackBatchItem> items;  // by input, byte order
    int ignored = 0;                    // files that are neither videos (by suffix) nor folders
};

// A video file by its suffix: mp4, avi, mov, mkv, webm, m4v, mpg, mpeg, wmv (any case).
bool is_video_file_name(const std::string& name);

// The videos of `input_dir`: its video files and its folders (frame folders), hidden entries and
// the prompts and output folders (when they lie inside it) left out. Two entries with one name
// (a.mp4 and a.mov, or a.mp4 and a/): the later fails, so no two videos ever write one folder.
// Errors: the input folder missing, the output folder the input folder.
Result<TrackBatchListing> list_track_batch(const std::string& input_dir,
                                           const std::string& prompts_dir,
                                           const std::string& output_dir);

}  // namespace ps::video
