// SAM2VideoPredictor's session: prompts, the preflight, propagation, consolidation at the
// video's resolution (eval, non_overlap_masks and clear_non_cond_mem_around_input off, no hole
// filling: fill_holes_in_mask_scores needs the CUDA extension and is a no-op without it).
#include "models/sam2/video_predictor.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <future>
#include <optional>

#include "image/pil_resize.h"
#include "models/runtime/device_upload.h"
#include "models/runtime/host_masks.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/side_stream.h"
#include "models/sam2/sam2_network.h"
#include "models/sam2/track_step.h"
#include "models/sam2/video_state.h"

namespace ps::sam2 {
namespace {

constexpr double kNoObjScore = -1024.0;  // sam2_base.NO_OBJ_SCORE

// load_video_frames_from_jpg_images: Pillow's bicubic resize on uint8 to size², / 255 in float64
// stored as float32, then the float32 ImageNet mean and std. A frame already at the model's
// size is Pillow's copy (Image.resize returns self.copy() for its own size). This half runs on
// the read-ahead thread: the resized bytes in memory of their own, pinned when they go to a
// CUDA device.
at::Tensor frame_bytes(const cv::Mat& rgb, int64_t size, bool pinned) {
    const cv::Mat resized =
        rgb.cols == size && rgb.rows == size && rgb.isContinuous()
            ? rgb
            : image::pil_resize_bicubic(rgb, static_cast<int>(size), static_cast<int>(size));
    const at::Tensor view =
        at::from_blob(const_cast<uint8_t*>(resized.ptr<uint8_t>()), {size, size, 3}, at::kByte);
    return pinned ? view.pin_memory() : view.clone();
}

// The rest on the device (`mean`, `std`: 3 float32 values there, made once per session): each
// step is one IEEE operation (a correctly rounded division in float64, a rounding to float32, a
// float32 subtract and divide), so the GPU gives the host's values bit for bit, and the host
// does not spend three passes over 3 M values per frame. Pinned bytes go up without waiting.
at::Tensor video_frame_input(const at::Tensor& bytes, const at::Device& device,
                             const at::Tensor& mean, const at::Tensor& std) {
    const at::Tensor pixels = bytes.to(device, /*non_blocking=*/device.is_cuda());
    const at::Tensor x = (pixels.to(at::kDouble) / 255.0).to(at::kFloat);
    return ((x - mean) / std).permute({2, 0, 1}).unsqueeze(0).contiguous();
}

// Holding only its own bytes: a slice (a pointer or score out of a batch of candidates) would
// keep the whole batch's storage alive for every tracked frame of the session.
at::Tensor own_bytes(const at::Tensor& t) {
    return t.storage().nbytes() > t.nbytes() ? t.clone() : t;
}

// A new record stays on the model's device: the next frames read its memory and pointer from
// there. A bounded session moves it to the host once it leaves the window that tracking reads
// (drop_memories_away_from); copying every record out and the window back in each frame cost a
// dozen synchronising copies per object and frame on the GPU.
Sam2FrameRecord to_record(const TrackOutput& out) {
    Sam2FrameRecord r;
    r.pred_masks = own_bytes(out.pred_masks);
    r.obj_ptr = own_bytes(out.obj_ptr);
    r.object_score_logits = own_bytes(out.object_score_logits);
    if (out.maskmem_features.defined()) r.maskmem_features = own_bytes(out.maskmem_features);
    return r;
}

// Object `b` of a batch of tracked frames. Views, not copies: the objects of one batch are
// tracked, moved out of the window and dropped on the same frames, so the batch's storage lives
// as long as their records do anyway (a copy per object would be four more kernels each).
Sam2FrameRecord batch_record(const TrackOutput& out, int64_t b) {
    Sam2FrameRecord r;
    r.pred_masks = out.pred_masks.slice(0, b, b + 1);
    r.obj_ptr = out.obj_ptr.slice(0, b, b + 1);
    r.object_score_logits = out.object_score_logits.slice(0, b, b + 1);
    r.maskmem_features = out.maskmem_features.slice(0, b, b + 1);
    return r;
}

// Objects can share a batch when they attend to the same memory frames and pointers at the same
// temporal positions: their tokens line up and their position encodings are the same.
bool same_layout(const MemorySelection& a, const MemorySelection& b) {
    if (a.memories.size() != b.memories.size() || a.pointers.size() != b.pointers.size() ||
        a.t_diff_max != b.t_diff_max)
        return false;
    for (size_t i = 0; i < a.memories.size(); ++i) {
        if (a.memories[i].frame != b.memories[i].frame ||
            a.memories[i].t_pos != b.memories[i].t_pos)
            return false;
    }
    for (size_t i = 0; i < a.pointers.size(); ++i) {
        if (a.pointers[i].frame != b.pointers[i].frame || a.pointers[i].tpos != b.pointers[i].tpos)
            return false;
    }
    return true;
}

}  // namespace

struct Sam2VideoPredictor::Impl {
    std::string file_label;
    Sam2VideoInfo video;
    Sam2VideoOptions session;
    Sam2FrameSource frames;
    std::shared_ptr<const Sam2VideoModel> model;
    const TrackStep* track = nullptr;  // model's
    Sam2VideoState state;
    // The reference's cached_features: the last frame's features only.
    int64_t cached_frame = -1;
    Sam2FrameFeatures cached;
    at::Tensor pixel_mean, pixel_std;  // on the model's device, made with the first frame
    // On a GPU the next frame of a propagation goes through the image encoder on a side stream
    // while this frame is tracked (the two share the GPU; neither waits for the other's host
    // work). Made on first use.
    std::unique_ptr<runtime::SideStream> side;
    int64_t next_frame = -1;
    Sam2FrameFeatures next;
    // The next frame read (decoded, resized) on a thread of its own while this thread queues the
    // current frame's work for the GPU; its error, if any, reported when that frame is reached.
    // One read at a time: every read waits for a pending one first. Last member: joined first.
    int64_t ahead_frame = -1;
    std::future<Result<at::Tensor>> ahead;

