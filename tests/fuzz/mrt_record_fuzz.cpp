// Fuzz target for MRT records (codec/mrt/record.hpp, body.hpp, table_dump.hpp, bgp4mp.hpp), the
// BGP data they carry, and the dump formatters that interpret them (tools).
//
// The input is a short MRT stream: it is split into records with mrt::frame. Each record is
// copied into an exactly sized buffer, parsed (header, then the typed body for every type),
// and everything the body holds is decoded the way `bgpscribe dump` would: the BGP message of
// a BGP4MP record through the BGP parsers with parse_context_for(record), RIB entries and
// TABLE_DUMP attributes through parse_attributes (AttributeOptions{mrt_rib, rib_family} for
// TABLE_DUMP_V2), legacy type 5/9/10 messages rebuilt with to_bgp_message. Then the bgpdump
// (plain and with every option) and JSON formatters print it; they keep the peer index table
// between records, which is why one input holds several records. Every format follows the one
// mrt::check_record decision: they print and refuse the same records.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "codec/bgp/as_path.hpp"
#include "codec/bgp/attributes.hpp"
#include "codec/bgp/message.hpp"
#include "codec/bgp/notification.hpp"
#include "codec/bgp/open.hpp"
#include "codec/bgp/route_refresh.hpp"
#include "codec/bgp/text.hpp"
#include "codec/bgp/update.hpp"
#include "codec/mrt/body.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/types.hpp"
#include "codec/wire/writer.hpp"
#include "tools/bgpdump_format.hpp"
#include "tools/json_format.hpp"

namespace {

using namespace bgpscribe::codec;
namespace tools = bgpscribe::tools;

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "mrt_record_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

volatile std::uint64_t g_sink = 0;
void sink(std::uint64_t v) {
  g_sink = g_sink + v;
}

constexpr int kMaxRecords = 16;

struct Buffer {
  std::unique_ptr<std::uint8_t[]> data;
  std::size_t size = 0;
  explicit Buffer(std::span<const std::uint8_t> bytes)
      : data(std::make_unique<std::uint8_t[]>(bytes.size())), size(bytes.size()) {
    std::copy(bytes.begin(), bytes.end(), data.get());
  }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return {data.get(), size}; }
};

void walk_nlri(const bgp::NlriBlock& block) {
  std::size_t n = 0;
  for (const bgp::Nlri& nlri : block) {
    require(nlri.length <= bgp::max_prefix_length(nlri.afi), "NLRI length within the family");
    const bgp::Prefix p = nlri.prefix();
    const bgp::Prefix raw = nlri.raw_prefix();
    require(p.length == nlri.length && raw.length == nlri.length, "prefix keeps its length");
    sink(p.to_string().size() + nlri.host_bits_set() + nlri.path_id);
    ++n;
  }
  if (block.decoded()) {
    require(n == block.count(), "iteration yields count() NLRI");
  }
  sink(block.bytes().size() + block.offset());
}

void walk_as_path(const bgp::AsPathView& path) {
  path.for_each_segment([](const bgp::AsPathView::Segment& s) {
    for (std::size_t i = 0; i < s.count; ++i) {
      sink(s.asn(i));
    }
  });
  const bgp::AsPath owned = path.to_owned();
  sink(path.path_length() + path.origin_as() + bgp::to_string(owned).size());
}

void walk_attributes(const bgp::PathAttributes& a) {
  walk_as_path(a.as_path);
  walk_as_path(a.as4_path);
  sink(bgp::merge_as4_path(a.as_path, a.as4_path).size());
  require(a.communities.size() % 4 == 0, "communities are 4-octet values");
  for (std::size_t i = 0; i < a.communities.size() / 4; ++i) {
    sink(bgp::community_at(a.communities, i));
  }
  require(a.extended_communities.size() % 8 == 0, "extended communities are 8 octets");
  require(a.ipv6_extended_communities.size() % 20 == 0, "IPv6 extended communities are 20");
  require(a.large_communities.size() % 12 == 0, "large communities are 12 octets");
  require(a.cluster_list.size() % 4 == 0, "cluster list holds 4-octet ids");
  sink(a.origin_raw + a.next_hop + a.med + a.local_pref + a.aggregator.asn +
       a.as4_aggregator.address + a.originator_id + a.aigp + a.otc + a.unknown_count());
  if (a.mp_reach.next_hop.valid) {
    sink(a.mp_reach.next_hop.global.to_string().size() + a.mp_reach.next_hop.rd);
    if (a.mp_reach.next_hop.has_link_local) {
      sink(a.mp_reach.next_hop.link_local.to_string().size());
    }
  }
  walk_nlri(a.mp_reach.nlri);
  walk_nlri(a.mp_unreach.withdrawn);
  bgp::RawAttributeIterator it(a.block, a.block_offset);
  bgp::RawAttribute raw;
  while (it.next(raw)) {
    require(a.seen[raw.type], "every attribute met is marked seen");
    sink(raw.optional() + raw.transitive() + raw.partial() + raw.extended_length() +
         raw.value.size());
  }
  sink(a.diagnostics.error_count + static_cast<std::uint8_t>(a.diagnostics.reaction));
  if (!a.diagnostics.ok()) {
    require(a.diagnostics.first.message != nullptr, "diagnostics keep a message");
  }
}

