// Round-trip fuzz target for MRT bodies (codec/mrt/body.hpp and the body codecs behind it).
//
// For every record that parses, encode(parse_body(record), record.header) must reproduce the
// record's bytes exactly, for every kind the codec encodes, Raw included; the encoding must
// parse again to an equal body. The input is one whole record when it frames as exactly one;
// otherwise the first two bytes pick a known type and a subtype and the rest is the body, so
// that the fuzzer reaches every body codec without learning the header first.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "codec/mrt/body.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/types.hpp"
#include "codec/wire/writer.hpp"

namespace {

using namespace bgpscribe::codec;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "mrt_roundtrip_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

constexpr std::array kTypes = {
    mrt::Type::TableDump, mrt::Type::TableDumpV2, mrt::Type::Bgp4mp,     mrt::Type::Bgp4mpEt,
    mrt::Type::Bgp,       mrt::Type::Bgp4Plus,    mrt::Type::Bgp4Plus01, mrt::Type::Null,
    mrt::Type::IsisEt,    mrt::Type::Ospfv3Et,
};

std::vector<std::uint8_t> record_bytes(std::span<const std::uint8_t> input) {
  const mrt::Frame f = mrt::frame(input);
  if (f.status == mrt::FrameStatus::Complete && f.size == input.size()) {
    return {input.begin(), input.end()};
  }
  if (input.size() < 2) {
    return {};
  }
  const mrt::Type type = kTypes[input[0] % kTypes.size()];
  const auto subtype = static_cast<std::uint16_t>(input[1] % 16);
  wire::Writer w;
  const mrt::Timestamp time{1700000000, 123456, mrt::is_extended_time(type)};
  if (!mrt::encode_raw(type, subtype, time, input.subspan(2), w)) {
    return {};
  }
  return w.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes = record_bytes({data, size});
  if (bytes.empty()) {
    return 0;
  }
  auto buffer = std::make_unique<std::uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buffer.get());
  const std::span<const std::uint8_t> record_span(buffer.get(), bytes.size());

  auto record = mrt::parse_record(record_span);
  if (!record) {
    return 0;
  }
  auto body = mrt::parse_body(*record);
  if (!body) {
    require(body.error().offset <= record_span.size(), "body error inside the record");
    return 0;
  }
  wire::Writer w;
  auto st = mrt::encode(*body, record->header, w);
  require(st.has_value(), "a parsed body encodes");
  require(same(w.bytes(), record_span), "encode(parse_body(record), header) == record bytes");

  // The encoding parses back to the same header and an equal body.
  auto copy = std::make_unique<std::uint8_t[]>(w.size());
  std::copy(w.bytes().begin(), w.bytes().end(), copy.get());
  auto again = mrt::parse_record({copy.get(), w.size()});
  require(again.has_value(), "the encoding parses as a record");
  require(again->header == record->header, "the header round-trips");
  auto body_again = mrt::parse_body(*again);
  require(body_again.has_value(), "the encoded body parses");
  require(body_again->index() == body->index(), "the body kind round-trips");
  require(*body_again == *body, "parse_body(encode(body)) == body");
  return 0;
}
