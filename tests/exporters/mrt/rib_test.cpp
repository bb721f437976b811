// RIB dumps: TABLE_DUMP_V2 from a RibSnapshot, ADD-PATH split (RFC 8050), sequence numbers and
// record size limits, read back with the codec.
#include <gtest/gtest.h>

#include "codec/mrt/table_dump.hpp"
#include "exporters/mrt/rib.hpp"
#include "tests/exporters/mrt/test_util.hpp"

namespace bgpscribe::exporters::mrt::test {
namespace {

using codec::bgp::kIpv4Multicast;
using codec::bgp::kIpv4Unicast;
using codec::bgp::kIpv6Unicast;
using codec::mrt::TableDumpV2Subtype;
using codec::mrt::Type;

std::shared_ptr<TestSnapshot> mixed_snapshot(std::int64_t time_us) {
  auto s = std::make_shared<TestSnapshot>(time_us);
  // 0: IPv4 peer, 4-octet AS, ADD-PATH for IPv4 unicast. 1: IPv6 peer, 2-octet AS, no ADD-PATH.
  // 2: IPv4 peer, ADD-PATH for IPv6 unicast only.
  const auto p0 = s->add_peer(
      make_peer("198.51.100.1", 4200000000U, "198.51.100.2", 64496, 0x0A000001), {kIpv4Unicast});
  const auto p1 = s->add_peer(make_peer("2001:db8::2", 65002, "2001:db8::1", 64496, 0x0A000002));
  const auto p2 = s->add_peer(make_peer("203.0.113.9", 65003, "203.0.113.1", 64496, 0x0A000003),
                              {kIpv6Unicast});
  // 10.0.0.0/8: from an ADD-PATH peer (two paths) and a plain peer -> two records.
  s->add_route(kIpv4Unicast, "10.0.0.0/8", p0, 1, rib_attributes(4200000000U, false));
  s->add_route(kIpv4Unicast, "10.0.0.0/8", p0, 2, rib_attributes(4200000000U, false));
  s->add_route(kIpv4Unicast, "10.0.0.0/8", p1, 0, rib_attributes(65002, false));
  // 192.0.2.0/24: plain peers only.
  s->add_route(kIpv4Unicast, "192.0.2.0/24", p2, 0, rib_attributes(65003, false));
  // IPv6: ADD-PATH peer 2 and plain peer 1.
  s->add_route(kIpv6Unicast, "2001:db8:100::/40", p1, 0, rib_attributes(65002, true));
  s->add_route(kIpv6Unicast, "2001:db8:100::/40", p2, 9, rib_attributes(65003, true));
  s->add_route(kIpv6Unicast, "2001:db8:200::/48", p2, 10, rib_attributes(65003, true));
  // Multicast.
  s->add_route(kIpv4Multicast, "224.0.0.0/4", p1, 0, rib_attributes(65002, false));
  return s;
}

struct RibRecord {
  TableDumpV2Subtype subtype;
  std::uint32_t sequence;
  std::string prefix;
  std::vector<std::pair<std::uint16_t, std::uint32_t>> entries;  // peer index, path id
};

std::vector<RibRecord> rib_records(const ReadResult& got, codec::mrt::PeerIndexTable& table) {
  std::vector<RibRecord> out;
  for (std::size_t i = 0; i < got.records.size(); ++i) {
    const auto view = got.records[i].view();
    EXPECT_EQ(view.header.type, Type::TableDumpV2);
    if (i == 0) {
      auto t = codec::mrt::parse_peer_index_table(view);
      EXPECT_TRUE(t);
      if (t) {
        table = *t;
      }
      continue;
    }
    auto rib = codec::mrt::parse_rib(view);
    EXPECT_TRUE(rib);
    if (!rib) {
      continue;
    }
    RibRecord r{rib->subtype, rib->sequence_number, rib->prefix()->to_string(), {}};
    for (const auto& e : *rib) {
      r.entries.emplace_back(e.peer_index, e.path_id);
    }
    out.push_back(r);
  }
  return out;
}

TEST(MrtRib, SnapshotBecomesTableDumpV2WithAddPathSplit) {
  TempDir dir;
  Harness h("{type: mrt, directory: '" + dir.str() + "', preset: ris}", "rrc99");
  h->start();
  const std::int64_t eight = 1796371200LL * 1'000'000;  // 2026-12-04 08:00:00 UTC
  h->accept(snapshot_record(mixed_snapshot(eight + 2'500'000)));
  h->stop();
  EXPECT_EQ(files_under(dir.path()),
            std::vector<std::string>{"rrc99/2026.12/bview.20261204.0800.gz"});
  const auto got = read_mrt(dir.path() / "rrc99/2026.12/bview.20261204.0800.gz");
  ASSERT_TRUE(got.clean) << got.error;
  codec::mrt::PeerIndexTable table;
  const auto recs = rib_records(got, table);

  EXPECT_EQ(table.view_name, "rrc99");
  EXPECT_EQ(table.collector_bgp_id, 0xC0000201U);  // the first peer's local BGP id
  ASSERT_EQ(table.peers.size(), 3U);
  EXPECT_EQ(table.peers[0].as, 4200000000U);
  EXPECT_TRUE(table.peers[0].is_as4());
  EXPECT_TRUE(table.peers[1].is_ipv6());
  EXPECT_EQ(table.peers[1].ip.to_string(), "2001:db8::2");
  EXPECT_EQ(table.peers[2].bgp_id, 0x0A000003U);

  using E = std::vector<std::pair<std::uint16_t, std::uint32_t>>;
  ASSERT_EQ(recs.size(), 7U);
  EXPECT_EQ(recs[0].subtype, TableDumpV2Subtype::RibIpv4Unicast);
  EXPECT_EQ(recs[0].prefix, "10.0.0.0/8");
  EXPECT_EQ(recs[0].entries, (E{{1, 0}}));
  EXPECT_EQ(recs[1].subtype, TableDumpV2Subtype::RibIpv4UnicastAddpath);
  EXPECT_EQ(recs[1].prefix, "10.0.0.0/8");
  EXPECT_EQ(recs[1].entries, (E{{0, 1}, {0, 2}}));
  EXPECT_EQ(recs[2].subtype, TableDumpV2Subtype::RibIpv4Unicast);
  EXPECT_EQ(recs[2].prefix, "192.0.2.0/24");
  EXPECT_EQ(recs[2].entries, (E{{2, 0}}));
  // Families in the snapshot's order: IPv4 unicast, IPv6 unicast, IPv4 multicast.
  EXPECT_EQ(recs[3].subtype, TableDumpV2Subtype::RibIpv6Unicast);
  EXPECT_EQ(recs[3].entries, (E{{1, 0}}));
  EXPECT_EQ(recs[4].subtype, TableDumpV2Subtype::RibIpv6UnicastAddpath);
  EXPECT_EQ(recs[4].prefix, "2001:db8:100::/40");
  EXPECT_EQ(recs[4].entries, (E{{2, 9}}));
  EXPECT_EQ(recs[5].subtype, TableDumpV2Subtype::RibIpv6UnicastAddpath);
  EXPECT_EQ(recs[5].prefix, "2001:db8:200::/48");
  // Sequence numbers count RIB records from 0.
  for (std::size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].sequence, i);
  }
  // Multicast comes last.
  EXPECT_EQ(recs[6].subtype, TableDumpV2Subtype::RibIpv4Multicast);
  EXPECT_EQ(recs[6].prefix, "224.0.0.0/4");
  ASSERT_EQ(got.records.size(), 8U);
  // Timestamps are the snapshot's seconds; attributes unchanged.
  EXPECT_EQ(got.records[1].header.timestamp, 1796371202U);
  auto first = codec::mrt::parse_rib(got.records[1].view());
  EXPECT_TRUE(codec::mrt::bytes_equal(first->begin()->attributes, rib_attributes(65002, false)));
  EXPECT_EQ(first->begin()->originated_time, 1700000000U);
  EXPECT_EQ(h->metrics().rib_dumps, 1U);
  EXPECT_EQ(h->metrics().rib_records, 7U);
}

