// What every native model needs around its network: device choice, weight placement,
// synchronised timing and exception-to-error conversion at the module border.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <map>
#include <string>

#include "common/result.h"
#include "models/runtime/device.h"
#include "models/runtime/weights.h"

namespace ps::runtime {

using SteadyClock = std::chrono::steady_clock;

inline double ms_since(SteadyClock::time_point start) {
    return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

// CUDA kernels run asynchronously; reading one value waits for the stream, so timings are real.
void wait_for(const at::Tensor& tensor);

// The device a model runs on, or why the request cannot be honoured ("<label>: ...").
Result<at::Device> choose_device(const std::string& label, Device device, Precision precision);

// Floating tensors moved to `device` in `precision`; others (counters) keep their type. On CUDA
// in fp32, TF32 is turned off: cuDNN's default TF32 convolutions moved SAM embeddings by 1.5e-3
// against a 4e-5 tolerance. fp32 means fp32. `cudnn_benchmark` (GpuSwitches): let cuDNN time its
// algorithms in half precision.
std::map<std::string, at::Tensor> place_tensors(const std::map<std::string, at::Tensor>& tensors,
                                                at::Device device, Precision precision,
                                                bool cudnn_benchmark);

// place_tensors for convolutional networks (U²-Net, ISNet): on CUDA in half precision every 4-d
// weight also goes to NHWC, where cuDNN runs it on tensor cores. Measured on an H100 (CUDA graphs
// on, 320²): bf16 U²-Net 5.11 -> 3.78 ms, U²-NetP 3.92 -> 3.04 ms; in fp32 NHWC was slower
// (12.1 -> 13.0, 5.3 -> 6.8 ms), so fp32 keeps NCHW. The input must then be NHWC too
// (`memory_format`).
struct ConvPlacement {
    std::map<std::string, at::Tensor> tensors;
    bool channels_last = false;
    at::MemoryFormat memory_format() const {
        return channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
    }
};
ConvPlacement place_conv_tensors(const std::map<std::string, at::Tensor>& tensors,
                                 at::Device device, Precision precision, bool cudnn_benchmark,
                                 bool channels_last = true);

at::ScalarType scalar_type_of(Precision precision);

// Runs body; exceptions stop here: weight errors keep their message, c10 errors lose their
// C++ backtrace (the first line is the useful part).
template <typename F>
auto guarded(const std::string& what, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const WeightError& e) {
        return make_error(ErrorKind::Mismatch, e.what());
    } catch (const std::exception& e) {
        const std::string message = e.what();
        return make_error(ErrorKind::Runtime, what + ": " + message.substr(0, message.find('\n')));
    }
}

}  // namespace ps::runtime
