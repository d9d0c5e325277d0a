// Byte-bounded LRU caches of image embeddings: one tier in GPU memory, one in host memory.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/metrics.h"

namespace ps::engine {

// Image content hash + model identity + preprocessing parameters: a re-opened or renamed file
// with the same pixels hits; another model or another downscale limit misses.
struct EmbeddingKey {
    std::string content_hash;  // hex, from content_hash()
    std::string model_id;      // e.g. checkpoint sha/size/mtime + precision + device kind
    std::string preprocess;    // e.g. "longest=1024;downscale=4096"
    std::string str() const { return content_hash + "|" + model_id + "|" + preprocess; }
};

// Fast 128-bit non-cryptographic hash of bytes, for content keys (~GB/s): 32 lowercase hex
// digits. Not collision-resistant against an adversary. Its values name on-disk store files,
// so changing the algorithm invalidates every EmbeddingStore (tests pin known values).
std::string content_hash(const void* data, size_t size);

enum class CacheTier { Host, Device };

// Type-erased value with its size; the engine stores shared_ptr<const sam::SamEmbedding>.
struct CachedValue {
    std::shared_ptr<const void> value;
    long long bytes = 0;
    CacheTier tier = CacheTier::Host;
};

class EmbeddingCache {
  public:
    EmbeddingCache(long long host_budget_bytes, long long device_budget_bytes);

    // Inserts (or replaces) under the value's tier; evicts least-recently-used entries of that
    // tier until it fits its budget. A value larger than the whole budget is not stored.
    // A key lives in one tier at a time: putting it into the other tier moves it there (not
    // counted as an eviction). A null value is ignored. A value larger than the tier's budget
    // also drops any older value under that key, so get() never returns a superseded value.
    void put(const EmbeddingKey& key, CachedValue value);
    // Returns the value (and marks it most recently used) or an empty pointer. The device tier is
    // searched first. A hit counts on the tier where the key was found; a key found in neither
    // tier counts one miss on the Host tier (the device tier's misses stay 0), so
    // hits(host) + hits(device) + misses(host) == number of get() calls.
    std::shared_ptr<const void> get(const EmbeddingKey& key);
    bool contains(const EmbeddingKey& key) const;
    void erase(const EmbeddingKey& key);
    // Empties both tiers; neither erase() nor clear() counts evictions. Hit/miss/eviction
    // counters are kept (they describe the session, not the contents).
    void clear();
    // Shrinking evicts at once (least recently used first); device evictions reach the handler.
    void set_budgets(long long host_budget_bytes, long long device_budget_bytes);

    // Called (outside the lock) with each value evicted from the device tier, so the engine can
    // demote it to the host tier instead of losing it.
    void set_device_eviction_handler(std::function<void(const EmbeddingKey&, CachedValue)> handler);

    CacheTierStats stats(CacheTier tier) const;

  private:
    struct Entry {
        EmbeddingKey key;
        CachedValue value;
    };
    struct Tier {
        std::list<Entry> lru;  // front = most recently used
        std::unordered_map<std::string, std::list<Entry>::iterator> index;  // by key.str()
        CacheTierStats stats;  // entries and bytes kept in step with lru
    };
    using Evicted = std::list<Entry>;

    Tier& tier(CacheTier which) { return tiers_[which == CacheTier::Device ? 1 : 0]; }
    // Both expect mutex_ held. Removed entries are moved out to lists that the caller destroys
    // (or hands to the device eviction handler) after unlocking: values can be large.
    void remove_locked(Tier& tier, const std::string& id, Evicted& dropped);
    void evict_to_budget_locked(Tier& tier, Evicted& evicted);
    void hand_over(Evicted& evicted_device);  // without the lock

    mutable std::mutex mutex_;
    Tier tiers_[2];  // [0] host, [1] device
    std::function<void(const EmbeddingKey&, CachedValue)> device_eviction_handler_;
};

// Default budgets, used when EngineSettings leaves them automatic (PHOTOSYNTH_EMBED_CACHE_MB
// unset): host, a quarter of MemAvailable capped at 4 GiB, else 1 GiB when /proc/meminfo is
// unreadable; device: a quarter of free GPU memory when known, else 0.
long long default_host_cache_budget_bytes();

}  // namespace ps::engine
