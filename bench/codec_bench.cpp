// Codec hot paths on the real data of ../shared/data: UPDATE decode (attributes and NLRI into
// views), attribute decode alone (RIB entries), MRT record framing and parsing, and the dump
// formatter. Run: build/release/benchmarks/codec_bench (scripts/bench runs it too).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/body.hpp"
#include "codec/mrt/file.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tools/bgpdump_format.hpp"

namespace {

namespace bgp = bgpscribe::codec::bgp;
namespace mrt = bgpscribe::codec::mrt;
namespace wire = bgpscribe::codec::wire;

const char* const kUpdateFiles[] = {
    "mrt/dfz_name_and_shame/dnas/tests/RRC1/rrc01.updates.20100827.0840.gz",
    "mrt/dfz_name_and_shame/dnas/tests/RRC23/rrc23.updates.20220421.0200.gz",
    "mrt/bgp-rs/res/mrt/updates.20190101.0000.gz",
    "mrt/dfz_name_and_shame/dnas/tests/SYDNEY/sydney.updates.20220601.0230.bz2",
};
const char* const kRibFile = "mrt/pyasn/data/rib.20140523.0600_firstMB.bz2";

struct Message {
  std::vector<std::uint8_t> bytes;
  bgp::ParseContext ctx;
};

struct Corpus {
  std::vector<Message> updates;
  std::vector<std::vector<std::uint8_t>> rib_attributes;
  std::vector<std::uint8_t> update_file;  // one uncompressed update file, whole
  std::vector<std::uint8_t> rib_file;     // the uncompressed RIB file, whole records only
};

void read_records(const std::string& path, std::vector<std::uint8_t>* whole,
                  const std::function<void(const mrt::Record&)>& f) {
  mrt::FileReader reader;
  if (!reader.open(path)) {
    return;
  }
  mrt::FileRecord rec;
  while (reader.next(rec)) {
    if (whole != nullptr) {
      whole->insert(whole->end(), rec.record.bytes.begin(), rec.record.bytes.end());
    }
    f(rec.record);
  }
}

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    const std::string base = BGPSCRIBE_SHARED_DATA;
    bool first = true;
    for (const char* file : kUpdateFiles) {
      read_records(
          base + "/" + file, first ? &out.update_file : nullptr, [&](const mrt::Record& r) {
            if (r.header.type != mrt::Type::Bgp4mp && r.header.type != mrt::Type::Bgp4mpEt) {
              return;
            }
            auto m = mrt::parse_bgp4mp_message(r);
            if (!m || m->message.size() < 19 || m->message[18] != 2) {
              return;
            }
            out.updates.push_back(
                {{m->message.begin(), m->message.end()}, mrt::parse_context_for(r)});
          });
      first = false;
    }
    read_records(base + "/" + kRibFile, &out.rib_file, [&](const mrt::Record& r) {
      if (r.header.type != mrt::Type::TableDumpV2) {
        return;
      }
      auto rib = mrt::parse_rib(r);
      if (!rib) {
        return;
      }
      for (const auto& e : *rib) {
        out.rib_attributes.emplace_back(e.attributes.begin(), e.attributes.end());
      }
    });
    std::fprintf(stderr, "corpus: %zu UPDATEs, %zu RIB attribute blocks\n", out.updates.size(),
                 out.rib_attributes.size());
    return out;
  }();
  return c;
}

