#include "collector/rib/attr_store.hpp"

#include <absl/hash/hash.h>

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <string_view>

namespace bgpscribe::collector::rib {

AttrStore::AttrStore()
    : chunks_(std::make_unique<std::atomic<Entry*>[]>(kMaxChunks)),
      index_(0, Hash{this}, Eq{this}) {}

AttrStore::~AttrStore() {
  for (std::size_t i = 0; i < chunk_count_; ++i) {
    delete[] chunks_[i].load(std::memory_order_relaxed);
  }
}

std::size_t AttrStore::Hash::operator()(std::span<const std::uint8_t> b) const {
  return absl::Hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));  // NOLINT
}

bool AttrStore::Eq::operator()(Id a, std::span<const std::uint8_t> b) const {
  auto x = store->bytes(a);
  return x.size() == b.size() && std::equal(x.begin(), x.end(), b.begin());
}

AttrStore::Id AttrStore::allocate() {
  if (!free_.empty()) {
    Id id = free_.back();
    free_.pop_back();
    return id;
  }
  const Id id = next_;
  if ((id >> kChunkBits) >= chunk_count_) {
    if (chunk_count_ == kMaxChunks) {
      throw std::length_error("AttrStore: more than 2^32 attribute sets");
    }
    chunks_[chunk_count_].store(new Entry[kChunkSize], std::memory_order_release);
    ++chunk_count_;
  }
  ++next_;
  return id;
}

AttrStore::Id AttrStore::intern(std::span<const std::uint8_t> bytes) {
  const std::size_t h = Hash{this}(bytes);
  if (auto it = index_.find(bytes); it != index_.end()) {
    ++entry(*it).refs;
    return *it;
  }
  const Id id = allocate();
  Entry& e = entry(id);
  e.data = std::make_unique_for_overwrite<std::uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), e.data.get());
  e.size = static_cast<std::uint32_t>(bytes.size());
  e.refs = 1;
  e.hash = h;
  index_.insert(id);
  ++live_;
  data_bytes_ += bytes.size();
  return id;
}

void AttrStore::unref(Id id) {
  Entry& e = entry(id);
  assert(e.refs > 0);
  if (--e.refs != 0) {
    return;
  }
  index_.erase(id);
  data_bytes_ -= e.size;
  e.data.reset();
  e.size = 0;
  --live_;
  free_.push_back(id);
}

}  // namespace bgpscribe::collector::rib