TEST(MrtRib, LargePrefixesAreSplitAcrossRecords) {
  TempDir dir;
  Harness h("{type: mrt, directory: '" + dir.str() +
                "', preset: none, updates_file: u, rib_file: 'rib.%H%M.bz2', "
                "collector_bgp_id: 192.0.2.200}",
            "c1");
  h->start();
  auto s = std::make_shared<TestSnapshot>(kT0);
  for (int i = 0; i < 40; ++i) {
    const auto p = s->add_peer(make_peer("198.51.100." + std::to_string(i + 1), 65000 + i));
    // 40 entries of ~4 kB: 160 kB for one prefix.
    s->add_route(kIpv4Unicast, "10.0.0.0/8", p, 0, rib_attributes(65000 + i, false, 4000));
  }
  h->accept(snapshot_record(s));
  h->stop();
  const auto got = read_mrt(dir.path() / "rib.0415.bz2");
  ASSERT_TRUE(got.clean);
  codec::mrt::PeerIndexTable table;
  const auto recs = rib_records(got, table);
  EXPECT_EQ(table.collector_bgp_id, 0xC00002C8U);
  EXPECT_EQ(table.view_name, "c1");
  ASSERT_GE(recs.size(), 3U);
  std::size_t entries = 0;
  std::uint16_t next_peer = 0;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].prefix, "10.0.0.0/8");
    EXPECT_EQ(recs[i].sequence, i);
    EXPECT_LE(got.records[i + 1].bytes.size(), 12U + kMaxRibRecordBody);
    for (const auto& e : recs[i].entries) {
      EXPECT_EQ(e.first, next_peer++);
    }
    entries += recs[i].entries.size();
  }
  EXPECT_EQ(entries, 40U);
}

