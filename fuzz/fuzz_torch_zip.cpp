// Fuzz target: torch.save archives through io::load_checkpoint (zip reader, restricted
// unpickler and the tensor views over the storages), the path every .pth takes.
#include <ATen/ATen.h>

#include <cstddef>
#include <cstdint>

#include "fuzz_input.h"
#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch_file(data, size, ".pth");
    auto checkpoint = ps::io::load_checkpoint(path);
    if (!checkpoint) {
        ps::fuzz::require(!checkpoint.message().empty(), "error without a message");
        return 0;
    }
    for (const auto& [name, tensor] : checkpoint->tensors) {
        ps::fuzz::require(tensor.defined(), "undefined tensor");
        // Reads every element the view reaches: a view past its storage faults here.
        (void)tensor.contiguous().clone();
    }
    return 0;
}
