// Fuzz target: the LabelMe importer (annotation::import_labelme: polygon, rectangle and mask
// shapes, group_id instances, `_background_` holes, imagePath matching) into a scratch project of
// known images (scratch_project.h), reset before every input; what it leaves must load, have the
// images' sizes and agree with its summary.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "scratch_project.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ps::fuzz::ScratchProject& scratch = ps::fuzz::ScratchProject::get();
    ps::annotation::Project project = scratch.reset();
    // In the project folder, as labelme keeps its JSON beside the image: imagePath "a.png" or
    // "sub/b.png" is then relative to the file, as labelme writes it.
    const std::string path = scratch.folder() + "/input.json";
    ps::fuzz::write_file(path, data, size);
    scratch.check(ps::annotation::import_labelme(project, path));
    return 0;
}
