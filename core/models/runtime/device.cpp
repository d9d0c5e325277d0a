// Device and precision names (see device.h).
#include "models/runtime/device.h"

#include <ATen/Context.h>

namespace ps::runtime {

Result<Device> parse_device(const std::string& text) {
    if (text == "auto") return Device::Auto;
    if (text == "cpu") return Device::Cpu;
    if (text == "cuda" || text == "gpu") return Device::Cuda;
    return make_error(ErrorKind::InvalidArgument,
                      "unknown device '" + text + "' (expected cpu, cuda or auto)");
}

Result<Precision> parse_precision(const std::string& text) {
    if (text == "fp32" || text == "float32") return Precision::Fp32;
    if (text == "fp16" || text == "float16") return Precision::Fp16;
    if (text == "bf16" || text == "bfloat16") return Precision::Bf16;
    return make_error(ErrorKind::InvalidArgument,
                      "unknown precision '" + text + "' (expected fp32, fp16 or bf16)");
}

std::string to_string(Precision precision) {
    switch (precision) {
        case Precision::Fp16:
            return "fp16";
        case Precision::Bf16:
            return "bf16";
        default:
            return "fp32";
    }
}

std::string to_string(Device device) {
    switch (device) {
        case Device::Cpu:
            return "cpu";
        case Device::Cuda:
            return "cuda";
        default:
            return "auto";
    }
}

bool cuda_available() {
    return at::hasCUDA();
}

}  // namespace ps::runtime
