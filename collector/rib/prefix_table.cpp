#include "collector/rib/prefix_table.hpp"

#include <algorithm>

namespace bgpscribe::collector::rib {

namespace {

std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
  }
  return v;
}

void store_u64(std::uint64_t v, std::uint8_t* p) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    v >>= 8;
  }
}

}  // namespace

V4Key v4_key(const codec::bgp::Prefix& p) {
  const std::uint64_t a = p.address.v4_host_order();
  return V4Key{(a << 8) | p.length};
}

V6Key v6_key(const codec::bgp::Prefix& p) {
  return V6Key{load_u64(p.address.bytes.data()), load_u64(p.address.bytes.data() + 8), p.length};
}

codec::bgp::Prefix to_prefix(V4Key k) {
  codec::bgp::Prefix p;
  p.address = codec::bgp::IpAddress::v4(static_cast<std::uint32_t>(k.bits >> 8));
  p.length = static_cast<std::uint8_t>(k.bits & 0xff);
  return p;
}

codec::bgp::Prefix to_prefix(const V6Key& k) {
  codec::bgp::Prefix p;
  p.address.family = codec::bgp::Afi::Ipv6;
  store_u64(k.high, p.address.bytes.data());
  store_u64(k.low, p.address.bytes.data() + 8);
  p.length = static_cast<std::uint8_t>(k.length);
  return p;
}

template <class Key>
PrefixTable<Key>::PrefixTable(const PrefixTable& other)
    : store_(other.store_),
      index_(other.index_),
      sparse_(other.sparse_),
      dense_mode_(other.dense_mode_),
      prefixes_(other.prefixes_),
      multi_(other.multi_),
      multi_free_(other.multi_free_),
      routes_(other.routes_) {
  dense_.resize(other.dense_.size());
  for (std::size_t b = 0; b < dense_.size(); ++b) {
    if (other.dense_[b]) {
      dense_[b] = std::make_unique<Slot[]>(kBlockSize);
      std::copy_n(other.dense_[b].get(), kBlockSize, dense_[b].get());
    }
  }
  for_each_slot([&](std::uint32_t id, const Slot& s) {
    index_->ref(id);
    if ((s.attributes & kMulti) == 0) {
      store_->ref(s.attributes);
    }
  });
  for (const auto& paths : multi_) {
    for (const auto& p : paths) {
      store_->ref(p.attributes);
    }
  }
}

template <class Key>
void PrefixTable<Key>::clear() {
  for_each_slot([&](std::uint32_t id, const Slot& s) {
    if ((s.attributes & kMulti) == 0) {
      store_->unref(s.attributes);
    }
    index_->unref(id);
  });
  for (const auto& paths : multi_) {
    for (const auto& p : paths) {
      store_->unref(p.attributes);
    }
  }
  sparse_ = Sparse();
  dense_ = std::vector<Block>();
  dense_mode_ = false;
  prefixes_ = 0;
  multi_ = std::vector<std::vector<Path>>();
  multi_free_ = std::vector<std::uint32_t>();
  routes_ = 0;
}

template <class Key>
void PrefixTable<Key>::to_dense() {
  dense_mode_ = true;
  for (const auto& [id, s] : sparse_) {
    insert_dense(id) = s;
  }
  sparse_ = Sparse();
}

template <class Key>
void PrefixTable<Key>::to_sparse() {
  Sparse m;
  m.reserve(prefixes_);
  for_each_slot([&](std::uint32_t id, const Slot& s) { m.emplace(id, s); });
  sparse_ = std::move(m);
  dense_ = std::vector<Block>();
  dense_mode_ = false;
}

template <class Key>
typename PrefixTable<Key>::Slot& PrefixTable<Key>::insert_dense(std::uint32_t id) {
  const std::size_t b = id >> kBlockBits;
  if (b >= dense_.size()) {
    dense_.resize(b + 1);
  }
  if (!dense_[b]) {
    dense_[b] = std::make_unique<Slot[]>(kBlockSize);
  }
  return dense_[b][id & (kBlockSize - 1)];
}

template <class Key>
typename PrefixTable<Key>::Slot& PrefixTable<Key>::insert_slot(std::uint32_t id) {
  ++prefixes_;
  if (!dense_mode_ && prefixes_ >= kDenseMin && prefixes_ * 2 >= index_->id_limit()) {
    to_dense();
  }
  if (dense_mode_) {
    if (Slot* s = dense_slot(id); s != nullptr) {
      return *s;
    }
    if (prefixes_ * 4 >= index_->id_limit()) {
      return insert_dense(id);
    }
    // A new block for a table that holds few of the ids.
    to_sparse();
  }
  return sparse_.try_emplace(id).first->second;
}

