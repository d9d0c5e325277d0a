// A track store's masks as files other tools read, streamed one mask at a time from the store
// (memory is a frame or two whatever the video's length), each export all-or-nothing: a folder
// through io::StagedFolder, a single file through io::AtomicFile.
//
//   auto store = video::TrackStore::open_existing(dir);
//   video::export_track_masks(**store, dir + "/masks");              // <object>/<frame>.png
//   video::export_track_youtube_vis(**store, dir + "/vis.json");     // YouTube-VIS JSON
//   video::export_track_cutouts(**store, frames, dir + "/cutout");   // RGBA frames
#pragma once

#include <opencv2/core/mat.hpp>

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "video/track_store.h"

namespace ps::video {

enum class TrackExportKind { Masks, YouTubeVis, Cutout };

// "masks,vis,cutout" (any order, any subset); an unknown name is an error naming it.
Result<std::vector<TrackExportKind>> parse_track_exports(const std::string& list);
// The file or folder name an export gets inside an output folder: "masks", "vis.json", "cutout".
std::string track_export_name(TrackExportKind kind);

// A frame's name in the exports: 6 digits, "000042.png".
std::string track_frame_file(long long frame);

// Frame `index` as CV_8UC3 RGB at the store's video size (FrameSource::frame).
using TrackFrames = std::function<Result<cv::Mat>(long long index)>;
// After each file (or, for the JSON, each object): files done so far and the total.
using TrackExportProgress = std::function<void(long long done, long long total)>;

struct TrackExportSummary {
    long long files = 0;  // PNGs written (1 for the JSON)
    std::string path;     // the folder or file made
};

// `folder`/<object id>/<frame>.png for every stored mask of every listed object: 8-bit grey,
// 255 inside, 0 outside, at the video's size. Frames without a stored mask get no file.
Result<TrackExportSummary> export_track_masks(const TrackStore& store, const std::string& folder,
                                              const TrackExportProgress& progress = {});

struct YouTubeVisOptions {
    // videos[0].file_names; default the store's video name's stem + "/" + 5-digit frame + ".jpg",
    // as the dataset names its JPEG frames ("clip/00042.jpg").
    std::vector<std::string> file_names;
};

// The YouTube-VIS annotation layout (youtubevos/cocoapi ytvos.py, the 2019/2021 train.json):
// {"info", "licenses", "videos": [{id 1, width, height, length, file_names}],
//  "annotations": [{id, video_id 1, category_id, iscrowd 0, height, width, length 1,
//                   "segmentations": per frame {"size": [h, w], "counts": [runs...]} (COCO's
//                   uncompressed RLE, as the ground truth files) or null where the object has
//                   no stored mask or an empty one, "areas": per frame or null,
//                   "bboxes": per frame [x, y, w, h] or null}],
//  "categories": [{id, name, supercategory "object"}]} — one annotation per listed object, its
// category its label's (labels numbered from 1 in order of first use; "object" when empty).
Result<TrackExportSummary> export_track_youtube_vis(const TrackStore& store,
                                                    const std::string& json_path,
                                                    const YouTubeVisOptions& options = {},
                                                    const TrackExportProgress& progress = {});

struct CutoutOptions {
    // false: `folder`/<frame>.png, alpha the union of every object's mask; true:
    // `folder`/<object id>/<frame>.png, alpha that object's mask.
    bool per_object = false;
};

// RGBA PNGs (straight alpha, 255 inside, 0 outside) of the frames where a listed object (or,
// per object, that object) has a stored mask.
Result<TrackExportSummary> export_track_cutouts(const TrackStore& store, const TrackFrames& frames,
                                                const std::string& folder,
                                                const CutoutOptions& options = {},
                                                const TrackExportProgress& progress = {});

}  // namespace ps::video
