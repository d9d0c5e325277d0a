// content_hash(): the fast 128-bit hash behind embedding cache keys and store file names.
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/embedding_cache.h"

namespace ps::engine {
namespace {

// 64-bit primes from xxHash64; odd, so multiplying by them is a bijection on 64-bit words.
constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

inline uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

// Little-endian load; memcpy lets the compiler emit one unaligned mov. The value depends on
// host byte order, which is fine for x86-64 and AArch64 (both little-endian).
inline uint64_t load64(const unsigned char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Each step is a bijection of `acc` for a fixed word and of the word for a fixed `acc`
// (add, rotate, multiply by an odd constant), so a change in any single word always changes the
// accumulator that absorbed it, whatever follows.
inline uint64_t absorb(uint64_t acc, uint64_t word) {
    acc += word * kPrime2;
    acc = rotl(acc, 31);
    return acc * kPrime1;
}

// MurmurHash3's 64-bit finaliser: bijective, full avalanche.
inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB93FE53B8A63ULL;
    h ^= h >> 33;
    return h;
}

}  // namespace

std::string content_hash(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    const unsigned char* const end = p + size;

    // Four independent stripes over consecutive 8-byte words: their multiply chains overlap in
    // the pipeline, which is what gets well past 1 GB/s (one chain is latency-bound).
    uint64_t acc[4] = {kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1};
    for (; end - p >= 32; p += 32) {
        acc[0] = absorb(acc[0], load64(p));
        acc[1] = absorb(acc[1], load64(p + 8));
        acc[2] = absorb(acc[2], load64(p + 16));
        acc[3] = absorb(acc[3], load64(p + 24));
    }
    int lane = 0;
    for (; end - p >= 8; p += 8, ++lane) acc[lane] = absorb(acc[lane], load64(p));
    if (p < end) {
        // Zero-padded last word; the length below tells "ab" from "ab\0".
        uint64_t word = 0;
        std::memcpy(&word, p, static_cast<size_t>(end - p));
        acc[lane] = absorb(acc[lane], word ^ kPrime5);
    }

    // Two 64-bit halves from different combinations of the stripes. Each half is, for the other
    // stripes fixed, a bijection of any single stripe, so a one-word change changes both halves.
    const uint64_t length = static_cast<uint64_t>(size);
    const uint64_t low =
        fmix64(acc[0] + rotl(acc[1], 7) + rotl(acc[2], 12) + rotl(acc[3], 18) + length * kPrime5);
    const uint64_t high =
        fmix64((acc[0] * kPrime3) ^ rotl(acc[1] * kPrime4, 23) ^ rotl(acc[2] * kPrime1, 41) ^
               rotl(acc[3] * kPrime2, 53) ^ (length + kPrime3));

    static const char kHex[] = "0123456789abcdef";
    std::string hex(32, '0');
    for (int i = 0; i < 16; ++i) {
        hex[15 - i] = kHex[(high >> (4 * i)) & 0xF];
        hex[31 - i] = kHex[(low >> (4 * i)) & 0xF];
    }
    return hex;
}

}  // namespace ps::engine
