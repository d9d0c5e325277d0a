// Where and in which precision a network runs: the vocabulary every model family, the engine,
// the app and the CLI share. No ATen here: widely included.
#pragma once

#include <string>

#include "common/result.h"

namespace ps::runtime {

enum class Device { Auto, Cpu, Cuda };
enum class Precision { Fp32, Fp16, Bf16 };

Result<Device> parse_device(const std::string& text);        // "auto", "cpu", "cuda"
Result<Precision> parse_precision(const std::string& text);  // "fp32", "fp16", "bf16"
std::string to_string(Precision precision);
bool cuda_available();

}  // namespace ps::runtime
