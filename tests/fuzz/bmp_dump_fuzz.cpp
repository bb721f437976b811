// Fuzz target for `bgpscribe dump` over a raw BMP stream (tools/bmp_input.hpp): the input is a
// short stream of BMP messages, framed with bmp::frame; each message is copied into an exactly
// sized buffer and converted by one BmpConverter (which keeps the peers' contexts between
// messages, so Peer Up and Route Monitoring meet), and every MRT record it makes is printed by
// the bgpdump and JSON formatters, as the dump does. Invariants: what the converter makes is a
// whole MRT record, its JSON lines are lines, and offsets it reports lie in the message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codec/bmp/message.hpp"
#include "codec/mrt/record.hpp"
#include "tools/bgpdump_format.hpp"
#include "tools/bmp_input.hpp"
#include "tools/json_format.hpp"

namespace {

using namespace bgpscribe::codec;
namespace tools = bgpscribe::tools;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "bmp_dump_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

constexpr int kMaxMessages = 32;

struct Buffer {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t size = 0;
  explicit Buffer(std::span<const std::uint8_t> bytes)
      : data(std::make_unique<std::uint8_t[]>(bytes.size())), size(bytes.size()) {
    std::copy(bytes.begin(), bytes.end(), data.get());
  }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data.get(), size}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  (void)tools::looks_like_bmp(rest);
  tools::BmpConverter json_converter(true);
  tools::BmpConverter text_converter(false);
  tools::BgpdumpOptions options;
  options.large_communities = true;
  options.unknown_attributes = true;
  tools::BgpdumpFormatter text(options);
  tools::JsonFormatter json;
  std::vector<std::uint8_t> record;
  std::string line;
  std::string out;
  tools::BmpConversion c;
  for (int i = 0; i < kMaxMessages && !rest.empty(); ++i) {
    const bmp::Frame f = bmp::frame(rest);
    if (f.status != bgp::FrameStatus::Message) {
      break;
    }
    require(f.size >= bmp::kCommonHeaderSize && f.size <= rest.size(),
            "a message lies in the input");
    const Buffer message(rest.first(f.size));
    for (auto* converter : {&json_converter, &text_converter}) {
      record.clear();
      line.clear();
      converter->convert(message.span(), record, line, c);
      if (c.has_problem) {
        require(c.problem.message != nullptr, "problems say why");
        require(c.problem.offset <= message.size, "problem offsets lie in the message");
      }
      if (c.kind == tools::BmpConversion::Kind::Record) {
        const Buffer copy(record);
        auto r = mrt::parse_record(copy.span());
        require(r.has_value(), "the converter makes whole MRT records");
        require(c.record_message_at <= record.size(), "the BGP message lies in the record");
        out.clear();
        (void)text.format(*r, out);
        out.clear();
        (void)json.format(*r, out);
        require(out.empty() || out.back() == '\n', "JSON lines end in a newline");
      } else if (c.kind == tools::BmpConversion::Kind::Line) {
        require(converter == &json_converter, "only --json makes lines of its own");
        require(!line.empty() && line.front() == '{' && line.back() == '\n', "a JSON line");
      } else {
        require(record.empty() && line.empty(), "nothing made, nothing appended");
      }
    }
    rest = rest.subspan(f.size);
  }
  return 0;
}
