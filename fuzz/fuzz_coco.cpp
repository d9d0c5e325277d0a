// Fuzz target: the COCO importer (annotation::import_coco: categories, images, polygons,
// uncompressed and compressed RLE) into a scratch project of known images (scratch_project.h),
// reset before every input; what it leaves must load, have the images' sizes and agree with its
// summary.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "scratch_project.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const ps::fuzz::ScratchProject& scratch = ps::fuzz::ScratchProject::get();
    ps::annotation::Project project = scratch.reset();
    const std::string path = ps::fuzz::write_scratch_file(data, size, "-coco.json");
    scratch.check(ps::annotation::import_coco(project, path));
    return 0;
}
