// Prompt scaling between the stored full-resolution frame and the engine's work image.
#include "annotating/sam_prompt.h"

namespace ps::annotating {
namespace {

struct Scale {
    double x = 1, y = 1;
};

Scale scale_of(cv::Size from, cv::Size to) {
    if (from.empty() || to.empty()) return {};
    return {double(to.width) / from.width, double(to.height) / from.height};
}

std::optional<std::array<double, 4>> scaled(const std::optional<std::array<double, 4>>& box,
                                            Scale s) {
    if (!box) return std::nullopt;
    const auto& b = *box;
    return std::array<double, 4>{b[0] * s.x, b[1] * s.y, b[2] * s.x, b[3] * s.y};
}

}  // namespace

bool wants_multimask(size_t point_count, bool has_box) {
    return point_count == 1 && !has_box;
}

runtime::Prompt to_sam_prompt(const std::vector<runtime::Point>& points,
                              const std::optional<std::array<double, 4>>& box, cv::Size from,
                              cv::Size to) {
    const Scale s = scale_of(from, to);
    runtime::Prompt prompt;
    for (const runtime::Point& p : points)
        prompt.points.push_back({p.x * s.x, p.y * s.y, p.label != 0 ? 1 : 0});
    prompt.box = scaled(box, s);
    prompt.multimask = wants_multimask(prompt.points.size(), prompt.box.has_value());
    return prompt;
}

runtime::Prompt to_sam_prompt(const annotation::ObjectPrompts& prompts, cv::Size full,
                              cv::Size work) {
    std::vector<runtime::Point> points;
    for (const annotation::PromptPoint& p : prompts.points)
        points.push_back({p.x, p.y, p.positive ? 1 : 0});
    return to_sam_prompt(points, prompts.box, full, work);
}

annotation::ObjectPrompts to_object_prompts(const std::vector<runtime::Point>& points,
                                            const std::optional<std::array<double, 4>>& box,
                                            cv::Size work, cv::Size full) {
    const Scale s = scale_of(work, full);
    annotation::ObjectPrompts prompts;
    for (const runtime::Point& p : points)
        prompts.points.push_back({p.x * s.x, p.y * s.y, p.label != 0});
    prompts.box = scaled(box, s);
    return prompts;
}

}  // namespace ps::annotating