void walk_update(const bgp::Update& u) {
  walk_nlri(u.withdrawn);
  walk_nlri(u.nlri);
  walk_attributes(u.attributes);
  sink(u.end_of_rib + u.has_announcements() + u.has_withdrawals() +
       static_cast<std::uint8_t>(u.reaction()));
}

// One whole BGP message, exactly sized, through the parser of its type.
void decode_bgp_message(std::span<const std::uint8_t> message, const bgp::ParseContext& ctx) {
  if (auto u = bgp::parse_update(message, ctx)) {
    walk_update(*u);
  }
  if (auto o = bgp::parse_open(message)) {
    sink(o->parameters.size() + o->my_as);
  }
  if (auto n = bgp::parse_notification(message)) {
    sink(n->data.size() + bgp::shutdown_communication(*n).has_value());
  }
  if (auto rr = bgp::parse_route_refresh(message)) {
    sink(rr->orf_entries.size());
  }
  sink(bgp::parse_keepalive(message).has_value());
}

void walk_body(const mrt::Record& record, const mrt::Body& body) {
  const bgp::ParseContext ctx = mrt::parse_context_for(record);
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, mrt::Raw>) {
          sink(b.body.size());
        } else if constexpr (std::is_same_v<T, mrt::TableDumpEntry>) {
          sink(b.prefix.to_string().size() + b.peer_ip.to_string().size() + b.as4());
          walk_attributes(bgp::parse_attributes(wire::Reader(b.attributes), ctx));
        } else if constexpr (std::is_same_v<T, mrt::PeerIndexTable>) {
          for (const auto& p : b.peers) {
            sink(p.is_ipv6() + p.is_as4() + p.as + p.ip.to_string().size());
          }
          sink(b.view_name.size());
        } else if constexpr (std::is_same_v<T, mrt::Rib>) {
          if (auto p = b.prefix()) {
            sink(p->to_string().size());
          }
          std::size_t n = 0;
          const bgp::AttributeOptions options{true, b.family};
          for (const mrt::RibEntry& e : b) {
            sink(e.peer_index + e.originated_time + e.path_id);
            walk_attributes(bgp::parse_attributes(wire::Reader(e.attributes), ctx, options));
            ++n;
          }
          require(n == b.entry_count, "a RIB iterates entry_count entries");
        } else if constexpr (std::is_same_v<T, mrt::Bgp4mpMessage>) {
          sink(b.as4() + b.add_path() + b.local() + b.peer.peer_ip.to_string().size());
          decode_bgp_message(b.message, ctx);
        } else if constexpr (std::is_same_v<T, mrt::Bgp4mpStateChange>) {
          const char* s = mrt::to_string(static_cast<mrt::BgpState>(b.new_state));
          sink(s != nullptr ? 1 : 0);
        } else if constexpr (std::is_same_v<T, mrt::BgpMessage>) {
          sink(static_cast<std::uint8_t>(b.message_type()));
          wire::Writer w;
          if (mrt::to_bgp_message(b, w)) {
            const Buffer message(w.bytes());
            decode_bgp_message(message.span(), ctx);
            if (b.message_type() == bgp::MessageType::Update) {
              if (auto u = bgp::parse_update_body(b.payload, ctx)) {
                walk_update(*u);
              }
            }
          }
        } else if constexpr (std::is_same_v<T, mrt::BgpStateChange>) {
          sink(b.old_state + b.new_state);
        }
      },
      body);
}

