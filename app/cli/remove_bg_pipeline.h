// What `remove-bg` does after the matte (refinement, then the cut-out or a new background), read
// from its options, written as text into a video run's manifest, and read back from that text by
// `merge --preview`, which composites a sharded run's frames as the run did.
//
//   auto pipeline = read_pipeline(args);                // --feather, --background, ...
//   manifest.options = pipeline_text(args) + ...;       // what changes a frame's bytes
//   auto again = pipeline_from_text(manifest.options);  // the background image read again
#pragma once

#include <string>

#include "cli_args.h"
#include "common/result.h"
#include "image/background.h"
#include "image/matte_refine.h"

namespace ps::cli {

// As the Remove Background panel's controls of the same names.
struct Pipeline {
    image::RefineOptions refine;
    image::BackgroundOptions background;
};

// --feather PX, --grow PX, --decontaminate, --background transparent|#RRGGBB|blurred or
// --background-image IMG (read here, once). The defaults refine nothing and keep a transparent
// background: the cut-out is the image with the model's matte as alpha.
Result<Pipeline> read_pipeline(const Args& args);

// The options that change a frame's bytes, as one canonical text for the video manifest:
// "feather=..;grow=..;background=..;background-image=PATH;[background-bytes=N;]decontaminate=0|1",
// PATH absolute, so that the run's folder names the same file wherever it is read from.
std::string pipeline_text(const Args& args);

// The pipeline that pipeline_text recorded (anything after its fields, such as the manifest's
// ";smoothing=S", is ignored). The background image must still be there with the recorded byte
// size: else an error naming it, so a preview is never composited over another picture.
Result<Pipeline> pipeline_from_text(const std::string& text);

}  // namespace ps::cli
