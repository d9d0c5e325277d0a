// EmbeddingCache: two byte-bounded LRU tiers (device, host) behind one mutex.
#include "engine/embedding_cache.h"

#include <QFile>
#include <QtGlobal>

#include <algorithm>
#include <utility>

namespace ps::engine {

EmbeddingCache::EmbeddingCache(long long host_budget_bytes, long long device_budget_bytes) {
    tier(CacheTier::Host).stats.budget_bytes = std::max(0LL, host_budget_bytes);
    tier(CacheTier::Device).stats.budget_bytes = std::max(0LL, device_budget_bytes);
}

void EmbeddingCache::remove_locked(Tier& t, const std::string& id, Evicted& dropped) {
    auto found = t.index.find(id);
    if (found == t.index.end()) return;
    t.stats.bytes -= found->second->value.bytes;
    dropped.splice(dropped.end(), t.lru, found->second);
    t.index.erase(found);
    t.stats.entries = static_cast<long long>(t.index.size());
}

void EmbeddingCache::evict_to_budget_locked(Tier& t, Evicted& evicted) {
    while (t.stats.bytes > t.stats.budget_bytes && !t.lru.empty()) {
        auto last = std::prev(t.lru.end());
        t.stats.bytes -= last->value.bytes;
        t.index.erase(last->key.str());
        // splice keeps the entry (and its value alive) without copying it.
        evicted.splice(evicted.end(), t.lru, last);
        ++t.stats.evictions;
    }
    t.stats.entries = static_cast<long long>(t.index.size());
}

void EmbeddingCache::hand_over(Evicted& evicted_device) {
    if (evicted_device.empty()) return;
    std::function<void(const EmbeddingKey&, CachedValue)> handler;
    {
        std::lock_guard lock(mutex_);
        handler = device_eviction_handler_;
    }
    // Outside the lock: the handler typically put()s the value into the host tier.
    if (!handler) return;
    for (Entry& entry : evicted_device) handler(entry.key, std::move(entry.value));
}

void EmbeddingCache::put(const EmbeddingKey& key, CachedValue value) {
    if (!value.value) return;
    value.bytes = std::max(0LL, value.bytes);
    const std::string id = key.str();
    const bool to_device = value.tier == CacheTier::Device;
    Evicted evicted, dropped;  // declared before the lock: values are released after unlocking
    {
        std::lock_guard lock(mutex_);
        // One copy per key: a put into either tier supersedes the value in both.
        remove_locked(tier(CacheTier::Host), id, dropped);
        remove_locked(tier(CacheTier::Device), id, dropped);
        Tier& t = tier(value.tier);
        if (value.bytes > t.stats.budget_bytes) return;
        t.lru.push_front(Entry{key, std::move(value)});
        t.index.emplace(id, t.lru.begin());
        t.stats.bytes += t.lru.front().value.bytes;
        t.stats.entries = static_cast<long long>(t.index.size());
        // The new entry is at the front and fits alone, so it is never the one evicted.
        evict_to_budget_locked(t, evicted);
    }
    if (to_device) hand_over(evicted);
}

std::shared_ptr<const void> EmbeddingCache::get(const EmbeddingKey& key) {
    const std::string id = key.str();
    std::lock_guard lock(mutex_);
    for (CacheTier which : {CacheTier::Device, CacheTier::Host}) {
        Tier& t = tier(which);
        auto found = t.index.find(id);
        if (found == t.index.end()) continue;
        t.lru.splice(t.lru.begin(), t.lru, found->second);  // iterators stay valid
        ++t.stats.hits;
        return t.lru.front().value.value;
    }
    ++tier(CacheTier::Host).stats.misses;
    return {};
}

bool EmbeddingCache::contains(const EmbeddingKey& key) const {
    const std::string id = key.str();
    std::lock_guard lock(mutex_);
    return tiers_[0].index.count(id) > 0 || tiers_[1].index.count(id) > 0;
}

void EmbeddingCache::erase(const EmbeddingKey& key) {
    const std::string id = key.str();
    Evicted dropped;
    std::lock_guard lock(mutex_);
    remove_locked(tier(CacheTier::Host), id, dropped);
    remove_locked(tier(CacheTier::Device), id, dropped);
}

void EmbeddingCache::clear() {
    Evicted dropped;  // destroyed after the lock is released: values may be large
    std::lock_guard lock(mutex_);
    for (Tier& t : tiers_) {
        dropped.splice(dropped.end(), t.lru);
        t.index.clear();
        t.stats.entries = 0;
        t.stats.bytes = 0;
    }
}

void EmbeddingCache::set_budgets(long long host_budget_bytes, long long device_budget_bytes) {
    Evicted evicted_device;
    {
        Evicted evicted_host;
        std::lock_guard lock(mutex_);
        tier(CacheTier::Host).stats.budget_bytes = std::max(0LL, host_budget_bytes);
        tier(CacheTier::Device).stats.budget_bytes = std::max(0LL, device_budget_bytes);
        evict_to_budget_locked(tier(CacheTier::Host), evicted_host);
        evict_to_budget_locked(tier(CacheTier::Device), evicted_device);
    }
    hand_over(evicted_device);
}

void EmbeddingCache::set_device_eviction_handler(
    std::function<void(const EmbeddingKey&, CachedValue)> handler) {
    std::lock_guard lock(mutex_);
    device_eviction_handler_ = std::move(handler);
}

CacheTierStats EmbeddingCache::stats(CacheTier which) const {
    std::lock_guard lock(mutex_);
    return tiers_[which == CacheTier::Device ? 1 : 0].stats;
}

namespace {

// MemAvailable from /proc/meminfo in bytes, or -1 when unreadable (not Linux, sandboxed).
long long mem_available_bytes() {
    QFile meminfo(QStringLiteral("/proc/meminfo"));
    if (!meminfo.open(QIODevice::ReadOnly | QIODevice::Text)) return -1;
    // /proc files report size 0, so read line by line rather than by size.
    while (!meminfo.atEnd()) {
        const QByteArray line = meminfo.readLine();
        if (!line.startsWith("MemAvailable:")) continue;
        const QList<QByteArray> fields = line.simplified().split(' ');  // name, value, "kB"
        bool ok = false;
        const long long kib = fields.size() >= 2 ? fields[1].toLongLong(&ok) : 0;
        return ok && kib > 0 ? kib * 1024 : -1;
    }
    return -1;
}

}  // namespace

long long default_host_cache_budget_bytes() {
    constexpr long long kMiB = 1024LL * 1024;
    constexpr long long kGiB = 1024 * kMiB;
    const long long available = mem_available_bytes();
    if (available > 0) return std::min(available / 4, 4 * kGiB);
    return kGiB;
}

}  // namespace ps::engine
