// Labels that a point file names but the project's label set lacks are added, each with a colour
// that stays distinguishable from the ones before it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "annotation/annotation.h"

namespace ps::batch {

// The index-th colour of an endless sequence whose neighbours are far apart in hue: hues step
// by the golden angle (137.5°), so any prefix of the sequence is spread around the colour
// wheel; saturation and value cycle through three levels to separate hues that come close.
std::array<uint8_t, 3> distinct_label_colour(int index);

// `labels` plus every name of `names` it lacks, in the order given, no hotkey (a person picks
// keys that do not collide with the GUI's), colour distinct_label_colour(position in the set).
// Returns whether anything was added.
bool add_missing_labels(annotation::LabelSet& labels, const std::vector<std::string>& names);

}  // namespace ps::batch
