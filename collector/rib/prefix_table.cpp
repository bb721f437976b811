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
      map_(other.map_),
      multi_(other.multi_),
      multi_free_(other.multi_free_),
      routes_(other.routes_) {
  for (const auto& kv : map_) {
    if ((kv.second.attributes & kMulti) == 0) {
      store_->ref(kv.second.attributes);
    }
  }
  for (const auto& paths : multi_) {
    for (const auto& p : paths) {
      store_->ref(p.attributes);
    }
  }
}

template <class Key>
void PrefixTable<Key>::release(const Slot& s) {
  if ((s.attributes & kMulti) == 0) {
    store_->unref(s.attributes);
    return;
  }
  const std::uint32_t i = s.attributes & ~kMulti;
  for (const auto& p : multi_[i]) {
    store_->unref(p.attributes);
  }
  multi_[i].clear();
  multi_[i].shrink_to_fit();
  multi_free_.push_back(i);
}

template <class Key>
void PrefixTable<Key>::clear() {
  for (const auto& kv : map_) {
    if ((kv.second.attributes & kMulti) == 0) {
      store_->unref(kv.second.attributes);
    }
  }
  for (const auto& paths : multi_) {
    for (const auto& p : paths) {
      store_->unref(p.attributes);
    }
  }
  map_.clear();
  multi_.clear();
  multi_free_.clear();
  routes_ = 0;
}

template <class Key>
void PrefixTable<Key>::announce(const Key& key, std::uint32_t path_id, AttrStore::Id attributes,
                                std::uint32_t originated) {
  store_->ref(attributes);
  auto [it, inserted] = map_.try_emplace(key);
  Slot& s = it->second;
  if (inserted && path_id == 0) {
    s = Slot{attributes, originated};
    ++routes_;
    return;
  }
  if (!inserted && (s.attributes & kMulti) == 0 && path_id == 0) {
    store_->unref(s.attributes);
    s = Slot{attributes, originated};
    return;
  }
  // ADD-PATH: move to (or use) a side list of paths.
  std::uint32_t index = 0;
  if (inserted || (s.attributes & kMulti) == 0) {
    if (multi_free_.empty()) {
      index = static_cast<std::uint32_t>(multi_.size());
      multi_.emplace_back();
    } else {
      index = multi_free_.back();
      multi_free_.pop_back();
    }
    if (!inserted) {
      multi_[index].push_back(Path{0, s.attributes, s.originated});
    }
    s = Slot{index | kMulti, 0};
  } else {
    index = s.attributes & ~kMulti;
  }
  auto& paths = multi_[index];
  auto p = std::lower_bound(paths.begin(), paths.end(), path_id,
                            [](const Path& a, std::uint32_t id) { return a.path_id < id; });
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
  auto it = map_.find(key);
  if (it == map_.end()) {
    return false;
  }
  Slot& s = it->second;
  if ((s.attributes & kMulti) == 0) {
    if (path_id != 0) {
      return false;
    }
    store_->unref(s.attributes);
    map_.erase(it);
    --routes_;
    return true;
  }
  auto& paths = multi_[s.attributes & ~kMulti];
  auto p = std::lower_bound(paths.begin(), paths.end(), path_id,
                            [](const Path& a, std::uint32_t id) { return a.path_id < id; });
  if (p == paths.end() || p->path_id != path_id) {
    return false;
  }
  store_->unref(p->attributes);
  paths.erase(p);
  --routes_;
  if (paths.empty()) {
    paths.shrink_to_fit();
    multi_free_.push_back(s.attributes & ~kMulti);
    map_.erase(it);
  }
  return true;
}

template <class Key>
bool PrefixTable<Key>::find(const Key& key, std::vector<Path>& out) const {
  auto it = map_.find(key);
  if (it == map_.end()) {
    return false;
  }
  const Slot& s = it->second;
  if ((s.attributes & kMulti) == 0) {
    out.push_back(Path{0, s.attributes, s.originated});
  } else {
    const auto& paths = multi_[s.attributes & ~kMulti];
    out.insert(out.end(), paths.begin(), paths.end());
  }
  return true;
}

template <class Key>
std::size_t PrefixTable<Key>::memory() const {
  std::size_t n = map_.capacity() * (sizeof(std::pair<Key, Slot>) + 1) +
                  multi_.capacity() * sizeof(std::vector<Path>);
  for (const auto& paths : multi_) {
    n += paths.capacity() * sizeof(Path);
  }
  return n;
}

template class PrefixTable<V4Key>;
template class PrefixTable<V6Key>;

}  // namespace bgpscribe::collector::rib
