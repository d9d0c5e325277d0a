// The prompts file of `photosynth-cli track` (docs/track-prompts.md): objects, each with prompts
// on any frames — points, a box, or a mask PNG — in video pixels, checked against the video with
// messages that name the file and the JSON path:
//   "prompts.json: objects[1].prompts[0].frame 900 is past the video's 300 frames"
//
//   {"objects": [
//     {"id": 1, "label": "car", "color": [255, 64, 0],
//      "prompts": [{"frame": 0, "points": [[30, 38, 1], [52, 40, 0]]},
//                  {"frame": 40, "box": [72, 56, 105, 79]}]},
//     {"id": 2, "label": "dog", "prompts": [{"frame": 12, "mask": "dog_f12.png"}]}]}
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "video/track_store.h"

namespace ps::video {

struct TrackVideoSize {
    int width = 0, height = 0;
    long long frames = 0;
};

// The objects of the prompts file at `path`, their prompts sorted by frame and mask PNGs (paths
// relative to the file) read into RLE. Objects without a colour get one of a fixed palette.
Result<std::vector<TrackObject>> read_track_prompts(const std::string& path,
                                                    const TrackVideoSize& video);

}  // namespace ps::video
