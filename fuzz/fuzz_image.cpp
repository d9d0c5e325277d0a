// Fuzz target: the image reader (io::read_rgb_image: PNG/JPEG truncation walks, Qt's decoders,
// the pixel-limit guard and the conversion to RGB).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "io/image_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch_file(data, size, ".png");
    ps::io::ImageReadOptions options;
    // Small enough that a hostile header cannot make one run allocate gigabytes.
    options.max_pixels = 4LL * 1000 * 1000;
    // The reader asks QFile for max_file_bytes + 1 bytes at once: under ASan the default 512 MB
    // cost 2.6 s an input (memset of fresh pages), 1 MB a few milliseconds.
    options.max_file_bytes = 1 << 20;
    auto image = ps::io::read_rgb_image(path, options);
    if (!image) return 0;
    ps::fuzz::require(image->type() == CV_8UC3 && !image->empty(), "not a non-empty CV_8UC3 image");
    ps::fuzz::require(static_cast<long long>(image->rows) * image->cols <= options.max_pixels,
                      "image over the pixel limit");
    return 0;
}
