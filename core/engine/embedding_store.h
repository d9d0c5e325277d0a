// Opt-in on-disk store of embeddings (per folder): a dataset re-opened tomorrow needs no encoder.
#pragma once

#include <QString>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "engine/metrics.h"

namespace ps::engine {

// What one entry holds; the engine maps it to and from its embedding type.
struct StoredEmbedding {
    std::string key;    // EmbeddingKey::str(), checked on load
    std::string dtype;  // "float32", "bfloat16", "float16"
    std::vector<int64_t> shape;
    std::vector<int64_t> meta;  // e.g. original and resized sizes
    std::vector<uint8_t> data;  // raw little-endian tensor bytes, size = numel * itemsize
};

// One file per key in `folder`, named content_hash(key) + ".psemb". File format (integers
// little-endian):
//   8 bytes  magic "PSEMBED\0"
//   u32      format version (1)
//   u32      header length in bytes
//   header   compact JSON: {"key", "dtype", "shape", "meta", "payload_bytes"}
//   payload  payload_bytes raw tensor bytes
//   16 bytes checksum: content_hash(header + payload) as 16 raw bytes (the hex digits decoded)
// Written atomically (io::atomic_write), creating the folder. On load, anything wrong — bad magic,
// other version, header not JSON, key mismatch (stale entry or hash collision), payload size
// != numel * itemsize, checksum mismatch, truncation, trailing bytes — yields std::nullopt and
// counts as a rejected entry (it is rebuilt, never trusted); the file is removed. Rejections
// also count as misses. dtypes: float32, float16, bfloat16, float64, int64, int32, uint8.
class EmbeddingStore {
  public:
    explicit EmbeddingStore(QString folder);

    Status save(const StoredEmbedding& entry);
    std::optional<StoredEmbedding> load(const std::string& key);
    QString path_for(const std::string& key) const;

    // hits, misses, entries (.psemb files), bytes on disk (scans the folder); no budget: the
    // folder grows until its owner deletes it.
    CacheTierStats stats() const;
    long long rejected() const;

  private:
    // Counts a rejection, removes the file and says why (qWarning with the file and the defect).
    void reject(const QString& path, const QString& defect);

    QString folder_;
    // Atomics rather than a mutex: file I/O runs unlocked, so loads of different keys overlap.
    std::atomic<long long> hits_{0}, misses_{0}, rejected_{0};
};

}  // namespace ps::engine
