// What a convolutional matting model (U²-Net, ISNet) holds once loaded, and the load that fills
// it: checkpoint → state-dict checks → configuration from the tensor shapes → device and
// placement (NHWC in half precision on CUDA) → network. Each family's model keeps this as its
// Impl and adds only its run() (runtime::run_matting_stages) and accessors.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/InferenceMode.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "io/checkpoint.h"
#include "models/runtime/described_matting_model.h"
#include "models/runtime/graph_cache.h"
#include "models/runtime/model_runtime.h"
#include "models/runtime/opened_checkpoint.h"
#include "models/runtime/state_dict_check.h"

namespace ps::runtime {

template <typename Config, typename Network>
struct ConvMattingState {
    using NetworkType = Network;
    std::string file_label;
    Config config;
    Precision precision = Precision::Fp32;
    std::unique_ptr<Network> network;
    double load_ms = 0;
    // ~1000 small kernels at a fixed input size: replaying them as one CUDA graph removes the
    // launch cost that dominates (graph_cache.h).
    mutable GraphCache graphs{2};
    at::MemoryFormat memory_format = at::MemoryFormat::Contiguous;  // NHWC: half on CUDA
};

// What DescribedMattingModel answers, read off a loaded state (input_size: the family's).
template <typename State>
MattingInfo matting_info(const State& state, int64_t input_size) {
    MattingInfo info;
    info.arch = state.config.arch;
    info.description = state.config.describe();
    info.input_size = static_cast<int>(input_size);
    info.device = state.network->device().str();
    info.precision = state.precision;
    info.load_ms = state.load_ms;
    return info;
}

// State: a ConvMattingState (or a struct derived from one); Options: device, precision and gpu
// (GpuSwitches); infer(tensors, file_label) → Result<Config>. Errors name the file.
template <typename State, typename Options, typename Infer>
Result<std::unique_ptr<State>> load_conv_matting(const std::string& checkpoint_path,
                                                 const Options& options, Infer infer) {
    const auto start = SteadyClock::now();
    auto opened = open_checkpoint<decltype(State::config)>(checkpoint_path, options.device,
                                                           options.precision, infer);
    if (!opened) return opened.error();
    const std::string& label = opened->label;
    return guarded(label, [&]() -> Result<std::unique_ptr<State>> {
        c10::InferenceMode inference;
        ConvPlacement placed =
            place_conv_tensors(opened->checkpoint.tensors, opened->device, options.precision,
                               options.gpu.cudnn_benchmark, options.gpu.channels_last);
        auto state = std::make_unique<State>();
        state->file_label = label;
        state->config = opened->config;
        state->config.cudnn_conv_relu = options.gpu.cudnn_conv_relu;
        state->graphs.set_enabled(options.gpu.cuda_graphs);
        state->precision = options.precision;
        state->memory_format = placed.memory_format();
        state->network =
            std::make_unique<typename State::NetworkType>(placed.tensors, state->config, label);
        state->load_ms = ms_since(start);
        return state;
    });
}

}  // namespace ps::runtime
