// The postgres exporter's parts against a real PostgreSQL: the binary COPY encoding (read back
// by the server as text), batch files (round trip, damage detected), the builder's rows (ord,
// `since`, treat-as-withdraw, sessions going down) and the writer (exactly once, the current
// RIB in step with the log, damaged batches set aside). The whole path from BGP sessions to
// SQL is tests/collector/run/postgres_e2e.sh.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <random>
#include <thread>

#include <zlib.h>

#include "codec/bgp/notification.hpp"
#include "codec/bgp/update.hpp"
#include "codec/wire/reader.hpp"
#include "exporters/api/framed_file.hpp"
#include "exporters/postgres/applier.hpp"
#include "exporters/postgres/batch.hpp"
#include "exporters/postgres/copy.hpp"
#include "exporters/postgres/exporter.hpp"
#include "exporters/postgres/partition.hpp"
#include "exporters/postgres/rows.hpp"
#include "exporters/postgres/writer.hpp"
#include "schema/migrations.hpp"
#include "tests/exporters/postgres/test_database.hpp"
#include "tests/support/records.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/wait.hpp"

namespace bgpscribe::exporters::postgres {
namespace {

namespace bgp = codec::bgp;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'796'357'700'000'000;  // 2026-12-04 (µs)

std::string query_one(const std::string& dsn, const std::string& sql) {
  pqxx::connection c(dsn);
  pqxx::nontransaction t(c);
  const auto r = t.exec(sql);
  return r.empty() || r[0][0].is_null() ? "NULL" : r[0][0].c_str();
}

PeerInfoPtr peer(const char* ip, std::uint32_t as, std::uint32_t id = 1) {
  return tests::make_peer(ip, as, "192.0.2.1", 65000, 0x0A000001, id);
}

// A peer at `ip` that BMP router `router` (at `router_ip`) reports: its pre- or post-policy
// Adj-RIB-In, of the global instance or (a distinguisher) of an RD instance.
PeerInfoPtr bmp_peer(const char* router, const char* router_ip, const char* ip, std::uint32_t as,
                     std::uint32_t id, bool post_policy = false, std::uint64_t distinguisher = 0) {
  auto p = std::make_shared<PeerInfo>(*tests::make_peer(ip, as, router_ip, 65000, 0x0A000001, id));
  p->router = router;
  p->router_address = *bgp::IpAddress::parse(router_ip);
  p->bmp_peer_type = distinguisher != 0 ? 1 : 0;
  p->distinguisher = distinguisher;
  p->post_policy = post_policy;
  return p;
}

// An UPDATE announcing `announce` with AS path {as, 15169} and next hop 192.0.2.254 (MED
// `med`), withdrawing `withdraw`.
std::vector<std::uint8_t> update(const std::vector<const char*>& announce,
                                 const std::vector<const char*>& withdraw = {},
                                 std::uint32_t as = 64500, std::uint32_t med = 0) {
  bgp::UpdateMessage m;
  for (const char* p : withdraw) {
    m.withdrawn.push_back({*bgp::Prefix::parse(p), 0});
  }
  for (const char* p : announce) {
    m.nlri.push_back({*bgp::Prefix::parse(p), 0});
  }
  if (!announce.empty()) {
    m.attributes.origin(bgp::Origin::Igp)
        .as_path({{bgp::AsSegmentType::AsSequence, {as, 15169}}})
        .next_hop(0xC00002FE)
        .med(med);
    const std::uint32_t communities[] = {(64500U << 16) | 100U};
    m.attributes.communities(communities);
  }
  codec::wire::Writer w;
  EXPECT_TRUE(m.encode(w));
  return w.take();
}

// Writes `bytes` into the file `path` (a batch file put into the spool by hand).
void write_file(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),  // NOLINT: ostream takes chars
             static_cast<std::streamsize>(bytes.size()));
}

Record message(std::int64_t t, PeerInfoPtr p, const std::vector<std::uint8_t>& bytes) {
  return tests::message_record(t, std::move(p), bytes);
}

Record state(std::int64_t t, PeerInfoPtr p, SessionState from, SessionState to) {
  return tests::state_record(t, std::move(p), from, to, "test");
}

// ---- COPY encoding
// --------------------------------------------------------------------------------

TEST(PostgresCopy, EveryTypeReadsBackAsTheServerPrintsIt) {
  BGPSCRIBE_REQUIRE_PG();
  tests::TestDatabase db("copy_types");
  CopyWriter w;
  w.row(10);
  w.timestamptz(kT0 + 123456);
  w.int4(-7);
  w.int8(4200000000);
  w.cidr(*bgp::Prefix::parse("2001:db8:100::/40"));
  w.inet(*bgp::IpAddress::parse("192.0.2.1"), 32, false);
  w.text("zürich \"q\"");
  const std::uint8_t raw[] = {0, 1, 0xFF};
  w.bytea(raw);
  const std::int64_t path[] = {3356, 4200000000};
  w.int8_array(path);
  const std::string comms[] = {"65000:1", "a,b"};
  w.text_array(comms);
  const bgp::IpAddress ids[] = {*bgp::IpAddress::parse("10.0.0.1"), *bgp::IpAddress::parse("::1")};
  w.inet_array(ids);
  w.row(10);
  for (int i = 0; i < 3; ++i) {
    w.null();
  }
  w.cidr(*bgp::Prefix::parse("10.0.0.0/8"));
  w.null();
  w.text("");
  w.bytea({});
  w.int8_array({});
  w.null();
  w.boolean(true);  // a boolean where the table has inet[]
  auto data = w.finish();
  ASSERT_EQ(w.rows(), 2U);

  PgConnection c;
  c.connect(db.dsn(), 5);
  c.exec("SET TIME ZONE 'UTC'");
  c.exec(
      "CREATE TABLE t (ts timestamptz, i4 integer, i8 bigint, p cidr, a inet, s text, b bytea, "
      "path bigint[], comms text[], ids inet[])");
  // Row 2 carries a bool where inet[] belongs: the server refuses the whole COPY, and says so.
  EXPECT_THROW(c.copy_in("COPY t FROM STDIN (FORMAT binary)", data), PgError);

  CopyWriter ok;
  ok.row(10);
  ok.timestamptz(kT0 + 123456);
  ok.int4(-7);
  ok.int8(4200000000);
  ok.cidr(*bgp::Prefix::parse("2001:db8:100::/40"));
  ok.inet(*bgp::IpAddress::parse("192.0.2.1"), 32, false);
  ok.text("zürich \"q\"");
  ok.bytea(raw);
  ok.int8_array(path);
  ok.text_array(comms);
  ok.inet_array(ids);
  ok.row(10);
  for (int i = 0; i < 3; ++i) {
    ok.null();
  }
  ok.cidr(*bgp::Prefix::parse("10.0.0.0/8"));
  ok.null();
  ok.text("");
  ok.bytea({});
  ok.int8_array({});
  ok.null();
  ok.inet_array({});
  EXPECT_EQ(c.copy_in("COPY t FROM STDIN (FORMAT binary)", ok.finish()), 2U);
  const auto r = c.exec(
      "SELECT ts::text, i4, i8, p::text, a, s, encode(b, 'hex'), path::text, comms::text, "
      "ids::text FROM t ORDER BY i4 NULLS LAST");
  ASSERT_EQ(r.rows(), 2);
  EXPECT_EQ(r.get(0, 0), "2026-12-04 04:15:00.123456+00");
  EXPECT_EQ(r.get(0, 1), "-7");
  EXPECT_EQ(r.get(0, 2), "4200000000");
  EXPECT_EQ(r.get(0, 3), "2001:db8:100::/40");
  EXPECT_EQ(r.get(0, 4), "192.0.2.1");
  EXPECT_EQ(r.get(0, 5), "zürich \"q\"");
  EXPECT_EQ(r.get(0, 6), "0001ff");
  EXPECT_EQ(r.get(0, 7), "{3356,4200000000}");
  EXPECT_EQ(r.get(0, 8), "{65000:1,\"a,b\"}");
  EXPECT_EQ(r.get(0, 9), "{10.0.0.1,::1}");
  EXPECT_TRUE(r.is_null(1, 0));
  EXPECT_EQ(r.get(1, 3), "10.0.0.0/8");
  EXPECT_EQ(r.get(1, 5), "");
  EXPECT_EQ(r.get(1, 6), "");
  EXPECT_EQ(r.get(1, 7), "{}");
  EXPECT_EQ(r.get(1, 9), "{}");
}

// ---- Batches
// --------------------------------------------------------------------------------------

// The peers, events and session downs of a batch file of versions 1 to 6: no BMP source of a
// peer; a session down's graceful restart fields from version 5.
void legacy_sessions(codec::wire::Writer& w, const Batch& b, int version) {
  const auto bytes = [&](std::span<const std::uint8_t> v) {
    w.u64(v.size());
    w.bytes(v);
  };
  const auto str = [&](const std::string& v) {
    bytes({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()});  // NOLINT
  };
  const auto strs = [&](const std::vector<std::string>& v) {
    w.u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& x : v) {
      str(x);
    }
  };
  const auto address = [&](const bgp::IpAddress& a) {
    w.u8(a.is_v4() ? 4 : 6);
    w.bytes(a.bytes);
  };
  w.u32(static_cast<std::uint32_t>(b.peers.size()));
  for (const auto& p : b.peers) {
    address(p.address);
    w.u32(p.asn);
    str(p.name);
    w.u32(p.bgp_id);
    address(p.local_address);
    w.u32(p.local_as);
    w.u32(p.local_bgp_id);
    w.u64(static_cast<std::uint64_t>(p.first_us));
    w.u64(static_cast<std::uint64_t>(p.last_us));
    w.u8(p.has_session ? 1 : 0);
    strs(p.capabilities_sent);
    strs(p.capabilities_received);
    bytes(p.open_sent);
    bytes(p.open_received);
  }
  w.u32(static_cast<std::uint32_t>(b.events.size()));
  for (const auto& e : b.events) {
    w.u64(static_cast<std::uint64_t>(e.time_us));
    w.u32(e.peer);
    str(e.old_state);
    str(e.new_state);
    str(e.reason);
    w.u8(e.has_notification ? 1 : 0);
    w.u8(e.code);
    w.u8(e.subcode);
    str(e.notification_text);
    bytes(e.notification_data);
    str(e.sent_by);
  }
  w.u32(static_cast<std::uint32_t>(b.downs.size()));
  for (const auto& d : b.downs) {
    w.u64(static_cast<std::uint64_t>(d.time_us));
    w.u32(d.peer);
    w.u32(static_cast<std::uint32_t>(d.ord));
    if (version >= 5) {
      w.u8(d.stale_end ? 1 : 0);
      w.u8(d.stale_afis);
      w.u64(static_cast<std::uint64_t>(d.stale_since_us));
    }
  }
}

