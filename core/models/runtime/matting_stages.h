// The three timed stages of every matting model's run(): preprocess (RGB image -> the network's
// input on its device), forward (the network, replayed through the graph cache on CUDA) and
// postprocess (its output -> the 8-bit matte at the image's size). Each family supplies the three
// steps; the timing, synchronisation and error handling are the same for all.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/InferenceMode.h>
#include <opencv2/core/mat.hpp>

#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/graph_cache.h"
#include "models/runtime/matting_model.h"
#include "models/runtime/model_runtime.h"

namespace ps::runtime {

// family: for the message on a bad image ("ISNet needs a non-empty 8-bit RGB image"); label: the
// checkpoint's file name, for errors thrown inside. forward takes the input in `format` (NHWC
// for half precision on CUDA, ConvPlacement::memory_format).
template <typename Preprocess, typename Forward, typename Postprocess>
Result<MatteOutput> run_matting_stages(const std::string& family, const std::string& label,
                                       const cv::Mat& rgb, GraphCache& graphs,
                                       at::MemoryFormat format, Preprocess preprocess,
                                       Forward forward, Postprocess postprocess) {
    if (rgb.empty() || rgb.type() != CV_8UC3) {
        return make_error(ErrorKind::InvalidArgument,
                          family + " needs a non-empty 8-bit RGB image");
    }
    return guarded(label + ": run", [&]() -> Result<MatteOutput> {
        c10::InferenceMode inference;
        MatteOutput out;
        const auto start = SteadyClock::now();
        const at::Tensor input = preprocess(rgb);
        wait_for(input);
        out.preprocess_ms = ms_since(start);

        const auto forward_start = SteadyClock::now();
        const at::Tensor output =
            graphs
                .run(family, {input},
                     [&forward, format](const std::vector<at::Tensor>& in) {
                         return std::vector<at::Tensor>{forward(in[0].contiguous(format))};
                     })
                .front();
        wait_for(output);
        out.forward_ms = ms_since(forward_start);

        const auto post_start = SteadyClock::now();
        out.matte = postprocess(output);
        out.postprocess_ms = ms_since(post_start);
        return out;
    });
}

}  // namespace ps::runtime