// A strict RFC 8259 checker for one JSON value: the JSON lines must parse anywhere, so strings
// are valid UTF-8 with no raw control characters, and numbers have JSON's shape.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view text) : s_(text) {}
  bool value(int depth = 0) {
    if (depth > 64 || pos_ >= s_.size()) {
      return false;
    }
    switch (s_[pos_]) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  [[nodiscard]] bool at_end() const { return pos_ == s_.size(); }
  [[nodiscard]] bool starts_object() const { return !s_.empty() && s_[0] == '{'; }

 private:
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) {
      return false;
    }
    pos_ += word.size();
    return true;
  }
  bool object(int depth) {
    ++pos_;
    if (eat('}')) {
      return true;
    }
    do {
      if (!string() || !eat(':') || !value(depth + 1)) {
        return false;
      }
    } while (eat(','));
    return eat('}');
  }
  bool array(int depth) {
    ++pos_;
    if (eat(']')) {
      return true;
    }
    do {
      if (!value(depth + 1)) {
        return false;
      }
    } while (eat(','));
    return eat(']');
  }
  bool digits() {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      ++pos_;
    }
    return pos_ > start;
  }
  bool number() {
    eat('-');
    if (eat('0')) {
      // no leading zeros
    } else if (!digits()) {
      return false;
    }
    if (eat('.') && !digits()) {
      return false;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) {
        eat('-');
      }
      return digits();
    }
    return true;
  }
  bool string() {
    if (!eat('"')) {
      return false;
    }
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return false;
      }
      if (c == '\\') {
        ++pos_;
        if (pos_ >= s_.size()) {
          return false;
        }
        const char e = s_[pos_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (pos_ >= s_.size() || std::isxdigit(static_cast<unsigned char>(s_[pos_])) == 0) {
              return false;
            }
            ++pos_;
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
        continue;
      }
      if (c < 0x80) {
        ++pos_;
        continue;
      }
      // UTF-8: a lead byte and its continuation bytes, shortest form, no surrogates.
      std::size_t n = 0;
      std::uint32_t cp = 0;
      if ((c & 0xE0) == 0xC0) {
        n = 1;
        cp = c & 0x1FU;
      } else if ((c & 0xF0) == 0xE0) {
        n = 2;
        cp = c & 0x0FU;
      } else if ((c & 0xF8) == 0xF0) {
        n = 3;
        cp = c & 0x07U;
      } else {
        return false;
      }
      if (pos_ + n >= s_.size()) {
        return false;
      }
      for (std::size_t i = 1; i <= n; ++i) {
        const auto cc = static_cast<unsigned char>(s_[pos_ + i]);
        if ((cc & 0xC0) != 0x80) {
          return false;
        }
        cp = (cp << 6) | (cc & 0x3FU);
      }
      static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
      if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return false;
      }
      pos_ += n + 1;
    }
    return false;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// Every JSON line is one valid object with a kind.
void check_json_lines(std::string_view out) {
  while (!out.empty()) {
    const std::size_t nl = out.find('\n');
    require(nl != std::string_view::npos, "JSON lines end in a newline");
    const std::string_view line = out.substr(0, nl);
    JsonChecker checker(line);
    require(checker.starts_object() && checker.value() && checker.at_end(),
            "each JSON line is one valid JSON object");
    require(line.find("\"kind\":") != std::string_view::npos, "each JSON line has a kind");
    out.remove_prefix(nl + 1);
  }
}

// bgpdump lines: newline-terminated, no NUL.
void check_text_lines(std::string_view out) {
  require(out.empty() || out.back() == '\n', "bgpdump lines end in a newline");
  require(out.find('\0') == std::string_view::npos, "bgpdump lines hold no NUL");
}

struct Formatters {
  tools::BgpdumpFormatter plain{tools::BgpdumpOptions{}};
  tools::BgpdumpFormatter all{tools::BgpdumpOptions{.human_time = true,
                                                    .change_time = true,
                                                    .packet_index = true,
                                                    .large_communities = true,
                                                    .unknown_attributes = true}};
  tools::BgpdumpFormatter strict{
      tools::BgpdumpOptions{.large_communities = true, .unknown_attributes = true, .strict = true}};
  tools::JsonFormatter json;
  tools::RisLiveFormatter ris;
  // Every PEER_INDEX_TABLE record met so far: the one state a formatter may carry.
  std::vector<Buffer> peer_tables;
};

std::string format_with(tools::BgpdumpFormatter& f, const mrt::Record& record) {
  std::string out = "x";
  if (!f.format(record, out)) {
    require(out == "x", "a failed bgpdump format appends nothing");
  }
  check_text_lines(std::string_view(out).substr(1));
  sink(out.size() + f.packet_index());
  return out;
}

// RIS Live lines: one valid JSON object each, a ris_message.
void check_ris_lines(std::string_view out) {
  while (!out.empty()) {
    const std::size_t nl = out.find('\n');
    require(nl != std::string_view::npos, "RIS Live lines end in a newline");
    const std::string_view line = out.substr(0, nl);
    JsonChecker checker(line);
    require(checker.starts_object() && checker.value() && checker.at_end(),
            "each RIS Live line is one valid JSON object");
    require(line.rfind("{\"type\":\"ris_message\",\"data\":{", 0) == 0,
            "each RIS Live line is a ris_message");
    out.remove_prefix(nl + 1);
  }
}

