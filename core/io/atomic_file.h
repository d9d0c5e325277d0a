// File operations of the annotation code that must never lose data: reading a whole file, and
// setting a bad file aside under a name no other file has.
#pragma once

#include <string>

#include "common/result.h"

namespace ps::annotation {

// The file's bytes; the error names the path.
Result<std::string> read_whole_file(const std::string& path);

// Renames `path` to "<path><suffix>", or "<path><suffix>-2", "-3"... when taken; never replaces
// an existing file. Returns the new path.
Result<std::string> rename_aside(const std::string& path, const std::string& suffix);

// Creates the directory and its parents; the error names it.
Status make_directories(const std::string& path);

}  // namespace ps::annotation
