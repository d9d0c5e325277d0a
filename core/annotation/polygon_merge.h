// One polygon for an object of several parts, for formats with one polygon per instance (YOLO
// segmentation): the parts are chained by zero-width bridges, as Ultralytics' converter does.
#pragma once

#include <vector>

#include "annotation/polygons.h"

namespace ps::annotation {

// Joins disjoint parts (each a closed polygon, holes already bridged in, as mask_to_polygons
// gives them) into one closed polygon, the way Ultralytics' merge_multi_segment
// (ultralytics/data/converter.py) joins a COCO object's polygons: each part is linked to the
// next by the closest pair of their vertices; the outline walks forward through the parts
// (the first and the last all the way round, the middle ones from where it came in to where it
// leaves) and back again along the same bridges through the rest of the middle ones. Every
// bridge is walked once each way, so even-odd filling (cv::fillPoly, pycocotools) gives the
// parts and nothing between them; cv::fillPoly also draws the bridges' 1-px lines.
//
// Unlike Ultralytics, which chains the parts in file order, the chain starts at parts[0] and
// goes on to the part nearest to the last one linked, so that bridges stay short. Empty parts
// are ignored; one part comes back as it is.
Polygon merge_polygons(const std::vector<Polygon>& parts);

}  // namespace ps::annotation