TEST(MrtRib, OnDemandSnapshotsAndDisabledDumps) {
  TempDir dir;
  {
    // rib_interval 0: no schedule, but snapshots asked for still write a dump.
    Harness h("{type: mrt, directory: '" + dir.str() + "', preset: ris, rib_interval: 0}");
    EXPECT_EQ(h->snapshot_interval(), std::chrono::seconds(0));
    EXPECT_TRUE(h->wants_snapshots());
    h->start();
    h->accept(snapshot_record(mixed_snapshot(kT0 + 60'000'000)));
    h->accept(snapshot_record(mixed_snapshot(kT0 + 70'000'000)));  // same minute: continuation
    h->stop();
  }
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{"rrc99/2026.12/bview.20261204.0416.1.gz",
                                      "rrc99/2026.12/bview.20261204.0416.gz"}));
  TempDir dir2;
  Harness h("{type: mrt, directory: '" + dir2.str() + "', preset: ris, rib_file: ''}");
  EXPECT_FALSE(h->wants_snapshots());
  h->start();
  h->accept(snapshot_record(mixed_snapshot(kT0)));
  h->stop();
  EXPECT_TRUE(files_under(dir2.path()).empty());
  EXPECT_EQ(h->metrics().ignored_records, 1U);
}

TEST(MrtRib, InterruptedDumpIsRecoveredAsIncomplete) {
  TempDir dir;
  // A RIB temporary cut after the PEER_INDEX_TABLE and two RIB records.
  {
    Harness h("{type: mrt, directory: '" + dir.str() +
              "', preset: none, updates_file: u, rib_file: 'rib.%H%M'}");
    h->start();
    h->accept(snapshot_record(mixed_snapshot(kT0)));
    h->stop();
  }
  const auto whole = read_mrt(dir.path() / "rib.0415");
  ASSERT_EQ(whole.records.size(), 8U);
  {
    codec::mrt::FileWriter w;
    codec::mrt::WriterOptions o;
    o.compression = codec::mrt::Compression::Gzip;
    ASSERT_TRUE(w.open((dir.path() / ".rib.0800.gz.partial").string(), o));
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(w.write(whole.records[i].bytes));
    }
    ASSERT_TRUE(w.write(std::span<const std::uint8_t>(whole.records[3].bytes).first(10)));
    ASSERT_TRUE(w.close());
  }
  Harness h("{type: mrt, directory: '" + dir.str() + "', preset: none, updates_file: u}");
  h->start();
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{"rib.0415", "rib.0800.incomplete.gz"}));
  EXPECT_EQ(read_mrt(dir.path() / "rib.0800.incomplete.gz").records.size(), 3U);
  EXPECT_TRUE(h.logged("the RIB dump is incomplete"));
  h->stop();
}

}  // namespace
}  // namespace bgpscribe::exporters::mrt::test
