// A restricted unpickler for the data.pkl of torch.save archives: it builds a tree of plain
// values and refuses every global that a state dict does not need. Nothing is ever called.
#pragma once

#include <c10/core/ScalarType.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ps::io {

struct PickleValue {
    enum class Kind {
        None,
        Bool,
        Int,
        Float,
        String,
        Bytes,
        Tuple,
        List,
        Dict,
        Global,
        Storage,
        Tensor
    };
    // What an allowed global stands for when it is called by REDUCE.
    enum class Callable { None, OrderedDict, RebuildTensorV2, RebuildParameter, StorageClass };

    Kind kind = Kind::None;
    bool boolean = false;
    int64_t integer = 0;
    double real = 0.0;
    // String and Bytes: the bytes; Global: "module.name"; Storage: the storage key.
    std::string text;
    std::vector<PickleValue*> items;                             // Tuple, List
    std::vector<std::pair<PickleValue*, PickleValue*>> entries;  // Dict, in insertion order
    Callable callable = Callable::None;                          // Global
    at::ScalarType dtype = at::kByte;                            // Global StorageClass, Storage
    int64_t storage_numel = 0;                                   // Storage, in elements
    // Tensor (torch._utils._rebuild_tensor_v2): a strided view of `storage`, in elements.
    const PickleValue* storage = nullptr;
    int64_t storage_offset = 0;
    std::vector<int64_t> sizes;
    std::vector<int64_t> strides;
};

// Owns every value of one unpickled document; pointers into it stay valid while it lives.
// Values may form cycles (a hostile pickle can put a dict inside itself), so walkers must
// bound their depth.
struct PickleDocument {
    std::vector<std::unique_ptr<PickleValue>> values;
    const PickleValue* root = nullptr;
};

// Unpickles protocol 2-5 data using only the opcodes state dicts need. Refuses any global other
// than collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and the
// torch.*Storage classes. Persistent ids must be ('storage', StorageClass, key, location, numel).
// Error messages do not name the file; callers prefix it.
Result<PickleDocument> read_pickle(const uint8_t* data, size_t size);

}  // namespace ps::io
