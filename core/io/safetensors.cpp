// safetensors: an 8-byte little-endian header length, a JSON header, then the raw tensor bytes.
#include "io/safetensors.h"

#include <ATen/ATen.h>

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include "io/atomic_file.h"
#include "io/dtype.h"

namespace ps::io {
namespace {

// The reference implementation refuses headers over 100 MB; so do we, before parsing them.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr double kMaxExactDouble = 9007199254740992.0;  // 2^53: JSON numbers are doubles

struct TensorInfo {
    std::string name;
    at::ScalarType dtype = at::kFloat;
    std::vector<int64_t> shape;
    uint64_t begin = 0;
    uint64_t end = 0;
};

Error format_error(std::string message) {
    return make_error(ErrorKind::Format, std::move(message));
}

bool to_count(const QJsonValue& value, uint64_t& out) {
    if (!value.isDouble()) return false;
    const double number = value.toDouble();
    if (!(number >= 0 && number <= kMaxExactDouble) || std::floor(number) != number) return false;
    out = static_cast<uint64_t>(number);
    return true;
}

std::string shape_text(const std::vector<int64_t>& shape) {
    std::string text = "[";
    for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
    return text + "]";
}

Result<TensorInfo> parse_tensor_info(const std::string& name, const QJsonValue& value,
                                     uint64_t data_bytes) {
    TensorInfo info;
    info.name = name;
    const QJsonObject entry = value.toObject();
    const QJsonArray shape = entry.value("shape").toArray();
    const QJsonArray offsets = entry.value("data_offsets").toArray();
    if (!value.isObject() || !entry.value("dtype").isString() || !entry.value("shape").isArray() ||
        offsets.size() != 2) {
        return format_error("tensor '" + name + "' needs dtype, shape and data_offsets");
    }
    const std::string dtype_name = entry.value("dtype").toString().toStdString();
    const std::optional<at::ScalarType> dtype = dtype_from_safetensors(dtype_name);
    if (!dtype) {
        return make_error(ErrorKind::Unsupported,
                          "tensor '" + name + "' has unknown dtype '" + dtype_name + "'");
    }
    info.dtype = *dtype;
    uint64_t needed_bytes = dtype_size_bytes(info.dtype);
    for (const QJsonValue& dim : shape) {
        uint64_t extent = 0;
        if (!to_count(dim, extent) || __builtin_mul_overflow(needed_bytes, extent, &needed_bytes)) {
            return format_error("tensor '" + name + "' has an invalid shape");
        }
        info.shape.push_back(static_cast<int64_t>(extent));
    }
    if (!to_count(offsets[0], info.begin) || !to_count(offsets[1], info.end)) {
        return format_error("tensor '" + name + "' has invalid data_offsets");
    }
    if (info.begin > info.end || info.end > data_bytes) {
        return format_error("tensor '" + name + "' data_offsets [" + std::to_string(info.begin) +
                            ", " + std::to_string(info.end) + "] are out of bounds (the data " +
                            "section holds " + std::to_string(data_bytes) + " bytes)");
    }
    if (info.end - info.begin != needed_bytes) {
        return format_error("tensor '" + name + "' size mismatch: shape " + shape_text(info.shape) +
                            " of " + dtype_name + " needs " + std::to_string(needed_bytes) +
                            " bytes, data_offsets span " + std::to_string(info.end - info.begin));
    }
    return info;
}

// Like the reference implementation, the tensors must tile the data section exactly: no byte
// shared by two tensors, none owned by no tensor (a sign of a truncated or doctored file).
Status check_tiling(std::vector<TensorInfo>& infos, uint64_t data_bytes) {
    std::sort(infos.begin(), infos.end(), [](const TensorInfo& a, const TensorInfo& b) {
        return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
    });
    uint64_t covered = 0;
    const TensorInfo* previous = nullptr;
    for (const TensorInfo& info : infos) {
        if (info.begin == info.end) continue;
        if (info.begin < covered) {
            return format_error("tensors '" + previous->name + "' and '" + info.name + "' overlap");
        }
        if (info.begin > covered) {
            return format_error("bytes " + std::to_string(covered) + " to " +
                                std::to_string(info.begin) +
                                " of the data section belong to no tensor");
        }
        covered = info.end;
        previous = &info;
    }
    if (covered != data_bytes) {
        return format_error(std::to_string(data_bytes - covered) +
                            " bytes of trailing data after the last tensor");
    }
    return Ok{};
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
    std::vector<int64_t> strides(shape.size(), 1);
    for (size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
    return strides;
}

}  // namespace

Result<TensorMap> read_safetensors(const std::shared_ptr<MappedFile>& file) {
    if (file->size() < 8) return format_error("too short for a safetensors header");
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | file->data()[i];
    if (header_bytes > file->size() - 8) {
        return format_error("header length " + std::to_string(header_bytes) +
                            " runs past the end of the file (" + std::to_string(file->size()) +
                            " bytes)");
    }
    if (header_bytes > kMaxHeaderBytes) {
        return format_error("header length " + std::to_string(header_bytes) +
                            " exceeds the 100 MB limit");
    }
    const QByteArray header = QByteArray::fromRawData(
        reinterpret_cast<const char*>(file->data() + 8), static_cast<qsizetype>(header_bytes));
    QJsonParseError parse_error;
    const QJsonDocument document = QJsonDocument::fromJson(header, &parse_error);
    if (parse_error.error != QJsonParseError::NoError || !document.isObject()) {
        return format_error("header is not valid JSON (" +
                            (document.isNull() ? parse_error.errorString().toStdString()
                                               : std::string("not an object")) +
                            ")");
    }
    const size_t data_start = 8 + header_bytes;
    const uint64_t data_bytes = file->size() - data_start;
    const QJsonObject root = document.object();
    std::vector<TensorInfo> infos;
    for (auto it = root.begin(); it != root.end(); ++it) {
        if (it.key() == QLatin1String("__metadata__")) continue;
        Result<TensorInfo> info = parse_tensor_info(it.key().toStdString(), it.value(), data_bytes);
        if (!info) return info.error();
        infos.push_back(std::move(info).value());
    }
    if (Status tiled = check_tiling(infos, data_bytes); !tiled) return tiled.error();
    TensorMap tensors;
    for (const TensorInfo& info : infos) {
        tensors[info.name] =
            tensor_over_mapping(file, data_start + info.begin, info.shape,
                                contiguous_strides(info.shape), info.dtype, info.end - info.begin);
    }
    return tensors;
}

namespace {

// The header and the tensors to write, in file order.
Result<std::pair<QByteArray, std::vector<std::pair<std::string, at::Tensor>>>> plan_file(
    const TensorMap& tensors, const std::map<std::string, std::string>& metadata) {
    std::vector<std::pair<std::string, at::Tensor>> ordered;
    for (const auto& [name, tensor] : tensors) {
        if (!tensor.defined() || safetensors_dtype_name(tensor.scalar_type()) == nullptr) {
            return make_error(
                ErrorKind::InvalidArgument,
                "tensor '" + name + "' is undefined or has a dtype (" +
                    (tensor.defined() ? std::string(c10::toString(tensor.scalar_type())) : "none") +
                    ") safetensors cannot hold");
        }
        ordered.emplace_back(name, tensor.to(at::kCPU).contiguous());
    }
    // As the reference writer does: widest dtypes first, so every tensor stays aligned.
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
        return a.second.element_size() > b.second.element_size();
    });
    QJsonObject header;
    int64_t offset = 0;
    for (const auto& [name, tensor] : ordered) {
        QJsonArray shape;
        for (int64_t dim : tensor.sizes()) shape.append(QJsonValue(static_cast<qint64>(dim)));
        const int64_t end = offset + static_cast<int64_t>(tensor.nbytes());
        header.insert(QString::fromStdString(name),
                      QJsonObject{{"dtype", safetensors_dtype_name(tensor.scalar_type())},
                                  {"shape", shape},
                                  {"data_offsets", QJsonArray{static_cast<qint64>(offset),
                                                              static_cast<qint64>(end)}}});
        offset = end;
    }
    if (!metadata.empty()) {
        QJsonObject values;
        for (const auto& [key, value] : metadata) {
            values.insert(QString::fromStdString(key), QString::fromStdString(value));
        }
        header.insert("__metadata__", values);
    }
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    // Pad with spaces so the data section starts 8-byte aligned, as the reference does.
    json.append(QByteArray((8 - json.size() % 8) % 8, ' '));
    return std::make_pair(json, std::move(ordered));
}

}  // namespace

