// The one on-disk record of a video's tracking (SAM 2.1 click-to-track): the objects, their
// prompts per frame, and per frame per object the mask as COCO RLE with its score and visibility.
// Used by `photosynth-cli track` (resume), the app's video projects (auto-saved) and the exports.
//
// A store is a folder of two files:
//   track.json      small metadata (source video, model, objects and prompts, the CLI's run),
//                   replaced atomically (io::atomic_write) on each change;
//   masks.pstrack   an append-only log of mask records, each with its length and a CRC-32, so a
//                   write torn by a SIGKILL or a power cut is recognised and dropped on reopen.
// Rewriting a frame's mask appends a newer record (latest wins); compact() drops the old ones.
// Memory is an index of a few bytes per (frame, object): masks stay on disk until read, so a
// 10,000-frame video costs well under a megabyte per object.
//
//   auto store = video::TrackStore::open(out_dir, source);   // refuses another video or model
//   (*store)->set_objects(objects);                          // track.json, atomically
//   (*store)->put({frame, object_id, annotation::rle_encode(mask), score, visible});
//   auto mask = (*store)->get(frame, object_id);             // Result<optional<TrackMask>>
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "annotation/rle.h"
#include "common/result.h"

namespace ps::video {

struct TrackPoint {
    double x = 0, y = 0;  // video pixels
    bool positive = true;
    bool operator==(const TrackPoint& other) const;
};

struct TrackBox {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // video pixels, corners
    bool operator==(const TrackBox& other) const;
};

// One object's prompt on one frame: points, a box (with or without points), or a mask.
struct TrackPrompt {
    long long frame = 0;
    std::vector<TrackPoint> points;
    std::optional<TrackBox> box;
    std::optional<annotation::Rle> mask;  // at the video's size
    bool operator==(const TrackPrompt& other) const;
};

struct TrackObject {
    int id = 0;  // > 0, the tracker's object id
    std::string label;
    std::array<uint8_t, 3> color{{0, 0, 0}};  // RGB, for display
    std::vector<TrackPrompt> prompts;         // at most one per frame, by frame
    bool operator==(const TrackObject& other) const;
};

// What the masks were made from: a store refuses to mix two sources.
struct TrackSource {
    std::string video;  // absolute path of the video file or frame folder
    int width = 0, height = 0;
    long long frame_count = 0;
    std::string model;       // the checkpoint's file name
    std::string model_hash;  // engine::content_hash of its bytes
    // The fields that differ, as "video, model" ("" when the same).
    std::string differences(const TrackSource& other) const;
    // "clip.mp4 (96x64, 40 frames) with sam2.1_hiera_tiny.pt"
    std::string describe() const;
};

// How `photosynth-cli track` ran into this store (the app leaves it empty).
struct TrackRun {
    std::string direction;  // "forward", "backward" or "both"
    std::string precision;  // "fp32", "bf16": masks of two precisions are not mixed
    bool complete = false;  // every frame of the run's passes is stored
};

struct TrackMask {
    long long frame = 0;
    int object_id = 0;
    annotation::Rle mask;  // at the video's size
    float score = 0;       // mean probability (sigmoid of the logits) inside the mask; 0 if empty
    bool visible = false;  // the mask is not empty
};

class TrackStore {
  public:
    static constexpr const char* kMetaFile = "track.json";
    static constexpr const char* kMaskLog = "masks.pstrack";
    // Records appended between two fsyncs of the log: a SIGKILL loses nothing written (the
    // kernel holds it), a power cut at most this many records.
    static constexpr int kSyncEvery = 64;

    // The store in `folder` for `source`: created (folder included) when absent, else reopened,
    // its torn tail dropped. One made for another video or model is an error naming the folder
    // and what differs ("out/track.json: made for clip.mp4 (96x64, 40 frames) with a.pt, not ...").
    static Result<std::unique_ptr<TrackStore>> open(const std::string& folder,
                                                    const TrackSource& source);
    // An existing store, whatever its source (exports, inspection); never creates one.
    static Result<std::unique_ptr<TrackStore>> open_existing(const std::string& folder);
    ~TrackStore();  // syncs the log
    TrackStore(const TrackStore&) = delete;
    TrackStore& operator=(const TrackStore&) = delete;

    const std::string& folder() const;
    TrackSource source() const;
    std::vector<TrackObject> objects() const;
    std::optional<TrackObject> object(int object_id) const;
    TrackRun run() const;
    // Objects with their prompts, replaced as a whole (ids unique and > 0, prompts on frames of
    // the video); track.json rewritten atomically. Masks of an object no longer listed stay in
    // the log but are not reported by frames() nor exported.
    Status set_objects(std::vector<TrackObject> objects);
    Status set_run(const TrackRun& run);

    // Appends the mask of (frame, object): it replaces any earlier one. Once returned it survives
    // a SIGKILL of this process; a power cut, after the next sync (kSyncEvery records, flush()).
    Status put(const TrackMask& mask);
    // Forgets the mask of (frame, object) (an appended tombstone).
    Status erase(long long frame, int object_id);
    // fsyncs the log.
    Status flush();

    bool has(long long frame, int object_id) const;
    // Every listed object has a mask on `frame` (false when no object is listed).
    bool frame_complete(long long frame) const;
    // The newest mask of (frame, object), read from disk; nullopt when none.
    Result<std::optional<TrackMask>> get(long long frame, int object_id) const;
    // Frames where `object_id` has a mask, ascending.
    std::vector<long long> frames(int object_id) const;
    // Masks currently stored (the newest of each frame and object, listed objects only).
    long long mask_count() const;
    // Bytes of a torn or corrupt tail dropped when the store was opened; 0 after a clean close.
    long long dropped_tail_bytes() const;
    // Rewrites the log with only the newest record of each (frame, object), atomically.
    Status compact();

    struct Impl;

  private:
    explicit TrackStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// CRC-32 (IEEE 802.3, as zlib's crc32) of `size` bytes: the log's record checksum.
uint32_t crc32(const void* data, size_t size);

}  // namespace ps::video
