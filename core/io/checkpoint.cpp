// load_checkpoint: format detection, and torch.save archives (zip + restricted pickle) turned
// into tensors that alias one buffer holding the whole file.
#include "io/checkpoint.h"

#include <ATen/ATen.h>

#include <cstring>
#include <set>

#include "io/dtype.h"
#include "io/mapped_file.h"
#include "io/pickle_reader.h"
#include "io/safetensors.h"
#include "io/zip_archive.h"

namespace ps::io {
namespace {

// Deeper than any real state dict (a handful of levels); also stops a dict that holds itself.
constexpr int kMaxNestingDepth = 32;

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

Error format_error(std::string message) {
    return make_error(ErrorKind::Format, std::move(message));
}

// Turns the dict tree of one torch.save archive into named tensors over the storages' bytes.
class TorchArchiveReader {
  public:
    TorchArchiveReader(std::shared_ptr<MappedFile> file, const ZipArchive& archive,
                       std::string prefix)
        : file_(std::move(file)), archive_(archive), prefix_(std::move(prefix)) {}

    Status add_dict(const PickleValue& dict, const std::string& name_prefix, int depth) {
        if (depth > kMaxNestingDepth) return format_error("dicts nested too deeply");
        for (const auto& [key_value, value] : dict.entries) {
            std::string key;
            if (key_value->kind == PickleValue::Kind::String) {
                key = key_value->text;
            } else if (key_value->kind == PickleValue::Kind::Int) {
                key = std::to_string(key_value->integer);
            } else {
                continue;  // not a state-dict entry
            }
            const std::string name = name_prefix.empty() ? key : name_prefix + "." + key;
            Status added = Ok{};
            if (value->kind == PickleValue::Kind::Dict) {
                added = add_dict(*value, name, depth + 1);
            } else if (value->kind == PickleValue::Kind::Tensor) {
                added = add_tensor(name, *value);
            }  // other leaves (versions, counters, config values) are not weights: skipped
            if (!added) return added;
        }
        return Ok{};
    }

    TensorMap take_tensors() { return std::move(tensors_); }

  private:
    Status add_tensor(const std::string& name, const PickleValue& tensor) {
        if (tensors_.count(name) != 0) return format_error("tensor '" + name + "' appears twice");
        const std::string storage_name = "data/" + tensor.storage->text;
        const ZipEntry* entry = archive_.find(prefix_ + storage_name);
        if (entry == nullptr) {
            return format_error("storage " + storage_name + " of tensor '" + name +
                                "' is missing from the archive");
        }
        const auto item_bytes = static_cast<uint64_t>(dtype_size_bytes(tensor.dtype));
        // Elements from storage_offset to the last one the view touches, inclusive.
        uint64_t span_elements = 1;
        bool empty = false;
        bool valid = tensor.storage_offset >= 0;
        for (size_t i = 0; valid && i < tensor.sizes.size(); ++i) {
            uint64_t reach = 0;
            valid = tensor.sizes[i] >= 0 && tensor.strides[i] >= 0;
            empty = empty || tensor.sizes[i] == 0;
            if (valid && tensor.sizes[i] > 0) {
                valid = !__builtin_mul_overflow(static_cast<uint64_t>(tensor.sizes[i] - 1),
                                                static_cast<uint64_t>(tensor.strides[i]), &reach) &&
                        !__builtin_add_overflow(span_elements, reach, &span_elements);
            }
        }
        if (empty) span_elements = 0;  // an empty tensor touches no element
        uint64_t offset_bytes = 0;
        uint64_t needed_bytes = 0;
        uint64_t span_bytes = 0;
        valid = valid &&
                !__builtin_mul_overflow(static_cast<uint64_t>(tensor.storage_offset), item_bytes,
                                        &offset_bytes) &&
                !__builtin_mul_overflow(span_elements, item_bytes, &span_bytes) &&
                !__builtin_add_overflow(offset_bytes, span_bytes, &needed_bytes);
        if (!valid) {
            return format_error("tensor '" + name + "' has an invalid offset, size or stride");
        }
        if (needed_bytes > entry->size_bytes) {
            return format_error("storage " + storage_name + " holds " +
                                std::to_string(entry->size_bytes) + " bytes, tensor '" + name +
                                "' needs " + std::to_string(needed_bytes));
        }
        tensors_[name] = tensor_over_mapping(file_, entry->data_offset + offset_bytes, tensor.sizes,
                                             tensor.strides, tensor.dtype, span_bytes);
        return Ok{};
    }