Status save_safetensors(const std::string& path, const TensorMap& tensors,
                        const std::map<std::string, std::string>& metadata) {
    const std::string file_name = QFileInfo(QString::fromStdString(path)).fileName().toStdString();
    auto fail = [&](ErrorKind kind, const std::string& message) -> Status {
        return make_error(kind, file_name + ": " + message);
    };
    auto plan = plan_file(tensors, metadata);
    if (!plan) return fail(plan.error().kind, plan.message());
    const auto& [header, ordered] = plan.value();

    // AtomicFile's messages start with the full path; this module's start with the file name.
    auto io_fail = [&](const Error& error) -> Status {
        std::string message = error.message;
        if (message.rfind(path + ": ", 0) == 0) message.erase(0, path.size() + 2);
        return fail(error.kind, message);
    };
    auto file = AtomicFile::create(path);
    if (!file) return io_fail(file.error());
    uint8_t length_bytes[8];
    for (int i = 0; i < 8; ++i)
        length_bytes[i] = static_cast<uint8_t>(uint64_t(header.size()) >> (8 * i));
    Status written = file->write(length_bytes, 8);
    if (written) written = file->write(header.constData(), size_t(header.size()));
    for (size_t i = 0; written && i < ordered.size(); ++i)
        written = file->write(ordered[i].second.data_ptr(), ordered[i].second.nbytes());
    if (written) written = file->commit();
    if (!written) return io_fail(written.error());
    return Ok{};
}

}  // namespace ps::io