// UPDATE decode: framing checks, attributes into the typed view, every NLRI iterated.
void BM_UpdateDecode(benchmark::State& state) {
  const auto& c = corpus();
  if (c.updates.empty()) {
    state.SkipWithError("no shared data");
    return;
  }
  std::size_t prefixes = 0;
  bgp::Update view;
  for (auto _ : state) {
    for (const auto& m : c.updates) {
      auto st = bgp::parse_update_into(m.bytes, m.ctx, view);
      const bgp::Update* u = st ? &view : nullptr;
      if (u != nullptr) {
        for (const auto& n : u->withdrawn) {
          benchmark::DoNotOptimize(n.length);
          ++prefixes;
        }
        for (const auto& n : u->nlri) {
          benchmark::DoNotOptimize(n.length);
          ++prefixes;
        }
        for (const auto& n : u->attributes.mp_reach.nlri) {
          benchmark::DoNotOptimize(n.length);
          ++prefixes;
        }
        for (const auto& n : u->attributes.mp_unreach.withdrawn) {
          benchmark::DoNotOptimize(n.length);
          ++prefixes;
        }
      }
      benchmark::DoNotOptimize(u);
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.updates.size()));
  state.counters["prefixes/s"] =
      benchmark::Counter(static_cast<double>(prefixes), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_UpdateDecode)->Unit(benchmark::kMillisecond);

// Attribute decode alone, on TABLE_DUMP_V2 entries (4-octet AS_PATH, abbreviated MP_REACH).
void BM_AttributeDecode(benchmark::State& state) {
  const auto& c = corpus();
  if (c.rib_attributes.empty()) {
    state.SkipWithError("no shared data");
    return;
  }
  bgp::ParseContext ctx;
  bgp::AttributeOptions opts;
  opts.mrt_rib = true;
  opts.rib_family = bgp::kIpv4Unicast;
  bgp::PathAttributes v;
  for (auto _ : state) {
    for (const auto& a : c.rib_attributes) {
      bgp::parse_attributes_into(wire::Reader(a), ctx, opts, v);
      benchmark::DoNotOptimize(v.as_path.path_length());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.rib_attributes.size()));
}
BENCHMARK(BM_AttributeDecode)->Unit(benchmark::kMillisecond);

// MRT framing, header and typed body of every record of an in-memory file.
void record_parse(benchmark::State& state, const std::vector<std::uint8_t>& file) {
  if (file.empty()) {
    state.SkipWithError("no shared data");
    return;
  }
  std::size_t records = 0;
  for (auto _ : state) {
    std::span<const std::uint8_t> rest(file);
    while (!rest.empty()) {
      const auto f = mrt::frame(rest);
      if (f.status != mrt::FrameStatus::Complete) {
        break;
      }
      auto r = mrt::parse_record(rest.subspan(0, f.size));
      if (r) {
        auto body = mrt::parse_body(*r);
        benchmark::DoNotOptimize(body);
      }
      rest = rest.subspan(f.size);
      ++records;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(records));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}
void BM_MrtRecordParseUpdates(benchmark::State& state) {
  record_parse(state, corpus().update_file);
}
void BM_MrtRecordParseRib(benchmark::State& state) {
  record_parse(state, corpus().rib_file);
}
BENCHMARK(BM_MrtRecordParseUpdates)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MrtRecordParseRib)->Unit(benchmark::kMillisecond);

// The bgpdump -m formatter over an in-memory file (no I/O, no decompression).
void dump_format(benchmark::State& state, const std::vector<std::uint8_t>& file) {
  if (file.empty()) {
    state.SkipWithError("no shared data");
    return;
  }
  std::size_t bytes_out = 0;
  for (auto _ : state) {
    bgpscribe::tools::BgpdumpFormatter fmt({});
    bgpscribe::tools::Text out;
    std::span<const std::uint8_t> rest(file);
    while (!rest.empty()) {
      const auto f = mrt::frame(rest);
      if (f.status != mrt::FrameStatus::Complete) {
        break;
      }
      auto r = mrt::parse_record(rest.subspan(0, f.size));
      if (r) {
        (void)fmt.format(*r, out);
      }
      if (out.size() > (1U << 20)) {
        bytes_out += out.size();
        out.clear();
      }
      rest = rest.subspan(f.size);
    }
    bytes_out += out.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
  state.counters["text_MB/s"] =
      benchmark::Counter(static_cast<double>(bytes_out) / 1e6, benchmark::Counter::kIsRate);
}
void BM_DumpFormatUpdates(benchmark::State& state) {
  dump_format(state, corpus().update_file);
}
void BM_DumpFormatRib(benchmark::State& state) {
  dump_format(state, corpus().rib_file);
}
BENCHMARK(BM_DumpFormatUpdates)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DumpFormatRib)->Unit(benchmark::kMillisecond);

}  // namespace