std::string format_ris(tools::RisLiveFormatter& f, const mrt::Record& record) {
  std::string out = "x";
  f.set_record(7, "rrc00");
  if (!f.format(record, out)) {
    require(out == "x", "a failed RIS Live format appends nothing");
  }
  check_ris_lines(std::string_view(out).substr(1));
  return out;
}

std::string format_json(tools::JsonFormatter& f, const mrt::Record& record) {
  std::string out = "x";
  if (!f.format(record, out)) {
    require(out == "x", "a failed JSON format appends nothing");
  }
  check_json_lines(std::string_view(out).substr(1));
  return out;
}

// A formatter that saw only the peer tables prints a record like one that saw every record
// before it: nothing of an earlier record leaks into a later one's lines.
void check_no_stale_state(const Formatters& formatters, const mrt::Record& record,
                          const std::string& plain, const std::string& json) {
  tools::BgpdumpFormatter fresh_plain{tools::BgpdumpOptions{}};
  tools::JsonFormatter fresh_json;
  for (const Buffer& table : formatters.peer_tables) {
    auto r = mrt::parse_record(table.span());
    require(r.has_value(), "a kept peer table is a record");
    std::string ignored;
    (void)fresh_plain.format(*r, ignored);
    (void)fresh_json.format(*r, ignored);
  }
  require(format_with(fresh_plain, record) == plain, "bgpdump lines depend on no earlier record");
  require(format_json(fresh_json, record) == json, "JSON lines depend on no earlier record");
}

void run_record(std::span<const std::uint8_t> bytes, Formatters& formatters) {
  auto record = mrt::parse_record(bytes);
  if (!record) {
    return;
  }
  require(record->bytes.size() == bytes.size(), "a record spans its bytes");
  require(record->body_offset() == (record->header.extended_time() ? 16U : 12U),
          "the body follows the header");
  sink(mrt::to_string(record->header.type) != nullptr);
  sink(mrt::subtype_name(record->header.type, record->header.subtype) != nullptr);
  sink(mrt::mp_reach_abbreviated(*record));
  if (auto body = mrt::parse_body(*record)) {
    walk_body(*record, *body);
  } else {
    require(body.error().message != nullptr, "body errors have a message");
    require(body.error().offset <= bytes.size(), "body error offsets stay in the record");
  }
  const std::string plain = format_with(formatters.plain, *record);
  format_with(formatters.all, *record);
  format_with(formatters.strict, *record);
  const std::string json = format_json(formatters.json, *record);
  format_ris(formatters.ris, *record);
  // One decision per record (mrt::check_record): every format trusts the same records.
  require(formatters.plain.check().verdict == formatters.json.check().verdict &&
              formatters.ris.check().verdict == formatters.json.check().verdict,
          "bgpdump, JSON and RIS Live formats decide a record alike");
  require(formatters.all.check().printable() == formatters.json.check().printable() &&
              formatters.strict.check().printable() == formatters.json.check().printable(),
          "every bgpdump variant prints the records JSON prints");
  require(
      formatters.json.check().verdict != mrt::Verdict::Malformed || (plain == "x" && json == "x"),
      "a malformed record prints nothing");
  check_no_stale_state(formatters, *record, plain, json);
  if (record->header.type == mrt::Type::TableDumpV2 &&
      record->header.subtype ==
          static_cast<std::uint16_t>(mrt::TableDumpV2Subtype::PeerIndexTable)) {
    formatters.peer_tables.emplace_back(bytes);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  Formatters formatters;
  for (int i = 0; i < kMaxRecords && !rest.empty(); ++i) {
    const mrt::Frame f = mrt::frame(rest);
    if (f.status != mrt::FrameStatus::Complete) {
      if (f.status == mrt::FrameStatus::NeedMore) {
        require(f.size > rest.size(), "NeedMore asks for more than there is");
      } else {
        require(f.error.message != nullptr, "broken frames say why");
      }
      // The parser must refuse what framing could not complete.
      const Buffer tail(rest);
      auto record = mrt::parse_record(tail.span());
      require(!record || f.status == mrt::FrameStatus::Broken,
              "parse_record refuses a record that is not complete");
      break;
    }
    require(f.size >= mrt::kHeaderSize && f.size <= rest.size(), "a record lies in the input");
    const Buffer record(rest.first(static_cast<std::size_t>(f.size)));
    run_record(record.span(), formatters);
    rest = rest.subspan(static_cast<std::size_t>(f.size));
  }
  return 0;
}