    ~Impl() { settle(); }
    at::Device device() const { return model->image_model().network().device(); }
    Result<at::Tensor> read_frame(int64_t frame) const;
    Result<at::Tensor> frame_input(int64_t frame);
    void read_ahead(int64_t frame);
    void settle();
    bool can_encode_ahead();
    void encode_ahead(int64_t frame);
    Result<const Sam2FrameFeatures*> features(int64_t frame);
    MemorySelection selection_for(const Sam2ObjectState& object, int64_t frame, bool reverse) const;
    MemoryTokens memory_for(const std::vector<const Sam2ObjectState*>& objects,
                            const MemorySelection& selection) const;
    void track_frame(const std::vector<Sam2ObjectState*>& objects, int64_t frame, bool reverse,
                     const Sam2FrameFeatures& features);
    // A frame's masks on their way to the host: the interpolation and the copy queued on the
    // GPU, the wait for them in take().
    struct QueuedMasks {
        int64_t frame = 0;
        std::vector<int> ids, source;  // source: index into the copy per object, -1: no output
        int height = 0, width = 0;
        runtime::HostLogitsCopy copy;
        Sam2VideoMasks take();
    };
    QueuedMasks queue_masks(int64_t frame, bool is_cond, bool pending) const;
    Sam2VideoMasks masks_at(int64_t frame, bool is_cond, bool pending) const {
        return queue_masks(frame, is_cond, pending).take();
    }
    Status check_frame(int64_t frame) const;
    TrackRequest point_request(const Sam2VideoBox* box,
                               const std::vector<runtime::Point>& points) const;
    Result<Sam2VideoMasks> add(int64_t frame, int object_id, TrackRequest request);
    Status preflight();
    void drop_memories_away_from(Sam2ObjectState& object, int64_t frame) const;
};

void Sam2VideoPredictor::Impl::drop_memories_away_from(Sam2ObjectState& object,
                                                       int64_t frame) const {
    if (session.keep_all_memories) return;
    const int64_t window = track->bank().options().num_maskmem - 1;
    const int64_t pointer_window = track->bank().options().max_obj_ptrs_in_encoder;
    // A walk of the map, no look-up per frame: ~0.1 ms per frame at 10,000 tracked frames.
    for (auto& [f, record] : object.non_cond.by_frame()) {
        const int64_t away = std::abs(f - frame);
        // Out of the memory window: the memory goes, the logits are kept in float16 (2^-11
        // relative; -1024 and ±32 exact) on the host.
        // The copies to the host do not wait for the GPU (download_async): whatever reads these
        // records later copies them back to the device first, ordered after them on the stream.
        if (away > window && record.maskmem_features.defined()) {
            record.maskmem_features = at::Tensor();
            record.pred_masks = session.keep_tracked_masks
                                    ? runtime::download_async(record.pred_masks, at::kHalf)
                                    : at::Tensor();
        }
        // Out of the pointers' reach too: the rest goes to the host (a no-op on the CPU).
        if (away > pointer_window && !record.obj_ptr.is_cpu()) {
            record.obj_ptr = runtime::download_async(record.obj_ptr, record.obj_ptr.scalar_type());
            record.object_score_logits = runtime::download_async(
                record.object_score_logits, record.object_score_logits.scalar_type());
        }
    }
}

// Safe on another thread: the frame source, checks and host-side bytes only.
Result<at::Tensor> Sam2VideoPredictor::Impl::read_frame(int64_t frame) const {
    // The video's fault, not the checkpoint's: the frame source's message names its file.
    auto rgb = frames(frame);
    if (!rgb) {
        return make_error(rgb.error().kind,
                          "video frame " + std::to_string(frame) + ": " + rgb.message());
    }
    if (rgb->type() != CV_8UC3 || rgb->cols != video.width || rgb->rows != video.height) {
        return make_error(ErrorKind::InvalidArgument,
                          "video frame " + std::to_string(frame) + " is " +
                              std::to_string(rgb->cols) + "x" + std::to_string(rgb->rows) +
                              ", expected " + std::to_string(video.width) + "x" +
                              std::to_string(video.height) + " RGB");
    }
    const int64_t size = track->image_size();
    const bool pinned = device().is_cuda();
    return runtime::guarded(
        file_label, [&]() -> Result<at::Tensor> { return frame_bytes(*rgb, size, pinned); });
}

void Sam2VideoPredictor::Impl::settle() {
    if (ahead.valid()) ahead.wait();
}

void Sam2VideoPredictor::Impl::read_ahead(int64_t frame) {
    if (frame == cached_frame || frame == ahead_frame) return;
    settle();
    ahead_frame = frame;
    ahead = std::async(std::launch::async, [this, frame] { return read_frame(frame); });
}

Result<at::Tensor> Sam2VideoPredictor::Impl::frame_input(int64_t frame) {
    Result<at::Tensor> bytes = at::Tensor();
    if (frame == ahead_frame && ahead.valid()) {
        bytes = ahead.get();
    } else {
        settle();
        bytes = read_frame(frame);
    }
    ahead_frame = -1;
    ahead = {};
    if (!bytes) return bytes.error();
    return runtime::guarded(file_label, [&]() -> Result<at::Tensor> {
        if (!pixel_mean.defined()) {
            pixel_mean = at::tensor({0.485f, 0.456f, 0.406f}).to(device());
            pixel_std = at::tensor({0.229f, 0.224f, 0.225f}).to(device());
        }
        return video_frame_input(*bytes, device(), pixel_mean, pixel_std);
    });
}

bool Sam2VideoPredictor::Impl::can_encode_ahead() {
    if (!model->image_model().network().encode_ahead()) return false;
    if (!side) {
        side = std::make_unique<runtime::SideStream>(device());
        side->wait_for_current();  // what this stream made so far (the encoder's caches)
    }
    return side->overlaps();
}

// `frame` through the image encoder on the side stream, beside what this thread has queued on
// its own (the tracking of the frame before): it reads only the frame's bytes from the host,
// the weights and the mean and std made by a frame's first read. A frame that cannot be read is
// left for features() to read again and report.
void Sam2VideoPredictor::Impl::encode_ahead(int64_t frame) {
    if (frame == cached_frame || frame == next_frame || !can_encode_ahead()) return;
    next_frame = -1;
    next = {};
    bool made = false;
    side->run([&] {
        auto input = frame_input(frame);  // uploaded on the side stream too
        if (!input) return;
        next = track->frame_features(*input);
        made = true;
    });
    if (made) next_frame = frame;
}

Result<const Sam2FrameFeatures*> Sam2VideoPredictor::Impl::features(int64_t frame) {
    if (frame == cached_frame) return &cached;
    if (frame == next_frame) {
        std::vector<at::Tensor> made{next.pix_feat, next.image_embed};
        made.insert(made.end(), next.high_res.begin(), next.high_res.end());
        side->join(made);
        cached = std::move(next);
        next = {};
        next_frame = -1;
        cached_frame = frame;
        return &cached;
    }
    auto input = frame_input(frame);
    if (!input) return input.error();
    cached_frame = -1;
    cached = {};  // the previous frame's features go before the next are made
    // The encoder's recorded graph (its input and output buffers) and caches serve both
    // streams: an encode here comes after the side stream's, and the side stream's next one
    // after this (not after the tracking queued later).
    if (side) side->join({});
    cached = track->frame_features(*input);
    if (side) side->wait_for_current();
    cached_frame = frame;
    return &cached;
}

MemorySelection Sam2VideoPredictor::Impl::selection_for(const Sam2ObjectState& object,
                                                        int64_t frame, bool reverse) const {
    // Memories from the tracked frames that still hold one (Sam2VideoOptions), pointers from
    // every tracked frame, as the reference (which keeps every memory) picks both.
    // select_memories looks at tracked frames only within num_maskmem strides (memories) and
    // max_obj_ptrs_in_encoder frames (pointers) of this one: passing just those gives the same
    // selection, and a long session no set of every tracked frame per frame and object.
    const MemoryBankOptions& bank = track->bank().options();
    const int64_t span = std::max((bank.num_maskmem + 1) * bank.memory_temporal_stride + 2,
                                  bank.max_obj_ptrs_in_encoder);
    std::vector<int64_t> near, with_memory;
    const auto& tracked = object.non_cond.by_frame();
    for (auto it = tracked.lower_bound(frame - span);
         it != tracked.end() && it->first <= frame + span; ++it) {
        near.push_back(it->first);
        if (it->second.maskmem_features.defined()) with_memory.push_back(it->first);
    }
    MemorySelection selection =
        select_memories(frame, object.cond.frames(), with_memory, video.num_frames, reverse, bank);
    selection.pointers =
        select_memories(frame, object.cond.frames(), near, video.num_frames, reverse, bank)
            .pointers;
    return selection;
}

MemoryTokens Sam2VideoPredictor::Impl::memory_for(
    const std::vector<const Sam2ObjectState*>& objects, const MemorySelection& selection) const {
    // The objects' memories and pointers, slot by slot (each slot's B objects together), as
    // batches: one concatenation each for all memories and all pointers of a batch.
    const at::Device on = device();
    const auto B = static_cast<int64_t>(objects.size());
    std::vector<at::Tensor> memories, pointers;
    for (const auto& m : selection.memories) {
        for (const Sam2ObjectState* object : objects) {
            const Sam2FrameRecord* r =
                m.t_pos == 0 ? object->cond.find(m.frame) : object->non_cond.find(m.frame);
            memories.push_back(r->maskmem_features);
        }
    }
    for (const auto& p : selection.pointers) {
        for (const Sam2ObjectState* object : objects) {
            const at::Tensor& ptr = object->stored(p.frame)->obj_ptr;
            // On the host only when out of every pointer window of the last pass.
            pointers.push_back(ptr.device() == on ? ptr : runtime::upload(ptr, on));
        }
    }
    const auto by_slot = [B](std::vector<at::Tensor> all) {
        if (B == 1 || all.empty()) return all;
        const at::Tensor joined = at::cat(all, 0);
        std::vector<at::Tensor> slots;
        for (int64_t i = 0; i * B < joined.size(0); ++i)
            slots.push_back(joined.slice(0, i * B, (i + 1) * B));
        return slots;
    };
    return track->memory_tokens(selection, by_slot(std::move(memories)),
                                by_slot(std::move(pointers)));
}

void Sam2VideoPredictor::Impl::track_frame(const std::vector<Sam2ObjectState*>& objects,
                                           int64_t frame, bool reverse,
                                           const Sam2FrameFeatures& frame_features) {
    // Groups of objects with one memory layout, in the objects' order of first appearance.
    std::vector<MemorySelection> selections;
    std::vector<std::vector<size_t>> groups;
    std::vector<size_t> group_of;  // selection index of each group's first object
    for (size_t i = 0; i < objects.size(); ++i) {
        selections.push_back(selection_for(*objects[i], frame, reverse));
        size_t g = 0;
        while (g < groups.size() &&
               !(session.batch_objects && same_layout(selections[group_of[g]], selections[i])))
            ++g;
        if (g == groups.size()) {
            groups.emplace_back();
            group_of.push_back(i);
        }
        groups[g].push_back(i);
    }
    for (size_t g = 0; g < groups.size(); ++g) {
        std::vector<const Sam2ObjectState*> members;
        for (size_t i : groups[g]) members.push_back(objects[i]);
        const MemoryTokens tokens = memory_for(members, selections[group_of[g]]);
        const TrackOutput out = track->track(frame_features, tokens);
        for (size_t b = 0; b < groups[g].size(); ++b) {
            Sam2ObjectState& object = *objects[groups[g][b]];
            object.non_cond.put(frame, groups[g].size() == 1
                                           ? to_record(out)
                                           : batch_record(out, static_cast<int64_t>(b)));
        }
    }
}

Sam2VideoPredictor::Impl::QueuedMasks Sam2VideoPredictor::Impl::queue_masks(int64_t frame,
                                                                            bool is_cond,
                                                                            bool pending) const {
    QueuedMasks out;
    out.frame = frame;
    out.height = video.height;
    out.width = video.width;
    // Every object's low-resolution logits brought to the video's size in one interpolation on
    // the model's device and one copy to the host (pinned, from the GPU): the frame's only wait
    // for the GPU. On the CPU the interpolation to 1080p cost milliseconds per object and frame.
    const at::Device on = device();
    std::vector<at::Tensor> low_res;
    for (const Sam2ObjectState& object : state.objects) {
        const Sam2FrameRecord* r = pending ? object.shown(frame, is_cond) : object.stored(frame);
        const bool has = r != nullptr && r->pred_masks.defined();  // dropped: keep_tracked_masks
        out.ids.push_back(object.id);
        out.source.push_back(has ? static_cast<int>(low_res.size()) : -1);
        if (has) {
            // On the device, or on the host in float16 once out of the memory window.
            const at::Tensor& logits = r->pred_masks;
            low_res.push_back(
                logits.to(on, at::kFloat).view({1, 1, logits.size(-2), logits.size(-1)}));
        }
    }
    if (!low_res.empty()) {
        const at::Tensor joined = low_res.size() == 1 ? low_res[0] : at::cat(low_res, 0);
        out.copy = runtime::HostLogitsCopy(
            at::upsample_bilinear2d(joined, {video.height, video.width}, false).squeeze(1));
    }
    return out;
}

Sam2VideoMasks Sam2VideoPredictor::Impl::QueuedMasks::take() {
    Sam2VideoMasks out;
    out.frame = frame;
    const auto waiting = runtime::SteadyClock::now();
    const std::vector<cv::Mat> full = copy.empty() ? std::vector<cv::Mat>() : copy.wait();
    out.gpu_wait_ms = runtime::ms_since(waiting);
    for (size_t i = 0; i < ids.size(); ++i) {
        out.objects.push_back(
            {ids[i], source[i] < 0 ? cv::Mat(height, width, CV_32FC1, cv::Scalar(kNoObjScore))
                                   : full[static_cast<size_t>(source[i])]});
    }
    return out;
}

Status Sam2VideoPredictor::Impl::check_frame(int64_t frame) const {
    if (frame < 0 || frame >= video.num_frames) {
        return make_error(ErrorKind::InvalidArgument,
                          file_label + ": frame " + std::to_string(frame) + " outside the video (" +
                              std::to_string(video.num_frames) + " frames)");
    }
    return Ok{};
}

Result<Sam2VideoMasks> Sam2VideoPredictor::Impl::add(int64_t frame, int object_id,
                                                     TrackRequest request) {
    if (auto ok = check_frame(frame); !ok) return ok.error();
    auto frame_features = features(frame);
    if (!frame_features) return frame_features.error();
    return runtime::guarded(file_label, [&]() -> Result<Sam2VideoMasks> {
        c10::InferenceMode inference;
        Sam2ObjectState& object = state.object_or_add(object_id);
        auto tracked = object.tracked_reverse.find(frame);
        request.is_init_cond_frame = tracked == object.tracked_reverse.end();
        const bool reverse = request.is_init_cond_frame ? false : tracked->second;
        const bool is_cond = request.is_init_cond_frame;  // add_all_frames_to_correct_as_cond off
        FrameRecords& temp = is_cond ? object.temp_cond : object.temp_non_cond;
        if (!request.mask_input.defined()) {
            // A previous answer on this frame is the mask prompt of a correction click.
            const Sam2FrameRecord* prev = object.shown(frame, is_cond);
            if (prev != nullptr && prev->pred_masks.defined()) {
                // To the device first: a record moved to the host may still be in flight.
                request.prev_sam_mask_logits =
                    at::clamp(prev->pred_masks.to(device(), at::kFloat), -32.0, 32.0);
            }
        }
        MemoryTokens tokens;
        if (!request.is_init_cond_frame && !request.mask_input.defined()) {
            tokens = memory_for({&object}, selection_for(object, frame, reverse));
            request.memory = &tokens;
        }
        request.run_memory_encoder = false;  // the preflight encodes prompted frames
        temp.put(frame, to_record(track->run(**frame_features, request)));
        return masks_at(frame, is_cond, /*pending=*/true);
    });
}

Status Sam2VideoPredictor::Impl::preflight() {
    if (state.objects.empty())
        return make_error(ErrorKind::InvalidArgument, file_label + ": no prompt on any object");
    for (Sam2ObjectState& object : state.objects) {
        for (const bool is_cond : {false, true}) {
            FrameRecords& temp = is_cond ? object.temp_cond : object.temp_non_cond;
            FrameRecords& stored = is_cond ? object.cond : object.non_cond;
            for (int64_t frame : temp.frames()) {
                Sam2FrameRecord record = *temp.find(frame);
                if (!record.maskmem_features.defined()) {
                    auto frame_features = features(frame);
                    if (!frame_features) return frame_features.error();
                    const at::Device device = model->image_model().network().device();
                    record.maskmem_features = track->encode_memory(
                        **frame_features, record.pred_masks.to(device, at::kFloat),
                        record.object_score_logits.to(device),
                        /*is_mask_from_pts=*/true);
                }
                stored.put(frame, std::move(record));
            }
            temp.clear();
        }
        if (object.cond.empty()) {
            return make_error(ErrorKind::InvalidArgument, file_label + ": object " +
                                                              std::to_string(object.id) +
                                                              " has no prompt on any frame");
        }
        for (int64_t frame : object.cond.frames()) object.non_cond.erase(frame);
    }
    return Ok{};
}

Result<std::unique_ptr<Sam2VideoPredictor>> Sam2VideoPredictor::load(
    const std::string& checkpoint_path, const Sam2Options& options, const Sam2VideoInfo& video,
    Sam2FrameSource frames, const Sam2VideoOptions& session) {
    auto image_model = Sam2Model::load(checkpoint_path, options);
    if (!image_model) return image_model.error();
    auto model = Sam2VideoModel::load(std::move(*image_model), checkpoint_path);
    if (!model) return model.error();
    return create(std::move(*model), video, std::move(frames), session);
}

Result<std::unique_ptr<Sam2VideoPredictor>> Sam2VideoPredictor::create(
    std::shared_ptr<const Sam2VideoModel> model, const Sam2VideoInfo& video, Sam2FrameSource frames,
    const Sam2VideoOptions& session) {
    if (!model) return make_error(ErrorKind::InvalidArgument, "a video session needs a model");
    const std::string& label = model->file_label();
    if (video.num_frames <= 0 || video.width <= 0 || video.height <= 0 || !frames) {
        return make_error(ErrorKind::InvalidArgument,
                          label + ": a video needs frames, a size and a frame source");
    }
    auto impl = std::make_unique<Impl>();
    impl->file_label = label;
    impl->video = video;
    impl->session = session;
    impl->frames = std::move(frames);
    impl->track = &model->track();
    impl->model = std::move(model);
    return std::unique_ptr<Sam2VideoPredictor>(new Sam2VideoPredictor(std::move(impl)));
}

Sam2VideoPredictor::Sam2VideoPredictor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sam2VideoPredictor::~Sam2VideoPredictor() = default;

// add_new_points_or_box's prompt: the box's corners first (labels 2 and 3), then the clicks;
// x / W · size, y / H · size in float32 (normalize_coords).
TrackRequest Sam2VideoPredictor::Impl::point_request(
    const Sam2VideoBox* box, const std::vector<runtime::Point>& points) const {
    std::vector<float> xy;
    TrackRequest request;
    if (box != nullptr) {
        xy = {static_cast<float>(box->x0), static_cast<float>(box->y0), static_cast<float>(box->x1),
              static_cast<float>(box->y1)};
        request.point_labels = {2, 3};
    }
    for (const runtime::Point& p : points) {
        xy.push_back(static_cast<float>(p.x));
        xy.push_back(static_cast<float>(p.y));
        request.point_labels.push_back(p.label);
    }
    const auto n = static_cast<int64_t>(request.point_labels.size());
    const at::Tensor coords = at::tensor(xy).view({n, 2});
    const at::Tensor scale =
        at::tensor({static_cast<float>(video.width), static_cast<float>(video.height)});
    request.point_coords = (coords / scale * static_cast<double>(track->image_size()))
                               .to(model->image_model().network().device());
    return request;
}

Result<Sam2VideoMasks> Sam2VideoPredictor::add_points(int64_t frame, int object_id,
                                                      const std::vector<runtime::Point>& points) {
    if (points.empty()) {
        return make_error(ErrorKind::InvalidArgument,
                          impl_->file_label + ": add_points needs at least one point");
    }
    return impl_->add(frame, object_id, impl_->point_request(nullptr, points));
}

Result<Sam2VideoMasks> Sam2VideoPredictor::add_box(int64_t frame, int object_id,
                                                   const Sam2VideoBox& box,
                                                   const std::vector<runtime::Point>& points) {
    return impl_->add(frame, object_id, impl_->point_request(&box, points));
}

Result<Sam2VideoMasks> Sam2VideoPredictor::add_mask(int64_t frame, int object_id,
                                                    const cv::Mat& mask) {
    const Sam2VideoInfo& v = impl_->video;
    if (mask.type() != CV_8UC1 || mask.cols != v.width || mask.rows != v.height) {
        return make_error(ErrorKind::InvalidArgument,
                          impl_->file_label + ": a mask prompt must be 8-bit, " +
                              std::to_string(v.width) + "x" + std::to_string(v.height));
    }
    TrackRequest request;
    {
        c10::InferenceMode inference;
        const cv::Mat binary = mask > 0;
        at::Tensor m = at::from_blob(const_cast<uint8_t*>(binary.ptr<uint8_t>()),
                                     {1, 1, v.height, v.width}, at::kByte)
                           .ne(0)
                           .to(at::kFloat);
        const int64_t size = impl_->track->image_size();
        if (v.height != size || v.width != size) {
            // antialiased bilinear (a no-op for up-sampling), then >= 0.5
            m = (at::_upsample_bilinear2d_aa(m, {size, size}, false) >= 0.5).to(at::kFloat);
        }
        request.mask_input = m.to(impl_->model->image_model().network().device());
    }
    return impl_->add(frame, object_id, std::move(request));
}

Status Sam2VideoPredictor::propagate(const Sam2PropagateOptions& options,
                                     const std::function<void(const Sam2VideoMasks&)>& on_frame) {
    Impl& s = *impl_;
    c10::InferenceMode inference;
    if (auto ready = runtime::guarded(s.file_label, [&] { return s.preflight(); }); !ready)
        return ready.error();
    int64_t start = s.video.num_frames;
    if (options.start_frame) {
        start = *options.start_frame;
        if (auto ok = s.check_frame(start); !ok) return ok.error();
    } else {
        for (const Sam2ObjectState& object : s.state.objects)
            for (int64_t f : object.cond.frames()) start = std::min(start, f);
    }
    std::vector<int64_t> order;
    if (options.reverse) {
        if (start > 0)  // the reference skips reverse tracking from frame 0
            for (int64_t f = start; f >= 0; --f) order.push_back(f);
    } else {
        for (int64_t f = start; f < s.video.num_frames; ++f) order.push_back(f);
    }
    // On the GPU each frame's masks reach on_frame after the next frame's work is queued: the GPU
    // tracks that frame while the host waits for these masks and hands them over, instead of
    // idling through the host's queueing after every wait (~30 % of a Hiera-T frame on an H100).
    // A cancel seen in on_frame then stops after the frame already queued (also handed over).
    const bool pipelined = s.device().is_cuda();
    std::optional<Impl::QueuedMasks> queued;  // only with an on_frame
    const auto hand_over = [&] {
        if (queued) on_frame(queued->take());
        queued.reset();
    };
    for (size_t at = 0; at < order.size(); ++at) {
        const int64_t frame = order[at];
        if (options.cancel != nullptr && options.cancel->load()) {
            hand_over();
            return make_error(
                ErrorKind::Cancelled,
                s.file_label + ": propagation cancelled at frame " + std::to_string(frame));
        }
        auto done = runtime::guarded(s.file_label, [&]() -> Status {
            std::vector<Sam2ObjectState*> tracked;  // the objects without a prompt here
            for (Sam2ObjectState& object : s.state.objects)
                if (object.cond.find(frame) == nullptr) tracked.push_back(&object);
            if (!tracked.empty()) {
                auto frame_features = s.features(frame);
                if (!frame_features) return frame_features.error();
                if (s.can_encode_ahead()) {
                    // GPU: this frame's tracking queued, then the next frame's encoder on the
                    // side stream beside it (or the encoder first: encode_ahead_first), while
                    // another thread reads the one after.
                    const bool first = s.model->image_model().network().encode_ahead_first();
                    if (first && at + 1 < order.size()) s.encode_ahead(order[at + 1]);
                    s.track_frame(tracked, frame, options.reverse, **frame_features);
                    if (!first && at + 1 < order.size()) s.encode_ahead(order[at + 1]);
                    if (at + 2 < order.size()) s.read_ahead(order[at + 2]);
                } else {
                    // The next frame is read (a video's decoding, a resize) on another thread
                    // while this one tracks this frame.
                    if (at + 1 < order.size()) s.read_ahead(order[at + 1]);
                    s.track_frame(tracked, frame, options.reverse, **frame_features);
                }
            }
            for (Sam2ObjectState& object : s.state.objects) {
                object.tracked_reverse[frame] = options.reverse;
                s.drop_memories_away_from(object, frame);
            }
            return Ok{};
        });
        if (!done) {
            hand_over();
            return done.error();
        }
        if (!on_frame) continue;
        Impl::QueuedMasks next = s.queue_masks(frame, false, /*pending=*/false);
        hand_over();  // the previous frame's, done on the GPU while this one was queued
        queued = std::move(next);
        if (!pipelined) hand_over();
    }
    hand_over();
    return Ok{};
}

Result<Sam2VideoMasks> Sam2VideoPredictor::clear_prompts(int64_t frame, int object_id) {
    Impl& s = *impl_;
    if (auto ok = s.check_frame(frame); !ok) return ok.error();
    Sam2ObjectState* object = s.state.object(object_id);
    if (object == nullptr) {
        return make_error(ErrorKind::InvalidArgument,
                          s.file_label + ": no object " + std::to_string(object_id));
    }
    return runtime::guarded(s.file_label, [&]() -> Result<Sam2VideoMasks> {
        c10::InferenceMode inference;
        object->temp_cond.erase(frame);
        object->temp_non_cond.erase(frame);
        // A conditioning output stays as a tracked one; the frame counts as never tracked.
        if (const Sam2FrameRecord* cond = object->cond.find(frame)) {
            Sam2FrameRecord record = *cond;
            object->cond.erase(frame);
            object->non_cond.put(frame, std::move(record));
            object->tracked_reverse.erase(frame);
        }
        bool is_cond = false;
        for (const Sam2ObjectState& o : s.state.objects)
            is_cond = is_cond || o.temp_cond.find(frame) != nullptr;
        return s.masks_at(frame, is_cond, /*pending=*/true);
    });
}

Result<Sam2VideoMasks> Sam2VideoPredictor::masks(int64_t frame) const {
    const Impl& s = *impl_;
    if (auto ok = s.check_frame(frame); !ok) return ok.error();
    return runtime::guarded(s.file_label, [&]() -> Result<Sam2VideoMasks> {
        c10::InferenceMode inference;
        bool is_cond = false;
        for (const Sam2ObjectState& o : s.state.objects)
            is_cond = is_cond || o.temp_cond.find(frame) != nullptr;
        return s.masks_at(frame, is_cond, /*pending=*/true);
    });
}

void Sam2VideoPredictor::reset() {
    impl_->state = {};
    impl_->cached_frame = -1;
    impl_->cached = {};
    impl_->next_frame = -1;
    impl_->next = {};
    impl_->settle();
    impl_->ahead_frame = -1;
    impl_->ahead = {};
}

const Sam2VideoInfo& Sam2VideoPredictor::video() const {
    return impl_->video;
}
const Sam2Model& Sam2VideoPredictor::model() const {
    return impl_->model->image_model();
}
const Sam2VideoState& Sam2VideoPredictor::state() const {
    return impl_->state;
}

}  // namespace ps::sam2
