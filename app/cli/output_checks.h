// Checks of where a command will write, made before anything expensive runs (a model load, a
// batch, a benchmark): a typo in an output path must cost nothing, and fail with one line.
#pragma once

#include <string>

#include "common/result.h"

namespace ps::cli {

// `path` (given as --`option`) can become a file: it is not a folder, and its folder exists and
// is writable.
Status check_output_file(const std::string& option, const std::string& path);

// `path` (given as --`option`) can be or become a folder: it is not a file, and its nearest
// existing ancestor is a writable folder (the command creates what is missing).
Status check_output_folder(const std::string& option, const std::string& path);

}  // namespace ps::cli
