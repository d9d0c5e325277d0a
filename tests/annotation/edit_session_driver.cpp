// Helper of test_edit_session_kill: an endless session of edits through Project (add, edit,
// delete objects, change status), as the editor makes them. Before each save it prints what it
// is about to save ("pending ..."), after the save returned what is now durable ("accepted" or
// "deleted"); the test kills it with SIGKILL at random and checks the files against the lines.
//
// Usage: edit_session_driver PROJECT_DIR SEED
#include <opencv2/imgproc.hpp>

#include <iostream>
#include <random>

#include "annotation/project.h"

using namespace ps::annotation;

namespace {

constexpr int kWidth = 320, kHeight = 240;

cv::Mat random_mask(std::mt19937& random) {
    std::uniform_int_distribution<int> x(0, kWidth - 1), y(0, kHeight - 1), r(2, 60), count(1, 4);
    cv::Mat mask(kHeight, kWidth, CV_8UC1, cv::Scalar(0));
    const int shapes = count(random);
    for (int i = 0; i < shapes; ++i) cv::ellipse(mask, {x(random), y(random)}, {r(random), r(random)}, 0, 0, 360, 255, cv::FILLED);
    return mask;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: edit_session_driver PROJECT_DIR SEED\n";
        return 2;
    }
    LabelSet labels;
    labels.labels = {{"cat", {255, 0, 0}, "1"}, {"dog", {0, 255, 0}, "2"}};
    auto project = Project::open(argv[1], labels);
    if (!project) {
        std::cerr << project.message() << "\n";
        return 1;
    }
    if (project->images().empty()) {
        std::cerr << argv[1] << ": no images\n";
        return 1;
    }
    std::mt19937 random(static_cast<unsigned>(std::stoul(argv[2])));
    std::uniform_int_distribution<size_t> pick_image(0, project->images().size() - 1);
    std::uniform_int_distribution<int> pick_action(0, 9);
    while (true) {
        const std::string image = project->images()[pick_image(random)];
        auto loaded = project->load(image);
        if (!loaded || loaded->problem) {
            std::cerr << (loaded ? *loaded->problem : loaded.message()) << "\n";
            return 1;
        }
        ImageAnnotation annotation = std::move(loaded->annotation);
        annotation.width = kWidth;
        annotation.height = kHeight;
        int action = pick_action(random);
        std::string pending, done;
        // At most 6 objects an image, so that files (and each fsync) stay small.
        if (annotation.objects.size() >= 6 && action < 5) action = 8;
        if (action < 5 || annotation.objects.empty()) {  // accept a new object
            AnnotatedObject object;
            object.label = action % 2 ? "cat" : "dog";
            object.mask = rle_encode(random_mask(random));
            object.bbox = rle_bbox(object.mask);
            object.prompts.points = {{10.5, 20.5, true}};
            object.model = "driver";
            const int id = annotation.add(object);
            annotation.status = ImageStatus::InProgress;
            pending = "pending accept " + image + " " + std::to_string(id) + " " + rle_to_string(object.mask);
            done = "accepted " + image + " " + std::to_string(id) + " " + rle_to_string(object.mask);
        } else {
            AnnotatedObject& object =
                annotation.objects[std::uniform_int_distribution<size_t>(0, annotation.objects.size() - 1)(random)];
            const int id = object.id;
            if (action < 8) {  // brush edit
                cv::Mat mask = rle_decode(object.mask);
                if (action == 5) mask &= ~random_mask(random);  // eraser
                else mask |= random_mask(random);              // brush
                object.mask = rle_encode(mask);
                object.bbox = rle_bbox(object.mask);
                object.verified = true;
                pending = "pending accept " + image + " " + std::to_string(id) + " " + rle_to_string(object.mask);
                done = "accepted " + image + " " + std::to_string(id) + " " + rle_to_string(object.mask);
            } else if (action == 8) {
                annotation.remove(id);
                pending = "pending delete " + image + " " + std::to_string(id);
                done = "deleted " + image + " " + std::to_string(id);
            } else {
                annotation.status = ImageStatus::Done;
                pending = "pending status " + image;
                done = "status " + image;
            }
        }
        std::cout << pending << std::endl;
        if (auto saved = project->save(annotation); !saved) {
            std::cerr << saved.message() << "\n";
            return 1;
        }
        std::cout << done << std::endl;
    }
}
