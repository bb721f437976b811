// Round-trip fuzz target for the BGP OPEN message (codec/bgp/open.hpp, capability.hpp).
//
// parse_open, encode_open, parse_open again: the two values must be equal, and the encoding
// must be a fixed point (encoding the re-parsed value gives the same bytes). The encoding
// equals the input bytes wherever the wire form is canonical, which is everywhere except the
// RFC 9072 extended form, whose Non-Ext OP Len octet the parser accepts with any non-zero
// value while the encoder writes 255. The input may hold one OPEN or just its body: a body
// gets a header in front, so the fuzzer need not find the marker.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "codec/bgp/message.hpp"
#include "codec/bgp/open.hpp"
#include "codec/wire/writer.hpp"

namespace {

using namespace bgpscribe::codec;
using namespace bgpscribe::codec::bgp;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "open_roundtrip_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The bytes to parse, in an exactly sized heap buffer.
struct Buffer {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t size = 0;
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data.get(), size}; }
};

Buffer message_from(std::span<const std::uint8_t> input) {
  Buffer b;
  const bool has_marker =
      input.size() >= kMarkerSize &&
      std::all_of(input.begin(), input.begin() + kMarkerSize, [](auto v) { return v == 0xFF; });
  if (has_marker) {
    b.size = input.size();
    b.data = std::make_unique<std::uint8_t[]>(b.size);
    std::copy(input.begin(), input.end(), b.data.get());
    return b;
  }
  // A body: put a header with the right length in front.
  b.size = kHeaderSize + input.size();
  b.data = std::make_unique<std::uint8_t[]>(b.size);
  std::fill(b.data.get(), b.data.get() + kMarkerSize, 0xFF);
  b.data[16] = static_cast<std::uint8_t>(b.size >> 8);
  b.data[17] = static_cast<std::uint8_t>(b.size);
  b.data[18] = static_cast<std::uint8_t>(MessageType::Open);
  std::copy(input.begin(), input.end(), b.data.get() + kHeaderSize);
  return b;
}

// True when the parser accepted the RFC 9072 form with a Non-Ext OP Len other than 255.
bool non_canonical_extended(const Open& open, std::span<const std::uint8_t> message) {
  return open.extended_parameters && message[kHeaderSize + 9] != open_parameter::kExtendedLength;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Buffer input = message_from({data, size});
  const auto message = input.span();
  auto open = parse_open(message);
  if (!open) {
    // A NOTIFICATION code for everything but a buffer too short for a header.
    require(open.error().code == 1 || open.error().code == 2 ||
                (open.error().kind == ErrorKind::Truncated && message.size() < kHeaderSize),
            "OPEN errors are 1/x or 2/x");
    require(open.error().offset <= message.size(), "error offset inside the message");
    return 0;
  }

  wire::Writer w;
  auto st = encode_open(*open, w);
  require(st.has_value(), "a parsed OPEN encodes");
  const auto encoded = std::vector<std::uint8_t>(w.bytes().begin(), w.bytes().end());
  auto copy = std::make_unique<std::uint8_t[]>(encoded.size());
  std::copy(encoded.begin(), encoded.end(), copy.get());
  auto again = parse_open({copy.get(), encoded.size()});
  require(again.has_value(), "an encoded OPEN parses");
  require(*again == *open, "parse(encode(open)) == open");

  if (!non_canonical_extended(*open, message)) {
    require(same(encoded, message), "encode(parse(bytes)) == bytes");
  } else {
    require(encoded.size() == message.size(), "only the Non-Ext OP Len octet differs");
  }
  wire::Writer w2;
  require(encode_open(*again, w2).has_value(), "a re-parsed OPEN encodes");
  require(same(w2.bytes(), encoded), "encoding is a fixed point");
  return 0;
}
