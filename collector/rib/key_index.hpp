// KeyIndex: the prefixes held by any table of one key type, each given a small dense id.
//
// Twenty full tables hold nearly the same 577 k prefixes: keying each table's slots by a 32-bit
// id into one shared index instead of by the prefix lets a table that holds most prefixes be a
// plain array indexed by id. Ids are reference counted by the tables that hold them (one
// reference per table and prefix) and reused once no table holds them. Only the io thread
// interns, counts and looks keys up; a snapshot reader on another thread may read the key of an
// id that a table it holds references (that key never changes while referenced, and the chunk
// directory never moves), never the key -> id map.
#pragma once

#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

namespace bgpscribe::collector::rib {

template <class Key>
class KeyIndex {
 public:
  using Id = std::uint32_t;  // 0 is never an id

  // `expected`: room made up front. Growing the set hashes every id again through its key (a
  // cache miss each): a full table grown from nothing paid about 0.1 s for it.
  explicit KeyIndex(std::size_t expected = 0)
      : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxChunks)),
        ids_(expected, Hash{this}, Eq{this}) {}
  ~KeyIndex() {
    for (std::size_t i = 0; i < chunk_count_; ++i) {
      delete chunks_[i].load(std::memory_order_relaxed);
    }
  }
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // The id of `key`, 0 when no table holds it.
  [[nodiscard]] Id find(const Key& key) const {
    auto it = ids_.find(key);
    return it == ids_.end() ? 0 : *it;
  }
  // The id of `key`, given one if it has none; takes no reference (the caller refs it next).
  Id intern(const Key& key) {
    if (free_.empty() && (next_ >> kChunkBits) >= chunk_count_) {
      // Room for a new id first: lazy_emplace() must construct the slot it has prepared.
      if (next_ == kIdEnd) {
        if (const Id id = find(key); id != 0) {
          return id;
        }
        throw std::length_error("KeyIndex: more than 2^28 prefixes");
      }
      // Published with release: a reader that sees the pointer sees the chunk constructed.
      chunks_[chunk_count_].store(new Chunk(), std::memory_order_release);
      ++chunk_count_;
    }
    return *ids_.lazy_emplace(key, [&](const auto& construct) {
      Id id = next_;
      if (free_.empty()) {
        ++next_;
      } else {
        id = free_.back();
        free_.pop_back();
      }
      Chunk& c = chunk(id);
      c.keys[id & kChunkMask] = key;
      c.refs[id & kChunkMask] = 0;
      construct(id);
    });
  }
  void ref(Id id) { ++chunk(id).refs[id & kChunkMask]; }
  // Drops a reference; the last one frees the id for reuse.
  void unref(Id id) {
    Chunk& c = chunk(id);
    assert(c.refs[id & kChunkMask] > 0);
    if (--c.refs[id & kChunkMask] != 0) {
      return;
    }
    ids_.erase(id);
    free_.push_back(id);
  }
  // The key of a referenced id; the one call a snapshot reader may make.
  [[nodiscard]] const Key& key(Id id) const { return chunk(id).keys[id & kChunkMask]; }
  [[nodiscard]] std::uint32_t refs(Id id) const { return chunk(id).refs[id & kChunkMask]; }
  // One more than the highest id ever given: a table indexed by id needs this many slots.
  [[nodiscard]] Id id_limit() const { return next_; }
  // Starts loading the memory `key` hashes to (see PrefixTable::prefetch).
  void prefetch(const Key& key) const { ids_.prefetch(key); }

  // Keys held by some table.
  [[nodiscard]] std::size_t size() const { return ids_.size(); }
  // Bytes of the map, the id -> key chunks and the free list.
  [[nodiscard]] std::size_t memory() const {
    return ids_.capacity() * (sizeof(Id) + 1) + chunk_count_ * sizeof(Chunk) +
           kMaxChunks * sizeof(std::atomic<Chunk*>) + free_.capacity() * sizeof(Id);
  }

 private:
  static constexpr std::size_t kChunkBits = 14;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kChunkMask = kChunkSize - 1;
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 14;
  static constexpr std::size_t kIdEnd = kChunkSize * kMaxChunks;  // ids below 2^28
  struct Chunk {
    std::array<Key, kChunkSize> keys;
    std::array<std::uint32_t, kChunkSize> refs;
  };
  // The map from key to id is a set of ids that hashes and compares them by their key: 4 bytes
  // a slot instead of 12 or 28.
  struct Hash {
    using is_transparent = void;
    const KeyIndex* index;
    std::size_t operator()(const Key& k) const { return absl::Hash<Key>{}(k); }
    std::size_t operator()(Id id) const { return (*this)(index->key(id)); }
  };
  struct Eq {
    using is_transparent = void;
    const KeyIndex* index;
    bool operator()(Id a, Id b) const { return a == b; }
    bool operator()(Id a, const Key& b) const { return index->key(a) == b; }
    bool operator()(const Key& a, Id b) const { return a == index->key(b); }
  };
  using Set = absl::flat_hash_set<Id, Hash, Eq>;

  [[nodiscard]] Chunk& chunk(Id id) const {
    return *chunks_[id >> kChunkBits].load(std::memory_order_acquire);
  }
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::size_t chunk_count_ = 0;
  std::vector<Id> free_;
  Id next_ = 1;
  Set ids_;
};

}  // namespace bgpscribe::collector::rib
