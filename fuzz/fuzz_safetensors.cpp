// Fuzz target: the safetensors header parser (io::read_safetensors) over a whole file's bytes.
#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch_file(data, size, ".safetensors");
    auto file = ps::io::MappedFile::read(path);
    ps::fuzz::require(static_cast<bool>(file), "cannot read back the scratch file");
    auto tensors = ps::io::read_safetensors(*file);
    if (!tensors) return 0;
    for (const auto& [name, tensor] : *tensors) {
        // Every accepted tensor must lie inside the file: copying it reads each of its bytes.
        ps::fuzz::require(tensor.defined(), "undefined tensor");
        ps::fuzz::require(tensor.nbytes() <= size, "tensor larger than the file");
        (void)tensor.clone();
    }
    return 0;
}
