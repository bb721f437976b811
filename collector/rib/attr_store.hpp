// AttrStore: interned path-attribute sets for the Adj-RIB-In.
//
// A full table repeats a few hundred thousand distinct attribute sets across a million
// prefixes, and peers share many of them: storing each set once and a 32-bit id per route is
// what keeps a route at a few tens of bytes. Ids are reference counted by the tables that hold
// them. Only the io thread interns and counts; a snapshot reader on another thread may read
// the bytes of an id that a table it holds references (those bytes never change while
// referenced, and the chunk directory never moves).
#pragma once

#include <absl/container/flat_hash_set.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace bgpscribe::collector::rib {

class AttrStore {
 public:
  using Id = std::uint32_t;  // 0 is never an id

  AttrStore();
  ~AttrStore();
  AttrStore(const AttrStore&) = delete;
  AttrStore& operator=(const AttrStore&) = delete;

  // The id of `bytes`, with one more reference.
  Id intern(std::span<const std::uint8_t> bytes);
  void ref(Id id) { ++entry(id).refs; }
  void unref(Id id);
  [[nodiscard]] std::span<const std::uint8_t> bytes(Id id) const {
    const Entry& e = entry(id);
    return {e.data.get(), e.size};
  }

  [[nodiscard]] std::size_t size() const { return live_; }
  // Bytes held by attribute data (not counting the index).
  [[nodiscard]] std::size_t data_bytes() const { return data_bytes_; }

 private:
  struct Entry {
    std::unique_ptr<std::uint8_t[]> data;
    std::uint32_t size = 0;
    std::uint32_t refs = 0;
    std::size_t hash = 0;
  };
  static constexpr std::size_t kChunkBits = 12;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kMaxChunks = std::size_t{1} << 20;  // 2^32 ids in all

  [[nodiscard]] Entry& entry(Id id) const {
    const std::span<Entry, kChunkSize> chunk(
        chunks_[id >> kChunkBits].load(std::memory_order_acquire), kChunkSize);
    return chunk[id & (kChunkSize - 1)];
  }
  Id allocate();

  struct Hash {
    using is_transparent = void;
    const AttrStore* store;
    std::size_t operator()(Id id) const { return store->entry(id).hash; }
    std::size_t operator()(std::span<const std::uint8_t> b) const;
  };
  struct Eq {
    using is_transparent = void;
    const AttrStore* store;
    bool operator()(Id a, Id b) const { return a == b; }
    bool operator()(Id a, std::span<const std::uint8_t> b) const;
    bool operator()(std::span<const std::uint8_t> a, Id b) const { return (*this)(b, a); }
  };

  std::unique_ptr<std::atomic<Entry*>[]> chunks_;
  std::size_t chunk_count_ = 0;
  std::vector<Id> free_;
  Id next_ = 1;
  std::size_t live_ = 0;
  std::size_t data_bytes_ = 0;
  absl::flat_hash_set<Id, Hash, Eq> index_;
};

}  // namespace bgpscribe::collector::rib
