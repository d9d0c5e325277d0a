// What a `remove-bg --video` output folder was made from, kept beside its frames
// (remove-bg-video.json): a rerun into the same folder resumes only when the input, the model
// and every option that changes a frame's bytes are the same; anything else is refused rather
// than mixing frames of two runs.
#pragma once

#include <string>

#include "common/result.h"

namespace ps::video {

inline constexpr const char* kManifestName = "remove-bg-video.json";

struct VideoRunManifest {
    std::string input;  // absolute path of the video
    long long input_bytes = 0;
    int width = 0, height = 0;
    std::string model;          // the checkpoint's file name and size
    std::string outputs;        // "cutout" or "matte"
    std::string options;        // refinement, background and smoothing, as one canonical text
    long long frames_done = 0;  // set when the run finished: the video's frame count
    bool complete = false;

    // The fields that decide a frame's bytes differ (not frames_done / complete): their names,
    // "input, model", or "" when the same run.
    std::string differences(const VideoRunManifest& other) const;
};

// nullopt-like: Ok with found == false when `folder` has no manifest.
struct ManifestRead {
    bool found = false;
    VideoRunManifest manifest;
};
Result<ManifestRead> read_manifest(const std::string& folder);
Status write_manifest(const std::string& folder, const VideoRunManifest& manifest);

}  // namespace ps::video