template <class Key>
void PrefixTable<Key>::erase_slot(std::uint32_t id) {
  --prefixes_;
  if (!dense_mode_) {
    sparse_.erase(id);
    return;
  }
  *dense_slot(id) = Slot{};
  if (prefixes_ * 4 < index_->id_limit()) {
    to_sparse();
  }
}

template <class Key>
void PrefixTable<Key>::announce(const Key& key, std::uint32_t path_id, AttrStore::Id attributes,
                                std::uint32_t originated) {
  store_->ref(attributes);
  const std::uint32_t id = index_->intern(key);
  Slot* s = slot(id);
  const bool inserted = s == nullptr;
  if (inserted) {
    index_->ref(id);
    s = &insert_slot(id);
  }
  if (inserted && path_id == 0) {
    *s = Slot{attributes, originated};
    ++routes_;
    return;
  }
  if (!inserted && (s->attributes & kMulti) == 0 && path_id == 0) {
    store_->unref(s->attributes);
    *s = Slot{attributes, originated};
    return;
  }
  // ADD-PATH: move to (or use) a side list of paths.
  std::uint32_t index = 0;
  if (inserted || (s->attributes & kMulti) == 0) {
    if (multi_free_.empty()) {
      index = static_cast<std::uint32_t>(multi_.size());
      multi_.emplace_back();
    } else {
      index = multi_free_.back();
      multi_free_.pop_back();
    }
    if (!inserted) {
      multi_[index].push_back(Path{0, s->attributes, s->originated});
    }
    *s = Slot{index | kMulti, 0};
  } else {
    index = s->attributes & ~kMulti;
  }
  auto& paths = multi_[index];
  auto p = std::lower_bound(paths.begin(), paths.end(), path_id,
                            [](const Path& a, std::uint32_t want) { return a.path_id < want; });
  if (p != paths.end() && p->path_id == path_id) {
    store_->unref(p->attributes);
    p->attributes = attributes;
    p->originated = originated;
    return;
  }
  paths.insert(p, Path{path_id, attributes, originated});
  ++routes_;
}

template <class Key>
bool PrefixTable<Key>::withdraw(const Key& key, std::uint32_t path_id) {
  const std::uint32_t id = index_->find(key);
  if (id == 0) {
    return false;
  }
  Slot* s = slot(id);
  if (s == nullptr) {
    return false;
  }
  if ((s->attributes & kMulti) == 0) {
    if (path_id != 0) {
      return false;
    }
    store_->unref(s->attributes);
    erase_slot(id);
    index_->unref(id);
    --routes_;
    return true;
  }
  const std::uint32_t index = s->attributes & ~kMulti;
  auto& paths = multi_[index];
  auto p = std::lower_bound(paths.begin(), paths.end(), path_id,
                            [](const Path& a, std::uint32_t want) { return a.path_id < want; });
  if (p == paths.end() || p->path_id != path_id) {
    return false;
  }
  store_->unref(p->attributes);
  paths.erase(p);
  --routes_;
  if (paths.empty()) {
    paths.shrink_to_fit();
    multi_free_.push_back(index);
    erase_slot(id);
    index_->unref(id);
  }
  return true;
}

template <class Key>
bool PrefixTable<Key>::find(const Key& key, std::vector<Path>& out) const {
  const std::uint32_t id = index_->find(key);
  return id != 0 && find_id(id, out);
}

template <class Key>
bool PrefixTable<Key>::find_id(std::uint32_t id, std::vector<Path>& out) const {
  const Slot* s = slot(id);
  if (s == nullptr) {
    return false;
  }
  if ((s->attributes & kMulti) == 0) {
    out.push_back(Path{0, s->attributes, s->originated});
  } else {
    const auto& paths = multi_[s->attributes & ~kMulti];
    out.insert(out.end(), paths.begin(), paths.end());
  }
  return true;
}

template <class Key>
std::size_t PrefixTable<Key>::memory() const {
  std::size_t n = sparse_.capacity() * (sizeof(typename Sparse::value_type) + 1) +
                  dense_.capacity() * sizeof(Block) + multi_.capacity() * sizeof(std::vector<Path>);
  for (const auto& b : dense_) {
    n += b ? kBlockSize * sizeof(Slot) : 0;
  }
  for (const auto& paths : multi_) {
    n += paths.capacity() * sizeof(Path);
  }
  return n;
}

template class PrefixTable<V4Key>;
template class PrefixTable<V6Key>;

}  // namespace bgpscribe::collector::rib
