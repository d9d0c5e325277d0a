// The video mode's store: core's video::TrackStore (track.json rewritten atomically, masks in an
// append-only log that survives a SIGKILL) in the video's `.photosynth` folder.
#include "video_store.h"

#include "video/track_store.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace ps::ui {
namespace {

video::TrackPrompt to_track(int64_t frame, const FramePrompt& prompt) {
    video::TrackPrompt out;
    out.frame = frame;
    for (const runtime::Point& p : prompt.points) out.points.push_back({p.x, p.y, p.label == 1});
    if (prompt.box) {
        const auto& b = *prompt.box;
        out.box = video::TrackBox{b[0], b[1], b[2], b[3]};
    }
    return out;
}

FramePrompt from_track(const video::TrackPrompt& prompt) {
    FramePrompt out;
    for (const video::TrackPoint& p : prompt.points)
        out.points.push_back({p.x, p.y, p.positive ? 1 : 0});
    if (prompt.box)
        out.box =
            std::array<double, 4>{prompt.box->x0, prompt.box->y0, prompt.box->x1, prompt.box->y1};
    return out;
}

class TrackStoreAdapter : public VideoStore {
  public:
    explicit TrackStoreAdapter(std::unique_ptr<video::TrackStore> store)
        : store_(std::move(store)), objects_(store_->objects()) {}

    Result<VideoAnnotations> load() override {
        VideoAnnotations out;
        for (const video::TrackObject& object : objects_) {
            out.objects.push_back({object.id, QString::fromStdString(object.label),
                                   QColor(object.color[0], object.color[1], object.color[2])});
            for (const video::TrackPrompt& prompt : object.prompts)
                out.prompts[{prompt.frame, object.id}] = from_track(prompt);
            for (long long frame : store_->frames(object.id)) {
                auto mask = store_->get(frame, object.id);
                if (!mask) return mask.error();
                if (*mask) out.masks[frame][object.id] = {(*mask)->mask, (*mask)->score};
            }
        }
        return out;
    }

    Status save_object(const VideoObject& object) override {
        video::TrackObject* known = find(object.id);
        if (!known) {
            objects_.push_back({});
            known = &objects_.back();
            known->id = object.id;
        }
        known->label = object.name.toStdString();
        known->color = {uint8_t(object.colour.red()), uint8_t(object.colour.green()),
                        uint8_t(object.colour.blue())};
        return store_->set_objects(objects_);
    }

    Status delete_object(int object_id) override {
        objects_.erase(
            std::remove_if(objects_.begin(), objects_.end(),
                           [&](const video::TrackObject& o) { return o.id == object_id; }),
            objects_.end());
        return store_->set_objects(objects_);
    }

    Status save_prompt(int64_t frame, int object_id, const FramePrompt& prompt) override {
        video::TrackObject* object = find(object_id);
        if (!object)
            return Error{ErrorKind::InvalidArgument, "no object " + std::to_string(object_id)};
        auto& prompts = object->prompts;
        prompts.erase(std::remove_if(prompts.begin(), prompts.end(),
                                     [&](const video::TrackPrompt& p) { return p.frame == frame; }),
                      prompts.end());
        if (!prompt.empty()) {
            prompts.push_back(to_track(frame, prompt));
            std::sort(prompts.begin(), prompts.end(),
                      [](const auto& a, const auto& b) { return a.frame < b.frame; });
        }
        return store_->set_objects(objects_);
    }

    Status save_masks(int64_t frame, const FrameMasks& masks) override {
        for (const auto& [id, mask] : masks) {
            if (!find(id)) continue;  // an object deleted while its frame was being tracked
            const bool visible = annotation::rle_area(mask.rle) > 0;
            if (Status put = store_->put({frame, id, mask.rle, mask.score, visible}); !put)
                return put;
        }
        return Ok{};
    }

    const video::TrackStore& track_store() const override { return *store_; }

  private:
    video::TrackObject* find(int id) {
        for (video::TrackObject& o : objects_)
            if (o.id == id) return &o;
        return nullptr;
    }

    std::unique_ptr<video::TrackStore> store_;
    std::vector<video::TrackObject> objects_;
};

}  // namespace

QString video_store_folder(const QString& video_path) {
    const QFileInfo info(video_path);
    // A folder of frames keeps its annotation inside it; a file, beside it, named after it.
    if (info.isDir()) return QDir(info.absoluteFilePath()).filePath(".photosynth/track");
    return info.absoluteDir().filePath(".photosynth/" + info.fileName() + ".track");
}

Result<std::unique_ptr<VideoStore>> open_video_store(const QString& video_path, int frames,
                                                     int width, int height) {
    video::TrackSource source;
    source.video = QFileInfo(video_path).absoluteFilePath().toStdString();
    source.width = width;
    source.height = height;
    source.frame_count = frames;
    // No model: the app's annotation is the user's, whichever SAM 2 model answered the clicks.
    auto store = video::TrackStore::open(video_store_folder(video_path).toStdString(), source);
    if (!store) return store.error();
    return std::unique_ptr<VideoStore>(new TrackStoreAdapter(std::move(*store)));
}

}  // namespace ps::ui
