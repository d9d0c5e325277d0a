// Fuzz target: the restricted unpickler (io::read_pickle) on a data.pkl byte buffer.
#include <cstddef>
#include <cstdint>
#include <set>

#include "fuzz_input.h"
#include "io/pickle_reader.h"

namespace {

using ps::io::PickleValue;

// Visits the tree as checkpoint.cpp does, checking what it relies on without re-checking: a
// tensor has a storage with a key and one stride per size. Values may form cycles, hence `seen`.
void walk(const PickleValue* value, std::set<const PickleValue*>& seen, int depth) {
    ps::fuzz::require(value != nullptr, "null value in the document");
    if (depth > 64 || !seen.insert(value).second) return;
    switch (value->kind) {
        case PickleValue::Kind::Tuple:
        case PickleValue::Kind::List:
            for (const PickleValue* item : value->items) walk(item, seen, depth + 1);
            break;
        case PickleValue::Kind::Dict:
            for (const auto& [key, item] : value->entries) {
                walk(key, seen, depth + 1);
                walk(item, seen, depth + 1);
            }
            break;
        case PickleValue::Kind::Tensor:
            ps::fuzz::require(value->storage != nullptr, "tensor without a storage");
            ps::fuzz::require(value->storage->kind == PickleValue::Kind::Storage,
                              "tensor storage is not a Storage value");
            ps::fuzz::require(value->sizes.size() == value->strides.size(),
                              "tensor sizes and strides differ in length");
            break;
        default:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ps::Result<ps::io::PickleDocument> document = ps::io::read_pickle(data, size);
    if (!document) {
        ps::fuzz::require(!document.message().empty(), "error without a message");
        return 0;
    }
    ps::fuzz::require(document->root != nullptr, "document without a root");
    std::set<const PickleValue*> seen;
    walk(document->root, seen, 0);
    return 0;
}