// A batch file as bgpscribe wrote it before version 6 (versions 1 to 5), byte for byte: the
// magic "BGPSPGB<version>", big-endian integers, strings and byte strings after a u64 length,
// and a CRC-32 (zlib) of everything before it. Version 2 added the parts, version 4 the journal
// number, version 5 a session down's graceful restart fields.
std::vector<std::uint8_t> legacy_batch_file(const Batch& b, int version) {
  codec::wire::Writer w;
  const auto bytes = [&](std::span<const std::uint8_t> v) {
    w.u64(v.size());
    w.bytes(v);
  };
  for (const char c : std::string("BGPSPGB")) {
    w.u8(static_cast<std::uint8_t>(c));
  }
  w.u8(static_cast<std::uint8_t>('0' + version));
  w.u64(b.sequence);
  w.u64(static_cast<std::uint64_t>(b.first_us));
  w.u64(static_cast<std::uint64_t>(b.last_us));
  w.u64(static_cast<std::uint64_t>(b.checkpoint_us));
  w.u64(static_cast<std::uint64_t>(b.restart_us));
  if (version >= 4) {
    w.u64(b.last_seq);
  }
  if (version >= 2) {
    w.u32(b.parts);
  }
  w.u64(b.update_rows);
  w.u64(b.rib_rows);
  w.u64(b.attr_rows);
  legacy_sessions(w, b, version);
  bytes(b.attrs);
  bytes(b.updates);
  bytes(b.rib);
  auto file = w.take();
  const auto crc =
      static_cast<std::uint32_t>(::crc32(0L, file.data(), static_cast<uInt>(file.size())));
  for (int shift = 24; shift >= 0; shift -= 8) {
    file.push_back(static_cast<std::uint8_t>(crc >> shift));
  }
  return file;
}

// A batch file of version 6 as the bgpscribe before version 7 wrote it, byte for byte (framed,
// as now): the peers without their BMP source.
std::vector<std::uint8_t> version6_batch_file(const Batch& b) {
  const auto file = b.serialize();
  FramedReader reader(file, FramedKind{"PGBT", 7, 6});
  std::vector<std::vector<std::uint8_t>> entries;
  while (auto e = reader.next()) {
    entries.emplace_back(e->payload.begin(), e->payload.end());
  }
  EXPECT_EQ(entries.size(), 5U);
  codec::wire::Writer sessions;
  legacy_sessions(sessions, b, 6);
  entries.at(1) = sessions.take();
  codec::wire::Writer w;
  put_framed_header(w, FramedKind{"PGBT", 6, 6});
  for (const auto& e : entries) {
    put_framed_entry(w, e);
  }
  return w.take();
}

// A batch with a peer, a session down kept stale by a graceful restart, and rows.
Batch sample_batch() {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  EXPECT_FALSE(b.add(message(kT0, p, update({"10.0.0.0/8", "10.1.0.0/16"}))));
  EXPECT_FALSE(b.add(message(kT0 + 5, p, update({}, {"10.1.0.0/16"}))));
  Record down = state(kT0 + 6, p, SessionState::Established, SessionState::Idle);
  EXPECT_FALSE(b.add(down));
  down.type = RecordType::PeerDown;
  down.stale_families = family_bit(bgp::kIpv4Unicast);
  EXPECT_TRUE(b.add(down));
  Batch batch = b.seal(7);
  batch.last_seq = 77;
  batch.parts = 2;
  return batch;
}

// The offsets of a framed file's entries.
std::vector<std::uint64_t> entry_offsets(std::span<const std::uint8_t> file) {
  std::vector<std::uint64_t> at;
  FramedReader r(file, FramedKind{"PGBT", 7, 6});
  while (auto e = r.next()) {
    at.push_back(e->offset);
  }
  return at;
}

TEST(PostgresBatch, FileRoundTripAndDamage) {
  const Batch batch = sample_batch();
  EXPECT_EQ(batch.update_rows, 3U);
  EXPECT_EQ(batch.rib_rows, 2U);
  EXPECT_EQ(batch.attr_rows, 1U);
  const auto file = batch.serialize();
  // Version 6 (no peer from a BMP router): the framed header of kind PGBT, then five entries.
  const std::vector<std::uint8_t> header(file.begin(), file.begin() + 12);
  EXPECT_EQ(header,
            (std::vector<std::uint8_t>{'B', 'G', 'P', 'S', 'P', 'G', 'B', 'T', 0, 6, 0, 0}));
  const auto offsets = entry_offsets(file);
  ASSERT_EQ(offsets.size(), 5U);
  std::string error;
  auto back = Batch::parse(file, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->sequence, 7U);
  EXPECT_EQ(back->first_us, kT0);
  EXPECT_EQ(back->last_us, kT0 + 6);
  EXPECT_EQ(back->last_seq, 77U);
  EXPECT_EQ(back->parts, 2U);
  ASSERT_EQ(back->peers.size(), 1U);
  EXPECT_EQ(back->peers[0].asn, 64500U);
  ASSERT_EQ(back->downs.size(), 1U);
  EXPECT_EQ(back->downs[0].stale_afis, kStaleIpv4);
  EXPECT_EQ(back->updates, batch.updates);
  EXPECT_EQ(back->rib, batch.rib);
  EXPECT_EQ(back->serialize(), file);
  EXPECT_EQ(Batch::last_seq_of(std::span(file).first(Batch::kHeaderBytes)), 77U);

  // A flipped bit in an entry: refused, naming the entry's offset.
  for (std::size_t e = 0; e < offsets.size(); ++e) {
    auto damaged = file;
    damaged[offsets[e] + 9] ^= 0x40;
    EXPECT_FALSE(Batch::parse(damaged, error)) << e;
    EXPECT_NE(error.find("entry at offset " + std::to_string(offsets[e])), std::string::npos)
        << error;
    EXPECT_NE(error.find("CRC-32C mismatch"), std::string::npos) << error;
  }
  for (const std::size_t at : {std::size_t{3}, std::size_t{9}, file.size() - 1}) {
    auto damaged = file;
    damaged[at] ^= 0x40;
    EXPECT_FALSE(Batch::parse(damaged, error));
    EXPECT_FALSE(error.empty());
  }
  // Cut anywhere: refused (a file is renamed into place whole; a short one is damage).
  for (std::size_t n = 0; n < file.size(); n += n < 200 ? 1 : 97) {
    EXPECT_FALSE(Batch::parse(std::span(file).first(n), error)) << n;
    EXPECT_FALSE(error.empty()) << n;
  }
  EXPECT_FALSE(Batch::parse(std::span(file).first(file.size() - 9), error));
  EXPECT_NE(error.find("cut short"), std::string::npos) << error;
  // An entry more, whole and checked: not a file this version writes.
  codec::wire::Writer more;
  more.bytes(file);
  put_framed_entry(more, std::vector<std::uint8_t>{1});
  EXPECT_FALSE(Batch::parse(more.bytes(), error));
  EXPECT_NE(error.find("more than 5 entries"), std::string::npos) << error;
}

TEST(PostgresBatch, AFileOfANewerVersionIsRefusedAndSaysSo) {
  const auto file = sample_batch().serialize();
  codec::wire::Writer w;
  put_framed_header(w, FramedKind{"PGBT", 8, 8});
  w.bytes(std::span(file).subspan(kFramedHeaderBytes));
  std::string error;
  EXPECT_FALSE(Batch::parse(w.bytes(), error));
  EXPECT_EQ(error,
            "format version 8 of the bgpscribe \"PGBT\" file was written by a newer bgpscribe: "
            "this one reads versions 6 to 7");
  std::vector<std::uint8_t> other(file);
  other[0] = 'X';
  EXPECT_FALSE(Batch::parse(other, error));
  EXPECT_NE(error.find("bad magic"), std::string::npos) << error;
}

