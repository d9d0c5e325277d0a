// The three timed stages of every matting model's run() and run_batch(): preprocess (RGB image ->
// the network's input on its device), forward (the network, replayed through the graph cache on
// CUDA) and postprocess (its output -> the 8-bit matte at the image's size). Each family supplies
// the three steps; the timing, synchronisation and error handling are the same for all.
#pragma once

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <opencv2/core/mat.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "common/result.h"
#include "models/runtime/graph_cache.h"
#include "models/runtime/matting_model.h"
#include "models/runtime/model_runtime.h"

namespace ps::runtime {

// Several images through one forward pass: each preprocessed on its own (to the network's fixed
// input), stacked, padded with zero images to `pad_to` (so that every batch of a run has one shape
// and the CUDA graph recorded for it replays), run once, and each image's slice of the output
// postprocessed at that image's size. family: for the message on a bad image ("ISNet needs a
// non-empty 8-bit RGB image"); label: the checkpoint's file name, for errors thrown inside.
// forward takes the input in `format` (NHWC for half precision on CUDA,
// ConvPlacement::memory_format); postprocess(output_of_one_image, rgb) -> CV_8UC1. Each
// MatteOutput's forward_ms is its share (forward time / images).
template <typename Preprocess, typename Forward, typename Postprocess>
Result<std::vector<MatteOutput>> run_matting_batch(const std::string& family,
                                                   const std::string& label,
                                                   const std::vector<cv::Mat>& rgbs, int pad_to,
                                                   GraphCache& graphs, at::MemoryFormat format,
                                                   Preprocess preprocess, Forward forward,
                                                   Postprocess postprocess) {
    if (rgbs.empty()) return make_error(ErrorKind::InvalidArgument, family + ": no images");
    for (const cv::Mat& rgb : rgbs) {
        if (rgb.empty() || rgb.type() != CV_8UC3) {
            return make_error(ErrorKind::InvalidArgument,
                              family + " needs a non-empty 8-bit RGB image");
        }
    }
    return guarded(label + ": run", [&]() -> Result<std::vector<MatteOutput>> {
        c10::InferenceMode inference;
        std::vector<MatteOutput> out(rgbs.size());
        std::vector<at::Tensor> inputs;
        inputs.reserve(std::max<size_t>(rgbs.size(), pad_to > 0 ? pad_to : 0));
        for (size_t i = 0; i < rgbs.size(); ++i) {
            const auto start = SteadyClock::now();
            inputs.push_back(preprocess(rgbs[i]));
            wait_for(inputs.back());
            out[i].preprocess_ms = ms_since(start);
        }
        while (static_cast<int>(inputs.size()) < pad_to)
            inputs.push_back(at::zeros_like(inputs[0]));
        // One image: its tensor as it is (a cat would copy it).
        const at::Tensor input = inputs.size() == 1 ? inputs[0] : at::cat(inputs, 0);

        const auto forward_start = SteadyClock::now();
        const at::Tensor output =
            graphs
                .run(family, {input},
                     [&forward, format](const std::vector<at::Tensor>& in) {
                         return std::vector<at::Tensor>{forward(in[0].contiguous(format))};
                     })
                .front();
        wait_for(output);
        const double forward_share = ms_since(forward_start) / static_cast<double>(rgbs.size());

        for (size_t i = 0; i < rgbs.size(); ++i) {
            const auto post_start = SteadyClock::now();
            out[i].forward_ms = forward_share;
            out[i].matte = postprocess(output.narrow(0, static_cast<int64_t>(i), 1), rgbs[i]);
            out[i].postprocess_ms = ms_since(post_start);
        }
        return out;
    });
}

// One image through the three stages: run_matting_batch of one, with postprocess(output) for the
// families whose run() knows its image.
template <typename Preprocess, typename Forward, typename Postprocess>
Result<MatteOutput> run_matting_stages(const std::string& family, const std::string& label,
                                       const cv::Mat& rgb, GraphCache& graphs,
                                       at::MemoryFormat format, Preprocess preprocess,
                                       Forward forward, Postprocess postprocess) {
    auto out = run_matting_batch(
        family, label, {rgb}, 1, graphs, format, preprocess, forward,
        [&postprocess](const at::Tensor& output, const cv::Mat&) { return postprocess(output); });
    if (!out) return out.error();
    return std::move(out->front());
}

}  // namespace ps::runtime