    std::shared_ptr<MappedFile> file_;
    const ZipArchive& archive_;
    std::string prefix_;  // "<archive name>/", in front of data.pkl and data/<key>
    TensorMap tensors_;
};

// {"model": sd} and {"state_dict": sd} hold the weights one level down; a dict that has tensors
// of its own is the state dict itself.
const PickleValue& unwrap_state_dict(const PickleValue& root) {
    for (const auto& entry : root.entries) {
        if (entry.second->kind == PickleValue::Kind::Tensor) return root;
    }
    for (const char* wrapper : {"state_dict", "model"}) {
        for (const auto& [key, value] : root.entries) {
            if (key->kind == PickleValue::Kind::String && key->text == wrapper &&
                value->kind == PickleValue::Kind::Dict) {
                return *value;
            }
        }
    }
    return root;
}

Result<TensorMap> read_torch_archive(const std::shared_ptr<MappedFile>& file) {
    Result<ZipArchive> archive = ZipArchive::open(file->data(), file->size());
    if (!archive) return archive.error();
    const ZipEntry* pickle_entry = nullptr;
    for (const ZipEntry& entry : archive->entries()) {
        const std::string& name = entry.name;
        const bool is_pickle =
            name == "data.pkl" ||
            (name.size() > 9 && name.compare(name.size() - 9, 9, "/data.pkl") == 0);
        if (is_pickle && (pickle_entry == nullptr || name.size() < pickle_entry->name.size())) {
            pickle_entry = &entry;
        }
    }
    if (pickle_entry == nullptr) {
        return format_error("the zip archive has no data.pkl; not a torch.save checkpoint");
    }
    Result<PickleDocument> document =
        read_pickle(file->data() + pickle_entry->data_offset, pickle_entry->size_bytes);
    if (!document) return document.error();
    if (document->root->kind != PickleValue::Kind::Dict) {
        return format_error("data.pkl does not hold a dict of tensors");
    }
    const std::string prefix =
        pickle_entry->name.substr(0, pickle_entry->name.size() - std::strlen("data.pkl"));
    if (archive->find(prefix + "constants.pkl") != nullptr) {
        return make_error(ErrorKind::Unsupported,
                          "a TorchScript archive (torch.jit.save), not a state dict; save one with "
                          "torch.save(model.state_dict(), path)");
    }
    TorchArchiveReader reader(file, archive.value(), prefix);
    if (Status added = reader.add_dict(unwrap_state_dict(*document->root), "", 0); !added) {
        return added.error();
    }
    return reader.take_tensors();
}

bool starts_with(const MappedFile& file, const char* magic, size_t length) {
    return file.size() >= length && std::memcmp(file.data(), magic, length) == 0;
}

}  // namespace

Result<Checkpoint> load_checkpoint(const std::string& path, TensorStorage storage) {
    const std::string file_name = base_name(path);
    auto fail = [&](const Error& error) -> Result<Checkpoint> {
        return make_error(error.kind, file_name + ": " + error.message);
    };
    // Owned by default: a mapped file's weights die with SIGBUS when a tool truncates the file
    // while a model is loaded (issue 14). Measured on the 2-core VM, page cache warm, load then a
    // first sum over every tensor (what an encode or a NaN check does): ViT-B 375 MB safetensors
    // mapped 1.5 ms + 184-808 ms on first use, owned 70-174 ms + 22 ms; mobile_sam_tiny 26 MB
    // 4-12 + 18-56 ms against 20-24 + 6-7 ms; sam_vit_tiny 2.4 MB 1 + 8-14 ms against 19-23 +
    // 10 ms. RSS after first use is the same (ViT-B +361 MB, peak 514 MB either way); owned pays
    // it at load instead of lazily. Models that convert every float (CUDA, bf16) free the buffer
    // as before, since integer tensors no longer alias it.
    Result<std::shared_ptr<MappedFile>> file =
        storage == TensorStorage::Owned ? MappedFile::read(path) : MappedFile::map(path);
    if (!file) return fail(file.error());
    const MappedFile& bytes = *file.value();

    Checkpoint checkpoint;
    checkpoint.path = path;
    Result<TensorMap> tensors = TensorMap{};
    if (bytes.size() == 0) {
        return fail(format_error("empty file"));
    } else if (starts_with(bytes, "PK\x03\x04", 4)) {
        checkpoint.format = CheckpointFormat::TorchZip;
        tensors = read_torch_archive(file.value());
    } else if (bytes.size() > 8 && bytes.data()[8] == '{') {
        checkpoint.format = CheckpointFormat::Safetensors;
        tensors = read_safetensors(file.value());
    } else if (bytes.data()[0] == 0x80) {  // pickle PROTO: torch.save before 1.6
        return fail(make_error(ErrorKind::Unsupported,
                               "legacy (pre-1.6) torch.save format; re-save it with torch >= 1.6 "
                               "(torch.save(sd, path))"));
    } else {
        return fail(format_error("unknown format (not a zip archive or safetensors)"));
    }
    if (!tensors) return fail(tensors.error());
    if (tensors->empty()) return fail(format_error("the checkpoint holds no tensors"));
    checkpoint.tensors = std::move(tensors).value();
    return checkpoint;
}

}  // namespace ps::io