TEST(PostgresBatch, FilesOfVersionsOneToFiveAreStillRead) {
  const Batch batch = sample_batch();
  for (int version = 1; version <= 5; ++version) {
    SCOPED_TRACE(version);
    const auto file = legacy_batch_file(batch, version);
    std::string error;
    auto back = Batch::parse(file, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->sequence, 7U);
    EXPECT_EQ(back->first_us, batch.first_us);
    EXPECT_EQ(back->last_us, batch.last_us);
    EXPECT_EQ(back->parts, version == 1 ? 1U : 2U);
    EXPECT_EQ(back->split, version == 2 ? PartSplit::Xxh3 : PartSplit::PartitionHash);
    EXPECT_EQ(back->last_seq, version >= 4 ? 77U : 0U);
    EXPECT_EQ(Batch::last_seq_of(std::span(file).first(Batch::kHeaderBytes)),
              version >= 4 ? 77U : 0U);
    ASSERT_EQ(back->peers.size(), 1U);
    EXPECT_EQ(back->peers[0].address, batch.peers[0].address);
    ASSERT_EQ(back->events.size(), batch.events.size());
    ASSERT_EQ(back->downs.size(), 1U);
    EXPECT_EQ(back->downs[0].stale_afis, version >= 5 ? kStaleIpv4 : 0);
    EXPECT_EQ(back->attrs, batch.attrs);
    EXPECT_EQ(back->updates, batch.updates);
    EXPECT_EQ(back->rib, batch.rib);
    // Damage is still found by their CRC-32.
    auto damaged = file;
    damaged[file.size() / 2] ^= 1;
    EXPECT_FALSE(Batch::parse(damaged, error));
    EXPECT_NE(error.find("CRC-32 mismatch"), std::string::npos) << error;
    // Written again, it is version 6 and reads back the same (a version 2 batch keeps its
    // XXH3 split: a retry splits it as the first try did).
    const auto again = back->serialize();
    EXPECT_EQ(again[7], 'T');
    auto rewritten = Batch::parse(again, error);
    ASSERT_TRUE(rewritten) << error;
    EXPECT_EQ(rewritten->split, back->split);
    EXPECT_EQ(rewritten->parts, back->parts);
    EXPECT_EQ(rewritten->serialize(), again);
  }
}

// A batch of the collector's own sessions only is still written as version 6, byte for byte as
// the bgpscribe before version 7 wrote it (so that one still reads it); read back, its peers
// are own sessions.
TEST(PostgresBatch, OwnSessionsAreWrittenAsVersionSixAsBefore) {
  const Batch batch = sample_batch();
  const auto file = version6_batch_file(batch);
  EXPECT_EQ(file[9], 6);  // the framed header's version
  EXPECT_EQ(batch.serialize(), file);
  std::string error;
  auto back = Batch::parse(file, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->sequence, 7U);
  EXPECT_EQ(back->last_seq, 77U);
  EXPECT_EQ(Batch::last_seq_of(std::span(file).first(Batch::kHeaderBytes)), 77U);
  ASSERT_EQ(back->peers.size(), 1U);
  EXPECT_EQ(back->peers[0].address, batch.peers[0].address);
  EXPECT_EQ(back->peers[0].open_received, batch.peers[0].open_received);
  EXPECT_FALSE(back->peers[0].from_bmp());
  ASSERT_EQ(back->downs.size(), 1U);
  EXPECT_EQ(back->downs[0].stale_afis, kStaleIpv4);
  EXPECT_EQ(back->updates, batch.updates);
  EXPECT_EQ(back->rib, batch.rib);
}

TEST(PostgresBatch, PartsOutsideTheirRangeAreRefused) {
  Batch batch = sample_batch();
  batch.parts = kMaxParts + 1;
  std::string error;
  EXPECT_FALSE(Batch::parse(batch.serialize(), error));
  EXPECT_NE(error.find("parts"), std::string::npos) << error;
  EXPECT_FALSE(Batch::parse(legacy_batch_file(batch, 5), error));
  EXPECT_NE(error.find("parts"), std::string::npos) << error;
}

// ---- PostgreSQL's hash partitioning ----------------------------------------------------------

// The cidr of `p` as its binary COPY value (what the writer splits batches by).
std::vector<std::uint8_t> cidr_value(const bgp::Prefix& p) {
  const auto bytes = p.address.span();
  std::vector<std::uint8_t> v = {
      static_cast<std::uint8_t>(p.address.is_v4() ? kPgAfInet : kPgAfInet6), p.length, 1,
      static_cast<std::uint8_t>(bytes.size())};
  v.insert(v.end(), bytes.begin(), bytes.end());
  return v;
}

TEST(PostgresPartition, TheHashIsTheServersForEveryPrefixLength) {
  BGPSCRIBE_REQUIRE_PG();
  tests::TestDatabase db("partition_hash");
  // Every length of both families, random addresses (fixed seed: a failure repeats).
  std::mt19937_64 random(20261204);
  std::vector<bgp::Prefix> prefixes;
  for (int round = 0; round < 12; ++round) {
    for (int length = 0; length <= 128; ++length) {
      const bool v4 = length <= 32 && round % 2 == 0;
      bgp::IpAddress address;
      if (v4) {
        address = bgp::IpAddress::v4(length == 0 ? 0
                                                 : static_cast<std::uint32_t>(random()) &
                                                       ~((1ULL << (32 - length)) - 1));
      } else {
        std::array<std::uint8_t, 16> a{};
        for (auto& o : a) {
          o = static_cast<std::uint8_t>(random());
        }
        for (int bit = length; bit < 128; ++bit) {
          a[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
        }
        address = bgp::IpAddress::v6(a);
      }
      const std::string text = address.to_string() + "/" + std::to_string(length);
      prefixes.push_back(*bgp::Prefix::parse(text));
    }
  }
  pqxx::connection c(db.dsn());
  pqxx::work t(c);
  t.exec0(
      "CREATE TABLE h (i integer, p cidr) PARTITION BY HASH (p);"
      "CREATE TABLE h0 PARTITION OF h FOR VALUES WITH (MODULUS 4, REMAINDER 0);"
      "CREATE TABLE h1 PARTITION OF h FOR VALUES WITH (MODULUS 4, REMAINDER 1);"
      "CREATE TABLE h2 PARTITION OF h FOR VALUES WITH (MODULUS 4, REMAINDER 2);"
      "CREATE TABLE h3 PARTITION OF h FOR VALUES WITH (MODULUS 4, REMAINDER 3)");
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    t.exec_params0("INSERT INTO h VALUES ($1, $2)", static_cast<int>(i), prefixes[i].to_string());
  }
  // hashinetextended with the partitioning seed (0x7A5B22367996DCFD), and where each row went.
  const pqxx::result rows = t.exec(
      "SELECT i, hashinetextended(p, 8816678312871386365), right(tableoid::regclass::text, 1) "
      "FROM h ORDER BY i");
  ASSERT_EQ(rows.size(), prefixes.size());
  for (const auto& row : rows) {
    const auto& p = prefixes[row[0].as<std::size_t>()];
    const auto h = cidr_partition_hash(cidr_value(p));
    ASSERT_TRUE(h) << p.to_string();
    EXPECT_EQ(static_cast<std::int64_t>(*h - 0x49a0f4dd15e5a8e3ULL), row[1].as<std::int64_t>())
        << p.to_string();
    EXPECT_EQ(*h % 4, row[2].as<std::uint64_t>()) << p.to_string();
  }
  // The writer refuses what is no cidr instead of guessing a part.
  EXPECT_FALSE(cidr_partition_hash(std::vector<std::uint8_t>{4, 8, 1, 4, 10, 0, 0, 0}));
  EXPECT_FALSE(cidr_partition_hash(std::vector<std::uint8_t>{2, 8, 1, 16, 10, 0, 0, 0}));
  EXPECT_FALSE(cidr_partition_hash(std::vector<std::uint8_t>{2, 8, 1}));
}

TEST(PostgresBatch, MessagesOfOneReadShareTheTimeAndCountOrd) {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500, 1);
  auto q = peer("192.0.2.11", 64501, 2);
  b.add(message(kT0, p, update({"10.0.0.0/8"})));
  b.add(message(kT0, p, update({}, {"10.0.0.0/8"})));
  b.add(message(kT0, q, update({"10.0.0.0/8"})));
  b.add(message(kT0 + 1, p, update({"10.0.0.0/8"})));
  Batch batch = b.seal(1);
  // The ord field (third) of each row, in order.
  CopyTuples t(batch.updates);
  std::vector<std::pair<std::size_t, std::int32_t>> f;
  std::vector<int> ords;
  while (t.next(f)) {
    ords.push_back(static_cast<int>(codec::wire::load_u32(batch.updates, f[2].first)));
  }
  EXPECT_EQ(ords, (std::vector<int>{0, 1, 0, 0}));
}

TEST(PostgresBatch, TheSessionsDecisionsOnAnExternalPathHoldInSql) {
  // The collector's RIB withdraws an external peer's routes with confederation segments in
  // the AS_PATH (RFC 5065, RFC 7606 7.2): so must bgp.rib, from the record's context alone.
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  bgp::UpdateMessage m;
  m.nlri.push_back({*bgp::Prefix::parse("10.0.0.0/8"), 0});
  m.attributes.origin(bgp::Origin::Igp)
      .as_path({{bgp::AsSegmentType::AsConfedSequence, {64512}},
                {bgp::AsSegmentType::AsSequence, {64500}}})
      .next_hop(0xC00002FE);
  codec::wire::Writer w;
  ASSERT_TRUE(m.encode(w));
  Record r = message(kT0, p, w.take());
  r.context.ebgp = true;
  b.add(r);
  EXPECT_EQ(b.stats().treat_as_withdraw, 1U);
  EXPECT_EQ(b.stats().withdrawn, 1U);
  EXPECT_EQ(b.stats().announced, 0U);
  r.context.ebgp = false;  // the same message from an internal peer is a route
  r.context.ibgp = true;
  b.add(r);
  EXPECT_EQ(b.stats().announced, 1U);
}

