// Throughput of the MRT exporter (exporters/mrt): records/s and prefixes/s through accept() to a
// finished file, per compression. The target is 2 M prefixes/s (300-600 k UPDATE records/s) on
// the one exporter thread; docs/mrt-exporter.md quotes the figures and picks the gzip default.
//
// Input: the UPDATEs of a real RIS 5-minute file (rrc23, 2022) when ../shared/data is there,
// else synthetic UPDATEs of 4 IPv4 prefixes each. Each iteration runs one exporter from start()
// to stop() over 400 k records (bzip2: 100 k), so the close (and bzip2's compression of the
// finished file) is counted.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "exporters/mrt/exporter.hpp"

namespace {

namespace fs = std::filesystem;
using namespace bgpscribe;
using exporters::Record;

struct Sample {
  std::vector<Record> records;
  std::uint64_t prefixes = 0;  // announced + withdrawn over all records
};

std::size_t prefixes_of(std::span<const std::uint8_t> message, const codec::bgp::ParseContext& c) {
  auto u = codec::bgp::parse_update(message, c);
  if (!u) {
    return 0;
  }
  return u->nlri.count() + u->withdrawn.count() + u->attributes.mp_reach.nlri.count() +
         u->attributes.mp_unreach.withdrawn.count();
}

Sample load_sample() {
  Sample s;
  const fs::path real = fs::path(BGPSCRIBE_SHARED_DATA) /
                        "mrt/dfz_name_and_shame/dnas/tests/RRC23/rrc23.updates.20220421.0200.gz";
  codec::mrt::FileReader reader;
  if (fs::exists(real) && reader.open(real.string())) {
    codec::mrt::FileRecord fr;
    while (reader.next(fr)) {
      auto m = codec::mrt::parse_bgp4mp_message(fr.record);
      if (!m || m->message.size() < 19 || m->message[18] != 2) {
        continue;
      }
      auto peer = std::make_shared<exporters::PeerInfo>();
      peer->peer_address = m->peer.peer_ip;
      peer->local_address = m->peer.local_ip;
      peer->peer_as = m->peer.peer_as;
      peer->local_as = m->peer.local_as;
      Record r;
      r.type = exporters::RecordType::Message;
      r.time_us = std::int64_t{fr.record.header.timestamp} * 1'000'000;
      r.peer = peer;
      r.message = exporters::SharedBytes(m->message);
      r.context = codec::mrt::parse_context_for(fr.record);
      s.prefixes += prefixes_of(m->message, r.context);
      s.records.push_back(std::move(r));
    }
  }
  if (!s.records.empty()) {
    return s;
  }
  auto peer = std::make_shared<exporters::PeerInfo>();
  peer->peer_address = *codec::bgp::IpAddress::parse("198.51.100.1");
  peer->local_address = *codec::bgp::IpAddress::parse("198.51.100.2");
  peer->peer_as = 65001;
  for (std::uint32_t i = 0; i < 10000; ++i) {
    codec::bgp::UpdateMessage u;
    u.attributes.origin(codec::bgp::Origin::Igp);
    for (std::uint32_t k = 0; k < 4; ++k) {
      u.nlri.push_back(
          {codec::bgp::Prefix{codec::bgp::IpAddress::v4((10U << 24) | (i << 8) | k), 32}, 0});
    }
    codec::wire::Writer w;
    (void)u.encode(w);
    Record r;
    r.type = exporters::RecordType::Message;
    r.time_us = 1796357700LL * 1'000'000 + i;
    r.peer = peer;
    r.message = exporters::SharedBytes(w.bytes());
    s.prefixes += 4;
    s.records.push_back(std::move(r));
  }
  return s;
}

const Sample& sample() {
  static const Sample s = load_sample();
  return s;
}

// range(0): 0 none, 1/3/6 gzip level, 9 bzip2.
void bm_mrt_exporter(benchmark::State& state) {
  const auto& s = sample();
  const int mode = static_cast<int>(state.range(0));
  const std::size_t n = mode == 9 ? 100'000 : 400'000;
  std::string tmpl = (fs::temp_directory_path() / "bgpscribe-mrt-bench-XXXXXX").string();
  const fs::path dir = ::mkdtemp(tmpl.data());
  exporters::mrt::Options o;
  o.collector_name = "bench";
  o.directory = dir.string();
  o.updates_interval = 0;
  o.rib_file.clear();
  o.updates_file = mode == 0 ? "u" : mode == 9 ? "u.bz2" : "u.gz";
  o.updates_compression = mode == 0   ? codec::mrt::Compression::None
                          : mode == 9 ? codec::mrt::Compression::Bzip2
                                      : codec::mrt::Compression::Gzip;
  o.gzip_level = mode == 0 || mode == 9 ? 1 : mode;
  std::uint64_t prefixes = 0;
  std::uint64_t bytes = 0;
  std::uint64_t file_bytes = 0;
  for (auto _ : state) {
    exporters::mrt::MrtExporter e("bench", o, [](const std::string&) {});
    e.start();
    const std::int64_t t0 = s.records.front().time_us;
    for (std::size_t i = 0; i < n; ++i) {
      const Record& r = s.records[i % s.records.size()];
      e.accept(r);
      if (i % 100'000 == 99'999) {
        e.flush(t0 + static_cast<std::int64_t>(i));  // one sync flush per 100 k records
      }
    }
    e.stop();
    bytes += e.metrics().bytes_written;
    state.PauseTiming();
    for (const auto& f : fs::directory_iterator(dir)) {
      file_bytes += fs::file_size(f.path());
      fs::remove(f.path());
    }
    state.ResumeTiming();
    prefixes +=
        static_cast<std::uint64_t>(static_cast<double>(s.prefixes) * static_cast<double>(n) /
                                   static_cast<double>(s.records.size()));
  }
  fs::remove_all(dir);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["prefixes/s"] =
      benchmark::Counter(static_cast<double>(prefixes), benchmark::Counter::kIsRate);
  state.counters["MRT_MB/s"] =
      benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
  state.counters["ratio"] = benchmark::Counter(
      bytes > 0 ? static_cast<double>(file_bytes) / static_cast<double>(bytes) : 0.0);
  state.counters["prefixes/record"] =
      benchmark::Counter(static_cast<double>(s.prefixes) / static_cast<double>(s.records.size()));
}
BENCHMARK(bm_mrt_exporter)
    ->Arg(0)
    ->Arg(1)
    ->Arg(3)
    ->Arg(6)
    ->Arg(9)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace
