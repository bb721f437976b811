// Round-trip fuzz target for BMP messages (codec/bmp/message.hpp).
//
// Every BMP message that parses must encode back to exactly its bytes (the format keeps
// everything it does not interpret raw, so the encoding is canonical), and the encoding must
// parse to an equal value. Input that does not frame as one message is given a common header
// (version 3, the right length, the type from its first byte), so that the fuzzer reaches the
// bodies without learning the header.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "codec/bmp/message.hpp"
#include "codec/bmp/types.hpp"
#include "codec/wire/writer.hpp"

namespace {

using namespace bgpscribe::codec;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "bmp_roundtrip_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::vector<std::uint8_t> message_bytes(std::span<const std::uint8_t> input) {
  const bmp::Frame f = bmp::frame(input);
  if (f.status == bgp::FrameStatus::Message && f.size == input.size()) {
    return {input.begin(), input.end()};
  }
  if (input.empty()) {
    return {};
  }
  // Types 0..6 mostly, sometimes the draft type 100 or an unknown one.
  const std::uint8_t t = input[0];
  const std::uint8_t type = t < 240 ? static_cast<std::uint8_t>(t % 7) : t;
  wire::Writer w;
  w.u8(bmp::kVersion);
  w.u32(static_cast<std::uint32_t>(bmp::kCommonHeaderSize + input.size() - 1));
  w.u8(type);
  w.bytes(input.subspan(1));
  return w.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes = message_bytes({data, size});
  if (bytes.empty()) {
    return 0;
  }
  auto buffer = std::make_unique<std::uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buffer.get());
  const std::span<const std::uint8_t> message(buffer.get(), bytes.size());

  auto m = bmp::parse_message(message);
  if (!m) {
    return 0;
  }
  wire::Writer w;
  require(bmp::encode(*m, w).has_value(), "a parsed message encodes");
  require(same(w.bytes(), message), "encode(parse(bytes)) == bytes");

  auto copy = std::make_unique<std::uint8_t[]>(w.size());
  std::copy(w.bytes().begin(), w.bytes().end(), copy.get());
  auto again = bmp::parse_message({copy.get(), w.size()});
  require(again.has_value(), "the encoding parses");
  require(*again == *m, "parse(encode(message)) == message");
  require(bmp::type_of(*again) == bmp::type_of(*m), "the type round-trips");
  return 0;
}