TEST(PostgresBatch, SessionDownSealsWithItsNotification) {
  BatchBuilder b;
  auto pre = peer("192.0.2.10", 0);  // before the OPEN: AS unknown
  auto p = peer("192.0.2.10", 64500);
  EXPECT_FALSE(b.add(state(kT0, pre, SessionState::Active, SessionState::OpenSent)));
  EXPECT_FALSE(b.add(message(kT0 + 1, p, update({"10.0.0.0/8"}))));
  EXPECT_FALSE(b.add(state(kT0 + 2, p, SessionState::Established, SessionState::Idle)));
  EXPECT_TRUE(b.pending());
  Record down;
  down.type = RecordType::PeerDown;
  down.time_us = kT0 + 2;
  down.peer = p;
  codec::wire::Writer w;
  ASSERT_TRUE(bgp::encode_notification({6, 2, {3, 'b', 'y', 'e'}}, w));
  down.message = SharedBytes(w.bytes());
  EXPECT_TRUE(b.add(down));
  EXPECT_FALSE(b.pending());
  Batch batch = b.seal(1);
  ASSERT_EQ(batch.events.size(), 2U);
  EXPECT_EQ(batch.events[1].old_state, "Established");
  EXPECT_TRUE(batch.events[1].has_notification);
  EXPECT_EQ(batch.events[1].code, 6);
  EXPECT_EQ(batch.events[1].sent_by, "peer");
  EXPECT_EQ(batch.events[1].notification_text, "Cease / Administrative Shutdown");
  ASSERT_EQ(batch.downs.size(), 1U);
  EXPECT_EQ(batch.downs[0].time_us, kT0 + 2);
  // The transition before the OPEN belongs to the peer the OPEN named.
  ASSERT_EQ(batch.peers.size(), 2U);
  EXPECT_EQ(batch.peers[0].asn, 64500U);
}

// Records read back from the collector's disk spool carry a PeerInfo object each; the batch
// must come out as it does from the live records that share one (issue 14: a batch that made a
// peer of each copy held two RIB rows for one key, and its upsert failed for good).
std::vector<Record> churn(const std::function<PeerInfoPtr(int)>& who) {
  std::vector<Record> out;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 40; ++i) {
      const std::string prefix = "10." + std::to_string(i) + ".0.0/16";
      const std::int64_t t = kT0 + std::int64_t{round * 40 + i} * 1000;
      const int peer = i % 2;
      if (round == 1 && i % 5 == 0) {
        out.push_back(message(t, who(peer), update({}, {prefix.c_str()})));
      } else {
        out.push_back(message(t, who(peer),
                              update({prefix.c_str()}, {}, peer == 0 ? 64500 : 64501,
                                     static_cast<std::uint32_t>(round))));
      }
    }
  }
  return out;
}

PeerInfoPtr churn_peer(int which) {
  return which == 0 ? peer("192.0.2.10", 64500, 1) : peer("2001:db8::11", 64501, 2);
}

TEST(PostgresBatch, PeerInfoCopiesOfOnePeerMakeTheSameBatchAsOneSharedObject) {
  const PeerInfoPtr shared[] = {churn_peer(0), churn_peer(1)};
  BatchBuilder live;
  for (const auto& r : churn([&](int i) { return shared[i]; })) {
    live.add(r);
  }
  BatchBuilder spooled;
  for (const auto& r : churn(churn_peer)) {  // a fresh PeerInfo per record
    spooled.add(r);
  }
  const Batch a = live.seal(1);
  const Batch b = spooled.seal(1);
  ASSERT_EQ(a.peers.size(), 2U);
  ASSERT_EQ(b.peers.size(), 2U);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(b.peers[i].address, a.peers[i].address);
    EXPECT_EQ(b.peers[i].asn, a.peers[i].asn);
    EXPECT_EQ(b.peers[i].first_us, a.peers[i].first_us);
    EXPECT_EQ(b.peers[i].last_us, a.peers[i].last_us);
  }
  EXPECT_EQ(b.update_rows, a.update_rows);
  EXPECT_EQ(b.updates, a.updates);
  EXPECT_EQ(b.rib, a.rib);
  EXPECT_EQ(b.attrs, a.attrs);
  // One RIB row per (peer, prefix): 40 prefixes.
  auto rib = b.rib;
  CopyTuples rows(rib);
  std::vector<std::pair<std::size_t, std::int32_t>> f;
  int n = 0;
  while (rows.next(f)) {
    ++n;
  }
  EXPECT_EQ(n, 40);
}

TEST(PostgresBatch, ALaterPeerInfoOfThePeerFillsInWhatTheFirstDidNotKnow) {
  BatchBuilder b;
  auto before = peer("192.0.2.10", 64500);
  auto copy = std::make_shared<PeerInfo>(*before);
  copy->local_address = {};
  copy->peer_bgp_id = 0;
  auto after = std::make_shared<PeerInfo>(*before);
  after->peer_bgp_id = 0x0A000009;
  b.add(message(kT0, copy, update({"10.0.0.0/8"})));
  b.add(message(kT0 + 1, after, update({"10.1.0.0/16"})));
  const Batch batch = b.seal(1);
  ASSERT_EQ(batch.peers.size(), 1U);
  EXPECT_EQ(batch.peers[0].bgp_id, 0x0A000009U);
  EXPECT_EQ(batch.peers[0].local_address, before->local_address);
  EXPECT_EQ(batch.peers[0].first_us, kT0);
  EXPECT_EQ(batch.peers[0].last_us, kT0 + 1);
}

// The peers that BMP routers report: one neighbour (address and AS) seen directly, through two
// routers, pre- and post-policy, and in a VRF is five peers with a RIB row each; records read
// back from the spool (a PeerInfo per record) make no more; the file keeps every source.
TEST(PostgresBatch, BmpSourcesOfOneNeighbourArePeersOfTheirOwn) {
  constexpr std::uint64_t kRd = (std::uint64_t{65000} << 32) | 100;  // RD 65000:100, type 0
  // A fresh PeerInfo per call, as records read back from the spool carry.
  const auto sources = [] {
    return std::vector<PeerInfoPtr>{
        peer("192.0.2.10", 64500, 1), bmp_peer("r1", "198.51.100.1", "192.0.2.10", 64500, 2),
        bmp_peer("r1", "198.51.100.1", "192.0.2.10", 64500, 3, true),
        bmp_peer("r2", "198.51.100.2", "192.0.2.10", 64500, 4),
        bmp_peer("r1", "198.51.100.1", "192.0.2.10", 64500, 5, false, kRd)};
  };
  BatchBuilder b;
  for (int copy = 0; copy < 2; ++copy) {
    const auto all = sources();
    for (std::size_t i = 0; i < all.size(); ++i) {
      b.add(message(kT0 + copy, all[i],
                    update({"10.0.0.0/8"}, {}, 64500, static_cast<std::uint32_t>(i))));
    }
  }
  // Transitions before the OPEN (AS 0) belong to a peer of the same source only: r1's
  // pre-policy peer has the AS in the batch, r2's post-policy peer does not.
  b.add(state(kT0 + 2, bmp_peer("r1", "198.51.100.1", "192.0.2.10", 0, 2), SessionState::Idle,
              SessionState::Active));
  b.add(state(kT0 + 2, bmp_peer("r2", "198.51.100.2", "192.0.2.10", 0, 6, true), SessionState::Idle,
              SessionState::Active));
  const Batch batch = b.seal(1);
  ASSERT_EQ(batch.peers.size(), 7U);
  EXPECT_EQ(batch.rib_rows, 5U);
  EXPECT_EQ(batch.update_rows, 10U);
  const auto describe = [](const BatchPeer& p) {
    return p.router + " " + p.router_address.to_string() + " " + std::to_string(p.bmp_peer_type) +
           " " + std::to_string(p.distinguisher) + " " + (p.post_policy ? "post" : "pre") + " " +
           p.address.to_string() + " " + std::to_string(p.asn);
  };
  EXPECT_EQ(describe(batch.peers[0]), " 0.0.0.0 0 0 pre 192.0.2.10 64500");
  EXPECT_FALSE(batch.peers[0].from_bmp());
  EXPECT_EQ(describe(batch.peers[1]), "r1 198.51.100.1 0 0 pre 192.0.2.10 64500");
  EXPECT_EQ(describe(batch.peers[2]), "r1 198.51.100.1 0 0 post 192.0.2.10 64500");
  EXPECT_EQ(describe(batch.peers[3]), "r2 198.51.100.2 0 0 pre 192.0.2.10 64500");
  EXPECT_EQ(describe(batch.peers[4]),
            "r1 198.51.100.1 1 " + std::to_string(kRd) + " pre 192.0.2.10 64500");
  EXPECT_EQ(describe(batch.peers[5]), "r1 198.51.100.1 0 0 pre 192.0.2.10 64500");
  EXPECT_EQ(describe(batch.peers[6]), "r2 198.51.100.2 0 0 post 192.0.2.10 0");

  const auto file = batch.serialize();
  EXPECT_EQ(file[9], 7);  // the framed header's version: the peers carry their source
  std::string error;
  auto back = Batch::parse(file, error);
  ASSERT_TRUE(back) << error;
  ASSERT_EQ(back->peers.size(), batch.peers.size());
  for (std::size_t i = 0; i < batch.peers.size(); ++i) {
    EXPECT_EQ(describe(back->peers[i]), describe(batch.peers[i])) << i;
  }
  EXPECT_EQ(back->serialize(), file);

  // A peer with BMP fields but no router is no source bgp.peers takes: refused as damage.
  Batch odd = batch;
  odd.peers[0].post_policy = true;
  EXPECT_FALSE(Batch::parse(odd.serialize(), error));
  EXPECT_EQ(error, "peer 0 has BMP fields but no router");
}

