#include "codec/bgp/nlri.hpp"

#include <optional>

#include "codec/bgp/notification_codes.hpp"

namespace bgpscribe::codec::bgp {

namespace {

Prefix make_prefix(Afi afi, std::uint8_t length, const std::array<std::uint8_t, 16>& bytes,
                   bool mask) {
  Prefix p;
  p.address.family = afi;
  p.length = length;
  p.address.bytes = bytes;
  if (mask) {
    for (std::size_t i = 0; i < 16; ++i) {
      const std::size_t bit = i * 8;
      if (bit >= length) {
        p.address.bytes[i] = 0;
      } else if (bit + 8 > length) {
        p.address.bytes[i] &= static_cast<std::uint8_t>(0xFF << (8 - (length - bit)));
      }
    }
  }
  return p;
}

}  // namespace

Prefix Nlri::prefix() const {
  return make_prefix(afi, length, bytes, true);
}
Prefix Nlri::raw_prefix() const {
  return make_prefix(afi, length, bytes, false);
}
bool Nlri::host_bits_set() const {
  return prefix().address.bytes != bytes;
}

namespace {

// Walks plain-prefix NLRI entries: the hot path of every UPDATE, so no Result per field.
// Returns the number of whole, valid entries; `end` is where they stop, and `error` is set
// when that is not the end of the data.
std::size_t scan(std::span<const std::uint8_t> data, std::uint8_t max_len, bool add_path,
                 std::uint32_t base, std::size_t& end, std::optional<Error>& error) {
  std::size_t pos = 0;
  std::size_t count = 0;
  while (pos < data.size()) {
    const std::size_t entry_start = pos;
    if (add_path) {
      if (data.size() - pos < 5) {
        error = Error{ErrorKind::Truncated,
                      error_code::kUpdateMessage,
                      update_subcode::kInvalidNetworkField,
                      Reaction::SessionReset,
                      base + static_cast<std::uint32_t>(entry_start),
                      "NLRI entry truncated in path identifier"};
        break;
      }
      pos += 4;
    }
    const std::uint8_t len = data[pos];
    if (len > max_len) {
      error = Error{ErrorKind::BadValue,
                    error_code::kUpdateMessage,
                    update_subcode::kInvalidNetworkField,
                    Reaction::SessionReset,
                    base + static_cast<std::uint32_t>(pos),
                    "NLRI prefix length exceeds the address family maximum"};
      break;
    }
    const std::size_t nbytes = (static_cast<std::size_t>(len) + 7) / 8;
    if (data.size() - pos - 1 < nbytes) {
      error = Error{ErrorKind::Truncated,
                    error_code::kUpdateMessage,
                    update_subcode::kInvalidNetworkField,
                    Reaction::SessionReset,
                    base + static_cast<std::uint32_t>(entry_start),
                    "NLRI prefix overruns its block"};
      break;
    }
    pos += 1 + nbytes;
    ++count;
    end = pos;
  }
  return count;
}

}  // namespace

Result<NlriBlock> NlriBlock::parse(wire::Reader& r, AfiSafi family, bool add_path) {
  NlriBlock block;
  block.family_ = family;
  block.add_path_ = add_path;
  block.offset_ = r.offset();
  block.bytes_ = r.rest();
  if (is_plain_prefix_family(family)) {
    std::size_t end = 0;
    std::optional<Error> error;
    block.count_ = scan(r.rest(), max_prefix_length(family.afi), add_path, r.offset(), end, error);
    if (error) {
      return fail(*error);
    }
  }
  (void)r.skip(r.remaining());
  return block;
}

Status NlriBlock::parse_into(std::span<const std::uint8_t> bytes, std::uint32_t offset,
                             AfiSafi family, bool add_path, NlriBlock& out) {
  out.family_ = family;
  out.add_path_ = add_path;
  out.offset_ = offset;
  out.bytes_ = bytes;
  out.count_ = 0;
  if (is_plain_prefix_family(family)) {
    std::size_t end = 0;
    std::optional<Error> error;
    out.count_ = scan(bytes, max_prefix_length(family.afi), add_path, offset, end, error);
    if (error) {
      return fail(*error);
    }
  }
  return {};
}

NlriBlock NlriBlock::parse_lenient(wire::Reader& r, AfiSafi family, bool add_path, bool* complete) {
  NlriBlock block;
  block.family_ = family;
  block.add_path_ = add_path;
  block.offset_ = r.offset();
  block.bytes_ = r.rest();
  bool whole = true;
  if (is_plain_prefix_family(family)) {
    std::size_t end = 0;
    std::optional<Error> error;
    block.count_ = scan(r.rest(), max_prefix_length(family.afi), add_path, r.offset(), end, error);
    block.bytes_ = block.bytes_.subspan(0, end);
    whole = !error.has_value();
  }
  (void)r.skip(r.remaining());
  if (complete != nullptr) {
    *complete = whole;
  }
  return block;
}

void NlriBlock::Iterator::load() {
  if (rest_.empty()) {
    step_ = 0;
    return;
  }
  std::size_t pos = 0;
  current_.afi = afi_;
  if (add_path_) {
    current_.path_id = wire::load_u32(rest_, 0);
    pos = 4;
  } else {
    current_.path_id = 0;
  }
  current_.length = rest_[pos];
  const std::size_t nbytes = (static_cast<std::size_t>(current_.length) + 7) / 8;
  current_.bytes.fill(0);
  for (std::size_t i = 0; i < nbytes; ++i) {
    current_.bytes[i] = rest_[pos + 1 + i];
  }
  step_ = pos + 1 + nbytes;
}

void encode_nlri(wire::Writer& w, const Prefix& prefix, std::uint32_t path_id, bool add_path) {
  if (add_path) {
    w.u32(path_id);
  }
  w.u8(prefix.length);
  const std::size_t nbytes = (static_cast<std::size_t>(prefix.length) + 7) / 8;
  w.bytes(std::span<const std::uint8_t>(prefix.address.bytes.data(), nbytes));
}

}  // namespace bgpscribe::codec::bgp