TEST(PostgresExporter, AFullSpoolStopsWaitingWhenTheCollectorStops) {
  // No server (a socket that does not exist) and a spool limit the start batch already fills:
  // the next sealed batch waits for the database, until interrupt() says the collector stops.
  const tests::TempDir tmp("bgpscribe-pg-test");
  const fs::path& dir = tmp.path();
  Options o;
  o.writer.dsn = "host=" + (dir / "no-socket").string() + " dbname=x";
  o.writer.collector_name = "test";
  o.writer.connect_timeout_s = 1;
  o.spool_directory = (dir / "spool").string();
  o.spool_limit = 1;
  o.batch_rows = 1;
  o.drain_timeout_s = 0;
  PostgresExporter e("sql", o);
  e.start();
  Record start;  // the collector's start: the restart batch fills the spool
  start.type = RecordType::Start;
  start.time_us = kT0;
  e.accept(start);
  auto p = peer("192.0.2.10", 64500);
  auto blocked =
      std::async(std::launch::async, [&] { e.accept(message(kT0, p, update({"10.0.0.0/8"}))); });
  EXPECT_EQ(blocked.wait_for(500ms), std::future_status::timeout);
  e.interrupt();
  ASSERT_EQ(blocked.wait_for(5s), std::future_status::ready);
  // Later records do not wait either, and nothing is lost: every batch is in the spool.
  e.accept(message(kT0 + 1, p, update({"10.1.0.0/16"})));
  e.stop();
  EXPECT_EQ(BatchSpool(o.spool_directory).list().size(), 3U);
}

TEST(PostgresExporter, AnIdleWriterGetsABatchBeforeItIsFull) {
  BGPSCRIBE_REQUIRE_PG();
  tests::TestDatabase db("eager_batch");
  const tests::TempDir tmp("bgpscribe-pg-test");
  const fs::path& dir = tmp.path();
  Options o;
  o.writer.dsn = db.dsn();
  o.writer.collector_name = "test";
  o.spool_directory = (dir / "spool").string();
  o.batch_rows = 1'000'000;           // never full here
  o.batch_interval_us = 600'000'000;  // and never old: flush() is not even called
  PostgresExporter e("sql", o);
  e.start();
  const auto spooled = [&] { return BatchSpool(o.spool_directory).list().size(); };
  tests::wait_until([&] { return spooled() == 0; }, 5s, 20ms);  // the start batch
  ASSERT_EQ(spooled(), 0U);
  // The writer is idle: the batch is sealed at kEagerBatchRows rows. The rows after it wait (too
  // few to seal early, and the writer was busy while they came).
  auto p = peer("192.0.2.10", 64500);
  const int routes = static_cast<int>(kEagerBatchRows) + 500;
  for (int i = 0; i < routes; ++i) {
    const std::string prefix =
        "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".0/24";
    e.accept(message(kT0 + i, p, update({prefix.c_str()})));
  }
  // accept() wrote the sealed batch into the spool before returning; its file goes once every
  // part has committed (reading the count earlier may see one part without the other).
  tests::wait_until([&] { return spooled() == 0; }, 5s, 20ms);
  ASSERT_EQ(spooled(), 0U);
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.updates"),
            std::to_string(kEagerBatchRows));
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.rib"), std::to_string(kEagerBatchRows));
  e.stop();  // seals and applies the rest
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.updates"), std::to_string(routes));
}

// ---- Applier (the SQL, no threads)
// ---------------------------------------------------------------------------------------

TEST(Applier, EachPartAndEachWholeBatchCommitsOnceAndIsFoundDoneTheSecondTime) {
  BGPSCRIBE_REQUIRE_PG();
  tests::TestDatabase db("applier_once");
  schema::migrate(db.dsn());
  ApplyConnection c;
  c.db.connect(db.dsn(), 5);
  Applier::prepare(c.db);
  Applier applier("test", 7, 0);
  applier.start(c.db);

  // Batch 1 in two parts, as the writer's lanes apply it, but here one after the other.
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  b.add(message(kT0, p, update({"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"})));
  Batch first = b.seal(1);
  first.parts = 2;
  EXPECT_EQ(applier.progress(c.db, 2), (std::vector<std::uint64_t>{0, 0}));
  applier.ensure_partitions(c.db, first.first_us, first.last_us);
  EXPECT_TRUE(applier.partitions_covered(first.first_us, first.last_us));
  const std::vector<std::int32_t> ids = applier.upsert_peers(c.db, first);
  ASSERT_EQ(ids.size(), 1U);
  applier.upsert_attrs(c.db, first);
  auto updates = split_rows(first.updates, 1, ids, 3, 2, first.split);
  auto rib = split_rows(first.rib, 0, ids, 1, 2, first.split);
  for (std::uint32_t part = 0; part < 2; ++part) {
    EXPECT_TRUE(applier.apply_part(c, first, ids, part, updates[part], rib[part])) << part;
    EXPECT_FALSE(applier.apply_part(c, first, ids, part, updates[part], rib[part])) << part;
  }
  EXPECT_EQ(applier.progress(c.db, 2), (std::vector<std::uint64_t>{1, 1}));
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.updates"), "4");
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.rib"), "4");

  // Batch 2 whole (a session down reads the RIB as every earlier row left it).
  b.add(message(kT0 + 1'000'000, p, update({}, {"10.0.0.0/8"})));
  Batch second = b.seal(2);
  second.parts = 2;
  Batch again = second;
  const std::vector<std::int32_t> ids2 = applier.upsert_peers(c.db, second);
  EXPECT_EQ(ids2, ids);
  EXPECT_TRUE(applier.apply_whole(c, second, 2, ids2));
  EXPECT_FALSE(applier.apply_whole(c, again, 2, ids2));
  EXPECT_EQ(applier.progress(c.db, 2), (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.updates"), "5");
  EXPECT_EQ(query_one(db.dsn(), "SELECT count(*) FROM bgp.rib"), "3");
  EXPECT_EQ(query_one(db.dsn(),
                      "SELECT string_agg(part || ':' || stream || ':' || last_batch, ' ' ORDER BY "
                      "part) FROM bgp.writer_progress"),
            "0:7:2 1:7:2");
}

// ---- Writer
// ---------------------------------------------------------------------------------------

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (tests::test_dsn().empty()) {
      GTEST_SKIP() << "BGPSCRIBE_TEST_DSN is not set";
    }
    db_ = std::make_unique<tests::TestDatabase>(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  struct Counts {
    std::uint64_t batches = 0;
    std::uint64_t skipped = 0;
    std::uint64_t quarantined = 0;
  };
  // Spools `batches` (numbered from the spool, in parts_ parts) and lets a writer apply them
  // (with parts_ connections).
  Counts run(std::vector<Batch> batches) {
    BatchSpool spool(dir_);
    for (auto& b : batches) {
      b.sequence = spool.next_sequence();
      b.parts = parts_;
      spool.write(b);
    }
    WriterOptions o;
    o.dsn = db_->dsn();
    o.collector_name = "test";
    o.connections = static_cast<int>(parts_);
    Writer w(o, spool);
    w.start();
    tests::wait_until([&] { return spool.files() == 0; }, 4s, 20ms);
    EXPECT_TRUE(w.stop(5)) << w.last_error();
    return {w.stats().batches.load(), w.stats().skipped.load(), w.stats().quarantined.load()};
  }
  std::string q(const std::string& sql) { return query_one(db_->dsn(), sql); }

  // writer_progress as "part:last_batch ..." in part order.
  std::string progress() {
    return q(
        "SELECT string_agg(part || ':' || last_batch, ' ' ORDER BY part) FROM "
        "bgp.writer_progress");
  }
  // Announces 10.i.0.0/16 for i below n, one UPDATE each, at kT0.
  static void announce_sixteens(BatchBuilder& b, const PeerInfoPtr& p, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string prefix = "10." + std::to_string(i) + ".0.0/16";
      b.add(message(kT0, p, update({prefix.c_str()})));
    }
  }
  // Writes `batch` into the spool again as it was (a crash before its file was removed).
  void respool(const Batch& batch) { BatchSpool(dir_).write(batch); }

  std::unique_ptr<tests::TestDatabase> db_;
  tests::TempDir tmp_{"bgpscribe-pg-writer"};
  fs::path dir_ = tmp_ / "spool";  // made by the spool
  std::uint32_t parts_ = 2;
};

TEST_F(WriterTest, RibFollowsTheLogAndSinceSurvivesReannouncement) {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  b.add(message(kT0, p, update({"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"})));
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));
  // Same attributes again (since stays), new attributes (since moves), withdraw and
  // announce again in one batch (since moves even with the first attributes).
  b.add(message(kT0 + 1'000'000, p, update({"10.0.0.0/8"})));
  b.add(message(kT0 + 2'000'000, p, update({"10.1.0.0/16"}, {}, 64500, 5)));
  b.add(message(kT0 + 3'000'000, p, update({}, {"10.2.0.0/16"})));
  b.add(message(kT0 + 4'000'000, p, update({"10.2.0.0/16"})));
  batches.push_back(b.seal(0));
  // Only re-announcements, no withdrawal: the direct COPY into bgp.rib is tried, fails on the
  // primary key and gives way to the upserts (since stays for the same attributes).
  b.add(message(kT0 + 5'000'000, p, update({"10.0.0.0/8", "10.3.0.0/16"})));
  batches.push_back(b.seal(0));
  const auto s = run(std::move(batches));
  EXPECT_EQ(s.batches, 3U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), "9");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "4");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.attr_sets"), "2");
  const auto since = [&](const char* prefix) {
    return q("SELECT (extract(epoch FROM since) * 1000000)::bigint - " + std::to_string(kT0) +
             " FROM bgp.rib WHERE prefix = '" + prefix + "'");
  };
  EXPECT_EQ(since("10.0.0.0/8"), "0");
  EXPECT_EQ(since("10.1.0.0/16"), "2000000");
  EXPECT_EQ(since("10.2.0.0/16"), "4000000");
  EXPECT_EQ(q("SELECT med FROM bgp.rib JOIN bgp.attr_sets USING (attr_id) WHERE prefix = "
              "'10.1.0.0/16'"),
            "5");
  EXPECT_EQ(q("SELECT as_path::text || ' ' || origin_as || ' ' || communities::text || ' ' || "
              "host(next_hop) FROM bgp.attr_sets WHERE med = 5"),
            "{64500,15169} 15169 {64500:100} 192.0.2.254");
}

TEST_F(WriterTest, AnAppliedBatchIsNotAppliedTwiceAndADamagedOneIsSetAside) {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  b.add(message(kT0, p, update({"10.0.0.0/8"})));
  Batch first = b.seal(0);
  EXPECT_EQ(run({first}).batches, 1U);
  // The same file again (a crash between COMMIT and its removal): skipped.
  {
    BatchSpool spool(dir_);
    first.sequence = 1;  // the number and parts run() gave it
    first.parts = parts_;
    spool.write(first);
    // A damaged file next to it.
    b.add(message(kT0 + 1, p, update({"10.9.0.0/16"})));
    Batch second = b.seal(spool.next_sequence());
    auto bytes = second.serialize();
    bytes[bytes.size() / 2] ^= 1;
    char name[40];
    std::snprintf(name, sizeof name, "%020llu.batch",
                  static_cast<unsigned long long>(second.sequence));
    write_file(dir_ / "batches" / name, bytes);
  }
  const auto s = run({});
  EXPECT_EQ(s.skipped, 1U);
  EXPECT_EQ(s.quarantined, 1U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), "1");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "failed"), fs::directory_iterator()), 1);
}

TEST_F(WriterTest, BatchesSpooledByAnOlderBgpscribeAreAppliedAfterAnUpgrade) {
  // Files of versions 4 to 6 left in the spool by older bgpscribes, then one of version 7 (a
  // peer from a BMP router): all applied in order, and the spool's position read from the last.
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  auto reported = bmp_peer("r1", "198.51.100.1", "192.0.2.10", 64500, 2);
  {
    BatchSpool spool(dir_);
    for (int version = 4; version <= 7; ++version) {
      const std::string prefix = "10." + std::to_string(version) + ".0.0/16";
      b.add(message(kT0 + version, version == 7 ? reported : p, update({prefix.c_str()})));
      Batch batch = b.seal(spool.next_sequence());
      batch.parts = parts_;
      batch.last_seq = 100 + static_cast<std::uint64_t>(version);
      if (version == 7) {
        spool.write(batch);
        continue;
      }
      const auto bytes =
          version == 6 ? version6_batch_file(batch) : legacy_batch_file(batch, version);
      char name[40];
      std::snprintf(name, sizeof name, "%020llu.batch",
                    static_cast<unsigned long long>(batch.sequence));
      write_file(dir_ / "batches" / name, bytes);
      EXPECT_EQ(BatchSpool(dir_).position(), 100U + static_cast<std::uint64_t>(version));
    }
    EXPECT_EQ(spool.position(), 107U);
  }
  const auto s = run({});
  EXPECT_EQ(s.batches, 4U);
  EXPECT_EQ(s.quarantined, 0U);
  EXPECT_EQ(q("SELECT string_agg(prefix::text, ' ' ORDER BY prefix) FROM bgp.rib"),
            "10.4.0.0/16 10.5.0.0/16 10.6.0.0/16 10.7.0.0/16");
  EXPECT_EQ(q("SELECT string_agg(format('[%s] %s', router, prefix), ' ' ORDER BY prefix) FROM "
              "bgp.rib JOIN bgp.peers USING (peer_id)"),
            "[] 10.4.0.0/16 [] 10.5.0.0/16 [] 10.6.0.0/16 [r1] 10.7.0.0/16");
}

TEST_F(WriterTest, RecordsReadBackFromTheSpoolGiveTheSameSqlAsLiveOnes) {
  // The same records once as the live collector hands them over (one PeerInfo per peer) and
  // once as they come back from its disk spool (a PeerInfo per record), each into a database
  // of its own: every table reads the same, and no batch is set aside.
  const PeerInfoPtr shared[] = {churn_peer(0), churn_peer(1)};
  const auto build = [](const std::vector<Record>& records) {
    BatchBuilder b;
    std::vector<Batch> out;
    for (const auto& r : records) {
      b.add(r);
      if (b.rows() >= 50) {
        out.push_back(b.seal(0));
      }
    }
    out.push_back(b.seal(0));
    return out;
  };
  const auto live = run(build(churn([&](int i) { return shared[i]; })));
  EXPECT_EQ(live.quarantined, 0U);
  const std::string tables =
      "SELECT string_agg(x, ';' ORDER BY x) FROM (SELECT format('%s %s %s %s %s %s', "
      "u.time, p.address, p.asn, u.prefix, u.ord, a.med) x FROM bgp.updates u JOIN bgp.peers p "
      "USING (peer_id) LEFT JOIN bgp.attr_sets a USING (attr_id) UNION ALL SELECT format('rib "
      "%s %s %s %s', p.address, r.prefix, r.since, a.med) FROM bgp.rib r JOIN bgp.peers p USING "
      "(peer_id) JOIN bgp.attr_sets a USING (attr_id) UNION ALL SELECT format('peer %s %s', "
      "address, asn) FROM bgp.peers) t";
  const std::string expected = q(tables);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "40");  // round 3 announces all again
  // now the spooled form, into a second database
  db_ = std::make_unique<tests::TestDatabase>("spooled_twin");
  fs::remove_all(dir_);
  const auto spooled = run(build(churn(churn_peer)));
  EXPECT_EQ(spooled.quarantined, 0U);
  EXPECT_EQ(spooled.batches, live.batches);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.peers"), "2");
  EXPECT_EQ(q(tables), expected);
}

TEST_F(WriterTest, ASessionDownWithdrawsWhatThePeerHeld) {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500, 1);
  auto other = peer("192.0.2.11", 64501, 2);
  b.add(message(kT0, p, update({"10.0.0.0/8", "10.1.0.0/16"})));
  b.add(message(kT0, other, update({"10.0.0.0/8"})));
  b.add(state(kT0 + 10, p, SessionState::Established, SessionState::Idle));
  Record down;
  down.type = RecordType::PeerDown;
  down.time_us = kT0 + 10;
  down.peer = p;
  EXPECT_TRUE(b.add(down));
  const auto s = run({b.seal(0)});
  EXPECT_EQ(s.batches, 1U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "1");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates WHERE attr_id IS NULL AND time = " +
              std::string("timestamptz 'epoch' + ") + std::to_string(kT0 + 10) +
              " * interval '1 microsecond'"),
            "2");
  EXPECT_EQ(q("SELECT new_state FROM bgp.peer_events WHERE old_state = 'Established'"), "Idle");
  // One transaction for the whole batch (it reads bgp.rib): every part counted in it.
  EXPECT_EQ(progress(), "0:1 1:1");
  // The withdrawals are the session's end, not the peer's: queries tell them apart.
  EXPECT_EQ(q("SELECT string_agg(DISTINCT cause::text, ',') FROM bgp.updates WHERE attr_id IS "
              "NULL"),
            "session_down");
  EXPECT_EQ(q("SELECT announcements || ' ' || withdrawals || ' ' || implicit_withdrawals FROM "
              "bgp.update_counts('2026-01-01', '2027-01-01', '400 days') c JOIN bgp.peers p USING "
              "(peer_id) WHERE p.asn = 64500"),
            "2 0 2");
}

TEST_F(WriterTest, BmpSourcesOfOneNeighbourKeepTheirOwnPeerRowsAndRoutes) {
  // One neighbour, 192.0.2.10 AS64500: a session of the collector's own, and the neighbour as
  // BMP routers r1 (pre- and post-policy) and r2 report it. Each announces 10.0.0.0/8 with a
  // MED of its own; r1's pre-policy peer also 10.1.0.0/16, then its session goes down.
  const PeerInfoPtr own = peer("192.0.2.10", 64500, 1);
  const auto r1_pre = [] { return bmp_peer("r1", "198.51.100.1", "192.0.2.10", 64500, 2); };
  const auto r1_post = [] { return bmp_peer("r1", "198.51.100.1", "192.0.2.10", 64500, 3, true); };
  const auto r2_pre = [] { return bmp_peer("r2", "198.51.100.2", "192.0.2.10", 64500, 4); };
  BatchBuilder b;
  b.add(message(kT0, own, update({"10.0.0.0/8"}, {}, 64500, 1)));
  b.add(message(kT0, r1_pre(), update({"10.0.0.0/8", "10.1.0.0/16"}, {}, 64500, 2)));
  b.add(message(kT0, r1_post(), update({"10.0.0.0/8"}, {}, 64500, 3)));
  b.add(message(kT0, r2_pre(), update({"10.0.0.0/8"}, {}, 64500, 4)));
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));
  const PeerInfoPtr down_peer = r1_pre();
  b.add(state(kT0 + 10, down_peer, SessionState::Established, SessionState::Idle));
  Record down;
  down.type = RecordType::PeerDown;
  down.time_us = kT0 + 10;
  down.peer = down_peer;
  EXPECT_TRUE(b.add(down));
  batches.push_back(b.seal(0));
  // A later batch of r2's peer, from a PeerInfo of its own (as read back from the spool).
  b.add(message(kT0 + 20, r2_pre(), update({"10.2.0.0/16"}, {}, 64500, 4)));
  batches.push_back(b.seal(0));
  const auto s = run(std::move(batches));
  EXPECT_EQ(s.batches, 3U);
  EXPECT_EQ(s.quarantined, 0U);

  // Four peer rows, the routers named; the own session's BMP columns empty.
  EXPECT_EQ(q("SELECT string_agg(format('[%s] %s %s %s %s %s %s', router, "
              "coalesce(host(router_address), '-'), bmp_peer_type, distinguisher, post_policy, "
              "host(address), asn), '; ' ORDER BY router, post_policy) FROM bgp.peers"),
            "[] - 0 0 f 192.0.2.10 64500; "
            "[r1] 198.51.100.1 0 0 f 192.0.2.10 64500; "
            "[r1] 198.51.100.1 0 0 t 192.0.2.10 64500; "
            "[r2] 198.51.100.2 0 0 f 192.0.2.10 64500");
  // Each source's routes are its own: the session down took r1's pre-policy routes only.
  EXPECT_EQ(q("SELECT string_agg(format('[%s] %s %s %s', p.router, p.post_policy, r.prefix, "
              "a.med), '; ' ORDER BY p.router, p.post_policy, r.prefix) FROM bgp.rib r JOIN "
              "bgp.peers p USING (peer_id) JOIN bgp.attr_sets a USING (attr_id)"),
            "[] f 10.0.0.0/8 1; [r1] t 10.0.0.0/8 3; [r2] f 10.0.0.0/8 4; "
            "[r2] f 10.2.0.0/16 4");
  EXPECT_EQ(q("SELECT string_agg(format('[%s] %s %s', p.router, u.prefix, u.cause), '; ' ORDER "
              "BY u.prefix) FROM bgp.updates u JOIN bgp.peers p USING (peer_id) WHERE u.attr_id "
              "IS NULL"),
            "[r1] 10.0.0.0/8 session_down; [r1] 10.1.0.0/16 session_down");
  EXPECT_EQ(q("SELECT string_agg(p.router || ':' || e.new_state, ',') FROM bgp.peer_events e "
              "JOIN bgp.peers p USING (peer_id)"),
            "r1:Idle");
  // Before the session down, every source had its route to 10.0.0.0/8.
  EXPECT_EQ(q("SELECT string_agg(format('[%s] %s', p.router, p.post_policy), ' ' ORDER BY "
              "p.router, p.post_policy) FROM bgp.route_at('10.0.0.0/8', timestamptz 'epoch' + " +
              std::to_string(kT0 + 5) +
              " * interval '1 microsecond') r JOIN bgp.peers p USING (peer_id)"),
            "[] f [r1] f [r1] t [r2] f");
  // The routes of the peers that router r1 reports, as docs/sql.md asks for them.
  EXPECT_EQ(q("SELECT string_agg(format('%s %s %s', host(peer_address), prefix, post_policy), "
              "'; ') FROM bgp.rib_view WHERE router = 'r1'"),
            "192.0.2.10 10.0.0.0/8 t");
  EXPECT_EQ(q("SELECT string_agg(DISTINCT router, ',') FROM bgp.updates_view WHERE prefix = "
              "'10.2.0.0/16'"),
            "r2");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.peers_view WHERE collector = 'test' AND router = 'r1'"),
            "2");
}

TEST_F(WriterTest, AGracefulRestartKeepsItsFamiliesStaleUntilEndOfRib) {
  // The peer holds IPv4 and IPv6 routes; its session drops and a graceful restart keeps IPv4
  // (the PeerDown says so): IPv6 goes with the session, IPv4 stays. The new session announces
  // one IPv4 route again (another attribute set) and a new one; its End-of-RIB (StaleEnd)
  // withdraws the IPv4 route it did not announce again.
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500, 1);
  b.add(message(kT0, p, update({"10.0.0.0/8", "10.1.0.0/16", "10.2.0.0/16"})));
  bgp::UpdateMessage v6;
  v6.attributes.origin(bgp::Origin::Igp).as_path({{bgp::AsSegmentType::AsSequence, {64500}}});
  const auto nh6 = bgp::IpAddress::parse("2001:db8::1")->bytes;
  const bgp::Prefix v6_prefixes[] = {*bgp::Prefix::parse("2001:db8:1::/48")};
  v6.attributes.mp_reach(bgp::kIpv6Unicast, nh6, v6_prefixes);
  codec::wire::Writer w6;
  ASSERT_TRUE(v6.encode(w6));
  b.add(message(kT0, p, w6.take()));
  b.add(state(kT0 + 10, p, SessionState::Established, SessionState::Idle));
  Record down;
  down.type = RecordType::PeerDown;
  down.time_us = kT0 + 10;
  down.peer = p;
  down.stale_families = exporters::family_bit(bgp::kIpv4Unicast);
  EXPECT_TRUE(b.add(down));
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));
  b.add(state(kT0 + 1'000'000, p, SessionState::OpenConfirm, SessionState::Established));
  b.add(message(kT0 + 1'000'001, p, update({"10.0.0.0/8"}, {}, 64500, 7)));
  b.add(message(kT0 + 1'000'002, p, update({"10.3.0.0/16"})));
  Record end;
  end.type = RecordType::StaleEnd;
  end.time_us = kT0 + 2'000'000;
  end.peer = p;
  end.stale_families = exporters::family_bit(bgp::kIpv4Unicast);
  end.stale_since_us = kT0 + 10;
  end.reason = "End-of-RIB";
  EXPECT_FALSE(b.add(end));
  b.add(message(kT0 + 2'000'001, p, update({"10.4.0.0/16"})));  // after the end: stays
  batches.push_back(b.seal(0));
  EXPECT_EQ(run(std::move(batches)).batches, 2U);
  EXPECT_EQ(q("SELECT string_agg(prefix::text, ' ' ORDER BY prefix) FROM bgp.rib"),
            "10.0.0.0/8 10.3.0.0/16 10.4.0.0/16");
  EXPECT_EQ(q("SELECT string_agg(prefix || ':' || cause, ' ' ORDER BY time, prefix) FROM "
              "bgp.updates WHERE attr_id IS NULL"),
            "2001:db8:1::/48:session_down 10.1.0.0/16:graceful_restart "
            "10.2.0.0/16:graceful_restart");
  EXPECT_EQ(q("SELECT (extract(epoch FROM time) * 1000000)::bigint - " + std::to_string(kT0) +
              " FROM bgp.updates WHERE cause = 'graceful_restart' LIMIT 1"),
            "2000000");
  EXPECT_EQ(q("SELECT announcements || ' ' || withdrawals || ' ' || implicit_withdrawals FROM "
              "bgp.update_counts('2026-01-01', '2027-01-01', '400 days')"),
            "7 0 3");
}

TEST_F(WriterTest, AGracefulRestartThatExpiresWithdrawsEveryStaleRoute) {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500, 1);
  b.add(message(kT0, p, update({"10.0.0.0/8", "10.1.0.0/16"})));
  Record down;
  down.type = RecordType::PeerDown;
  down.time_us = kT0 + 10;
  down.peer = p;
  down.stale_families = exporters::family_bit(bgp::kIpv4Unicast);
  b.add(down);
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));
  Record end;
  end.type = RecordType::StaleEnd;
  end.time_us = kT0 + 120'000'000;
  end.peer = p;
  end.stale_families = exporters::family_bit(bgp::kIpv4Unicast);
  end.stale_since_us = kT0 + 10;
  b.add(end);
  batches.push_back(b.seal(0));
  EXPECT_EQ(run(std::move(batches)).batches, 2U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "0");
  EXPECT_EQ(q("SELECT count(*) || ' ' || min(cause::text) FROM bgp.updates WHERE attr_id IS NULL"),
            "2 graceful_restart");
}

TEST_F(WriterTest, ARestartEndsEverySessionTheCrashedRunLeftOpenRoutesOrNot) {
  BatchBuilder b;
  auto with_routes = peer("192.0.2.10", 64500, 1);
  auto without = peer("192.0.2.11", 64501, 2);
  auto ended = peer("192.0.2.12", 64502, 3);
  for (const auto& p : {with_routes, without, ended}) {
    b.add(state(kT0, p, SessionState::OpenConfirm, SessionState::Established));
  }
  b.add(message(kT0 + 1, with_routes, update({"10.0.0.0/8"})));
  b.add(state(kT0 + 2, ended, SessionState::Established, SessionState::Idle));
  Record down;
  down.type = RecordType::PeerDown;
  down.time_us = kT0 + 2;
  down.peer = ended;
  b.add(down);
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));
  // The next run's first batch (kill -9 in between: nothing ended the other two sessions).
  b.restart(kT0 + 5'000'000);
  batches.push_back(b.seal(0));
  EXPECT_EQ(run(std::move(batches)).batches, 2U);
  EXPECT_EQ(q("SELECT string_agg(p.asn || ':' || e.old_state, ' ' ORDER BY p.asn) FROM "
              "bgp.peer_events e JOIN bgp.peers p USING (peer_id) WHERE e.reason = 'collector "
              "restarted'"),
            "64500:Established 64501:Established");
  EXPECT_EQ(q("SELECT count(*) || ' ' || min(cause::text) FROM bgp.updates WHERE attr_id IS NULL"),
            "1 collector_restart");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "0");
}

TEST_F(WriterTest, ADynamicPeerWhoseOpenComesInALaterBatchHasOnePeerRow) {
  BatchBuilder b;
  auto pre = peer("192.0.2.10", 0);  // connected; AS unknown until its OPEN
  auto p = peer("192.0.2.10", 64500);
  b.add(state(kT0, pre, SessionState::Idle, SessionState::Active));
  b.add(state(kT0 + 1, pre, SessionState::Active, SessionState::OpenSent));
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));  // sealed before the OPEN came (it came more than 1 s later)
  b.add(state(kT0 + 2'000'000, p, SessionState::OpenSent, SessionState::OpenConfirm));
  b.add(state(kT0 + 2'000'001, p, SessionState::OpenConfirm, SessionState::Established));
  b.add(message(kT0 + 2'000'002, p, update({"10.0.0.0/8"})));
  batches.push_back(b.seal(0));
  EXPECT_EQ(run(std::move(batches)).batches, 2U);
  EXPECT_EQ(q("SELECT string_agg(asn::text, ',') FROM bgp.peers"), "64500");
  EXPECT_EQ(q("SELECT string_agg(new_state, ',' ORDER BY time) FROM bgp.peer_events e JOIN "
              "bgp.peers p USING (peer_id) WHERE p.asn = 64500"),
            "Active,OpenSent,OpenConfirm,Established");
}

TEST_F(WriterTest, AddPathIdsKeepRoutesApartInTheLogTheRibAndRouteAt) {
  // ADD-PATH (RFC 7911) for IPv4: two paths of one prefix, then one of them withdrawn.
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  const auto with_paths = [&](std::int64_t t, const std::vector<std::uint32_t>& announce,
                              const std::vector<std::uint32_t>& withdraw) {
    bgp::UpdateMessage m;
    m.add_path = true;
    const auto prefix = *bgp::Prefix::parse("10.0.0.0/8");
    for (const auto id : withdraw) {
      m.withdrawn.push_back({prefix, id});
    }
    for (const auto id : announce) {
      m.nlri.push_back({prefix, id});
    }
    if (!announce.empty()) {
      m.attributes.origin(bgp::Origin::Igp)
          .as_path({{bgp::AsSegmentType::AsSequence, {64500, 15169}}})
          .next_hop(0xC00002FE);
    }
    codec::wire::Writer w;
    EXPECT_TRUE(m.encode(w));
    Record r = message(t, p, w.take());
    r.context.set_add_path(bgp::kIpv4Unicast, true);
    return r;
  };
  b.add(with_paths(kT0, {1, 2}, {}));
  std::vector<Batch> batches;
  batches.push_back(b.seal(0));
  b.add(with_paths(kT0 + 1'000'000, {}, {1}));
  batches.push_back(b.seal(0));
  EXPECT_EQ(run(std::move(batches)).batches, 2U);
  EXPECT_EQ(q("SELECT string_agg(path_id || ':' || (attr_id IS NOT NULL), ' ' ORDER BY time, "
              "path_id) FROM bgp.updates"),
            "1:true 2:true 1:false");
  EXPECT_EQ(q("SELECT string_agg(path_id::text, ' ') FROM bgp.rib"), "2");
  const auto paths_at = [&](std::int64_t t) {
    return q(
        "SELECT string_agg(path_id::text, ' ' ORDER BY path_id) FROM "
        "bgp.route_at('10.0.0.0/8', timestamptz 'epoch' + " +
        std::to_string(t) + " * interval '1 microsecond')");
  };
  EXPECT_EQ(paths_at(kT0 + 500'000), "1 2");
  EXPECT_EQ(paths_at(kT0 + 1'500'000), "2");
}

TEST_F(WriterTest, PartsCommitApartAndARetryAppliesOnlyTheMissingOnes) {
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  announce_sixteens(b, p, 64);
  b.add(state(kT0 + 1, p, SessionState::OpenConfirm, SessionState::Established));
  Batch batch = b.seal(0);
  EXPECT_EQ(run({batch}).batches, 1U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), "64");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "64");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.peer_events"), "1");
  EXPECT_EQ(progress(), "0:1 1:1");

  // A crash after part 0 committed and before part 1 did: part 1's rows are not there and
  // its progress row is behind. Here: nothing is there, part 1 is behind.
  const auto forget = [&] {
    pqxx::connection c(db_->dsn());
    pqxx::work t(c);
    t.exec("DELETE FROM bgp.updates");
    t.exec("DELETE FROM bgp.rib");
    t.exec("DELETE FROM bgp.peer_events");
    t.commit();
  };
  forget();
  q("UPDATE bgp.writer_progress SET last_batch = 0 WHERE part = 1 RETURNING 1");
  batch.sequence = 1;
  batch.parts = 2;
  respool(batch);
  EXPECT_EQ(run({}).batches, 1U);
  const int part1 = std::stoi(q("SELECT count(*) FROM bgp.updates"));
  EXPECT_GT(part1, 0);  // 64 prefixes fall into both parts
  EXPECT_LT(part1, 64);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), std::to_string(part1));
  EXPECT_EQ(q("SELECT count(*) FROM bgp.peer_events"), "0");  // part 0 carries the events
  const std::string part1_prefixes = q("SELECT string_agg(prefix::text, ',') FROM bgp.updates");

  // Then only part 0 behind: the other prefixes, and the same split as before.
  forget();
  q("UPDATE bgp.writer_progress SET last_batch = 0 WHERE part = 0 RETURNING 1");
  respool(batch);
  EXPECT_EQ(run({}).batches, 1U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), std::to_string(64 - part1));
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates WHERE prefix::text = ANY (string_to_array('" +
              part1_prefixes + "', ','))"),
            "0");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.peer_events"), "1");

  // Both parts done: the file is skipped.
  respool(batch);
  EXPECT_EQ(run({}).skipped, 1U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), std::to_string(64 - part1));
}

TEST_F(WriterTest, ALaneThatFailsLeavesEveryRowAppliedOnceAndTheRibInOrder) {
  // Twelve batches of four parts (as sealed for two connections), applied by two lanes that take
  // whichever part is next and do not wait for each other: a part of batch 6 is refused by the
  // server (a trigger on the partition of one prefix) until the test lifts it, while the other
  // lane may have gone on with batches 7 and later. After the retry every row is in the log
  // once, and the RIB holds the last batch's attributes (one prefix's rows stay in order).
  schema::migrate(db_->dsn());
  q("CREATE TABLE public.refuse (on_ boolean)");
  q("INSERT INTO public.refuse VALUES (true) RETURNING 1");
  q("CREATE FUNCTION public.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
    "NEW.prefix = '10.250.0.0/16' AND (SELECT on_ FROM public.refuse) THEN RAISE EXCEPTION "
    "'refused by the test'; END IF; RETURN NEW; END $$");
  for (int i = 0; i < 4; ++i) {
    q("CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON bgp.rib_p" + std::to_string(i) +
      " FOR EACH ROW EXECUTE FUNCTION public.refuse_poison()");
  }
  BatchSpool spool(dir_);
  auto p = peer("192.0.2.10", 64500);
  constexpr int kBatches = 12;
  constexpr int kShared = 48;  // prefixes announced again by every batch, with MED = batch
  int rows = 0;
  for (int n = 1; n <= kBatches; ++n) {
    BatchBuilder b;
    for (int j = 0; j < kShared; ++j) {
      const std::string prefix = "10.100." + std::to_string(j) + ".0/24";
      b.add(message(kT0 + std::int64_t{n} * 1000 + j, p, update({prefix.c_str()}, {}, 64500, n)));
      ++rows;
    }
    for (int j = 0; j < 16; ++j) {  // and prefixes of its own
      const std::string prefix = "10." + std::to_string(n) + "." + std::to_string(j) + ".0/24";
      b.add(message(kT0 + std::int64_t{n} * 1000 + 100 + j, p, update({prefix.c_str()})));
      ++rows;
    }
    if (n == 6) {
      b.add(message(kT0 + std::int64_t{n} * 1000 + 200, p, update({"10.250.0.0/16"})));
      ++rows;
    }
    Batch batch = b.seal(0);
    batch.sequence = spool.next_sequence();
    batch.parts = parts_for(2);
    spool.write(batch);
  }
  WriterOptions o;
  o.dsn = db_->dsn();
  o.collector_name = "test";
  o.connections = 2;
  o.attempts_before_quarantine = 1000;  // this test lifts the refusal itself
  Writer w(o, spool);
  w.start();
  tests::wait_until([&] { return w.stats().failures != 0; }, 10s, 20ms);
  ASSERT_GT(w.stats().failures, 0U);
  EXPECT_NE(w.last_error().find("refused by the test"), std::string::npos) << w.last_error();
  EXPECT_GE(spool.files(), 1U);  // batch 6 at least is still there
  q("UPDATE public.refuse SET on_ = false RETURNING 1");
  tests::wait_until([&] { return spool.files() == 0; }, 10s, 20ms);
  EXPECT_TRUE(w.stop(5)) << w.last_error();
  EXPECT_EQ(w.stats().quarantined, 0U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), std::to_string(rows));
  EXPECT_EQ(q("SELECT count(*) FROM (SELECT DISTINCT time, prefix FROM bgp.updates) d"),
            std::to_string(rows));
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), std::to_string(kShared + kBatches * 16 + 1));
  EXPECT_EQ(q("SELECT string_agg(DISTINCT med::text, ',') FROM bgp.rib JOIN bgp.attr_sets "
              "USING (attr_id) WHERE prefix <<= '10.100.0.0/16'"),
            std::to_string(kBatches));
  EXPECT_EQ(progress(), "0:12 1:12 2:12 3:12");
}

TEST_F(WriterTest, OneConnectionAppliesBatchesOfTwoParts) {
  // Batches spooled with two parts, applied after a restart with one connection.
  BatchBuilder b;
  auto p = peer("192.0.2.10", 64500);
  announce_sixteens(b, p, 16);
  Batch batch = b.seal(0);
  {
    BatchSpool spool(dir_);
    batch.sequence = spool.next_sequence();
    batch.parts = 2;
    spool.write(batch);
  }
  parts_ = 1;
  EXPECT_EQ(run({}).batches, 1U);
  EXPECT_EQ(q("SELECT count(*) FROM bgp.updates"), "16");
  EXPECT_EQ(q("SELECT count(*) FROM bgp.rib"), "16");
  EXPECT_EQ(progress(), "0:1 1:1");
}

}  // namespace
}  // namespace bgpscribe::exporters::postgres
