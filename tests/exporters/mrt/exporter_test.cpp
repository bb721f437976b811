// The MRT exporter: subtypes, timestamps, state changes, rotation, names and the temp+rename
// rule, read back with the codec.
#include <gtest/gtest.h>

#include "codec/mrt/bgp4mp.hpp"
#include "exporters/mrt/naming.hpp"
#include "exporters/mrt/subtype.hpp"
#include "tests/exporters/mrt/test_util.hpp"

namespace bgpscribe::exporters::mrt::test {
namespace {

using codec::mrt::Bgp4mpSubtype;
using codec::mrt::Type;

constexpr const char* kPlain =
    "{type: mrt, directory: X, preset: none, updates_file: 'u.%Y%m%d.%H%M', "
    "updates_interval: 5m}";

std::string yaml_with_dir(const std::string& yaml, const TempDir& dir) {
  std::string s = yaml;
  s.replace(s.find("directory: X"), 12, "directory: '" + dir.str() + "'");
  return s;
}

Bgp4mpSubtype subtype_of(const ReadRecord& r) {
  return static_cast<Bgp4mpSubtype>(r.header.subtype);
}

TEST(MrtSubtype, FamilyOfAnUpdate) {
  // Classic IPv4 announcement.
  auto f = update_family(ipv4_update({24, 192, 0, 2}));
  EXPECT_TRUE(f.known);
  EXPECT_EQ(f.family, codec::bgp::kIpv4Unicast);
  EXPECT_FALSE(f.mixed);
  // MP_REACH IPv6.
  f = update_family(ipv6_update({32, 0x20, 0x01, 0x0d, 0xb8}));
  EXPECT_EQ(f.family, codec::bgp::kIpv6Unicast);
  // Mixed: MP_REACH IPv6 wins over the classic IPv4 NLRI.
  f = update_family(ipv6_update({32, 0x20, 0x01, 0x0d, 0xb8}, {24, 192, 0, 2}));
  EXPECT_EQ(f.family, codec::bgp::kIpv6Unicast);
  EXPECT_TRUE(f.mixed);
  EXPECT_EQ(f.other, codec::bgp::kIpv4Unicast);
  // IPv6 End-of-RIB (empty MP_UNREACH).
  f = update_family(ipv6_end_of_rib());
  EXPECT_EQ(f.family, codec::bgp::kIpv6Unicast);
  // Empty UPDATE: IPv4 End-of-RIB.
  f = update_family(ipv4_update({}));
  EXPECT_TRUE(f.known);
  EXPECT_EQ(f.family, codec::bgp::kIpv4Unicast);
  // Withdrawn only.
  f = update_family(ipv4_update({}, {16, 10, 1}));
  EXPECT_EQ(f.family, codec::bgp::kIpv4Unicast);
  // Not an UPDATE.
  EXPECT_FALSE(update_family(keepalive()).known);
}

TEST(MrtSubtype, MalformedUpdates) {
  // Withdrawn length runs past the message: nothing seen, no family.
  auto m = bgp_message(2, {0xFF, 0x00, 1, 2, 3});
  auto f = update_family(m);
  EXPECT_TRUE(f.malformed);
  EXPECT_FALSE(f.known);
  codec::bgp::ParseContext ctx;
  ctx.set_add_path(codec::bgp::kIpv4Unicast, true);
  EXPECT_EQ(choose_subtype(m, ctx).subtype, Bgp4mpSubtype::MessageAs4);
  // MP_REACH IPv6 seen, then an attribute whose length overruns: IPv6 is the family.
  auto good = ipv6_update({32, 0x20, 0x01, 0x0d, 0xb8});
  std::vector<std::uint8_t> body(good.begin() + 19, good.end());
  body[3] = static_cast<std::uint8_t>(body[3] + 3);  // attribute length +3
  body.insert(body.end(), {0x40, 5, 9});             // LOCAL_PREF claiming 9 bytes, none there
  m = bgp_message(2, body);
  f = update_family(m);
  EXPECT_TRUE(f.malformed);
  EXPECT_TRUE(f.known);
  EXPECT_EQ(f.family, codec::bgp::kIpv6Unicast);
  // Shorter than a header.
  EXPECT_FALSE(update_family(std::vector<std::uint8_t>{0xFF, 0xFF}).known);
}

TEST(MrtExporter, SubtypesFollowAsSizeAndAddPathPerFamily) {
  TempDir dir;
  Harness h(yaml_with_dir(kPlain, dir));
  h->start();
  auto peer4 = make_peer("198.51.100.1", 65001, "198.51.100.2", 4200000000U);
  auto peer6 = make_peer("2001:db8::2", 4200000001U, "2001:db8::1");

  codec::bgp::ParseContext ap6;  // ADD-PATH receive for IPv6 unicast only
  ap6.set_add_path(codec::bgp::kIpv6Unicast, true);

  std::int64_t t = kT0 + 1000;
  std::vector<Record> in;
  in.push_back(message_record(t++, peer4, ipv4_update({24, 192, 0, 2})));         // AS4
  in.push_back(message_record(t++, peer4, ipv4_update({24, 192, 0, 2}), false));  // 2-octet
  auto r = message_record(t++, peer6, ipv6_update({0, 0, 0, 7, 32, 0x20, 0x01, 0x0d, 0xb8}));
  r.context = ap6;
  in.push_back(r);  // AS4_ADDPATH (IPv6 has path ids)
  r = message_record(t++, peer4, ipv4_update({24, 192, 0, 2}));
  r.context = ap6;
  in.push_back(r);  // IPv4 on an IPv6-ADD-PATH session: plain
  r = message_record(t++, peer6, keepalive());
  r.context = ap6;
  in.push_back(r);  // KEEPALIVE: plain
  r = message_record(t++, peer6, ipv6_update({0, 0, 0, 7, 32, 0x20, 0x01, 0x0d, 0xb8}), false);
  r.context.set_add_path(codec::bgp::kIpv6Unicast, true);
  in.push_back(r);  // 2-octet ADDPATH
  r = message_record(t++, peer6,
                     ipv6_update({0, 0, 0, 7, 32, 0x20, 0x01, 0x0d, 0xb8}, {24, 192, 0, 2}));
  r.context = ap6;
  in.push_back(r);  // mixed: MP_REACH IPv6 decides -> ADDPATH, conflict counted
  r = message_record(t++, peer6, ipv6_end_of_rib());
  r.context = ap6;
  in.push_back(r);  // IPv6 End-of-RIB on an ADD-PATH session -> ADDPATH
  for (const auto& rec : in) {
    h->accept(rec);
  }
  h->stop();

  const auto files = files_under(dir.path());
  ASSERT_EQ(files, std::vector<std::string>{"u.20261204.0415"});
  const auto got = read_mrt(dir.path() / files[0]);
  ASSERT_TRUE(got.clean) << got.error;
  ASSERT_EQ(got.records.size(), in.size());
  const Bgp4mpSubtype want[] = {Bgp4mpSubtype::MessageAs4,        Bgp4mpSubtype::Message,
                                Bgp4mpSubtype::MessageAs4Addpath, Bgp4mpSubtype::MessageAs4,
                                Bgp4mpSubtype::MessageAs4,        Bgp4mpSubtype::MessageAddpath,
                                Bgp4mpSubtype::MessageAs4Addpath, Bgp4mpSubtype::MessageAs4Addpath};
  for (std::size_t i = 0; i < in.size(); ++i) {
    SCOPED_TRACE(i);
    const auto& rr = got.records[i];
    EXPECT_EQ(rr.header.type, Type::Bgp4mpEt);
    EXPECT_EQ(subtype_of(rr), want[i]);
    auto m = codec::mrt::parse_bgp4mp_message(rr.view());
    ASSERT_TRUE(m);
    EXPECT_TRUE(codec::mrt::bytes_equal(m->message, in[i].message.span()));
    EXPECT_EQ(rr.header.timestamp, static_cast<std::uint32_t>(in[i].time_us / 1'000'000));
    EXPECT_EQ(rr.header.microseconds, static_cast<std::uint32_t>(in[i].time_us % 1'000'000));
    EXPECT_EQ(m->peer.peer_ip, in[i].peer->peer_address);
    EXPECT_EQ(m->peer.local_ip, in[i].peer->local_address);
  }
  // 2-octet subtypes carry AS_TRANS for the ASNs that do not fit.
  auto m1 = codec::mrt::parse_bgp4mp_message(got.records[1].view());
  EXPECT_EQ(m1->peer.peer_as, 65001U);
  EXPECT_EQ(m1->peer.local_as, 23456U);
  auto m2 = codec::mrt::parse_bgp4mp_message(got.records[2].view());
  EXPECT_EQ(m2->peer.peer_as, 4200000001U);
  EXPECT_EQ(h->metrics().add_path_conflicts, 1U);  // the mixed one: IPv4 has no ADD-PATH
}

TEST(MrtExporter, MixedFamilyConflictIsCounted) {
  TempDir dir;
  Harness h(yaml_with_dir(kPlain, dir));
  h->start();
  auto peer = make_peer("2001:db8::2", 65002, "2001:db8::1");
  auto r = message_record(kT0, peer,
                          ipv6_update({0, 0, 0, 7, 32, 0x20, 0x01, 0x0d, 0xb8}, {24, 192, 0, 2}));
  r.context.set_add_path(codec::bgp::kIpv6Unicast, true);  // IPv4 without ADD-PATH
  h->accept(r);
  r.context.set_add_path(codec::bgp::kIpv4Unicast, true);  // both: no conflict
  h->accept(r);
  h->stop();
  EXPECT_EQ(h->metrics().add_path_conflicts, 1U);
  EXPECT_EQ(h->metrics().add_path_messages, 2U);
}

TEST(MrtExporter, PlainBgp4mpFormatHasSecondsOnly) {
  TempDir dir;
  Harness h(yaml_with_dir(std::string(kPlain).insert(1, "format: bgp4mp, "), dir));
  h->start();
  auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
  h->accept(message_record(kT0 + 123456, peer, keepalive()));
  h->accept(state_record(kT0 + 200000, peer, SessionState::Established, SessionState::Idle));
  h->stop();
  const auto got = read_mrt(dir.path() / "u.20261204.0415");
  ASSERT_EQ(got.records.size(), 2U);
  EXPECT_EQ(got.records[0].header.type, Type::Bgp4mp);
  EXPECT_EQ(got.records[0].header.microseconds, 0U);
  EXPECT_EQ(got.records[0].header.timestamp, kT0 / 1'000'000);
  // 12 header + 20 peer part (IPv4, AS4) + 19 KEEPALIVE.
  EXPECT_EQ(got.records[0].bytes.size(), 12U + 20U + 19U);
  EXPECT_EQ(got.records[1].header.type, Type::Bgp4mp);
}

TEST(MrtExporter, StateChangesAreAs4AndCanBeTurnedOff) {
  TempDir dir;
  {
    Harness h(yaml_with_dir(kPlain, dir));
    h->start();
    auto peer = make_peer("2001:db8::2", 65002, "2001:db8::1");
    h->accept(state_record(kT0 + 5, peer, SessionState::OpenConfirm, SessionState::Established));
    PeerInfoPtr two_octet = make_peer("198.51.100.1", 65001, "198.51.100.2", 64496);
    h->accept(state_record(kT0 + 6, two_octet, SessionState::Established, SessionState::Idle));
    Record up;
    up.type = RecordType::PeerUp;
    up.time_us = kT0 + 7;
    up.peer = peer;
    h->accept(up);  // ignored
    h->stop();
    EXPECT_EQ(h->metrics().ignored_records, 1U);
  }
  const auto got = read_mrt(dir.path() / "u.20261204.0415");
  ASSERT_EQ(got.records.size(), 2U);
  EXPECT_EQ(got.records[0].header.type, Type::Bgp4mpEt);
  EXPECT_EQ(subtype_of(got.records[0]), Bgp4mpSubtype::StateChangeAs4);
  auto c = codec::mrt::parse_bgp4mp_state_change(got.records[0].view());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->old_state, 5);
  EXPECT_EQ(c->new_state, 6);
  EXPECT_EQ(c->peer.peer_as, 65002U);
  EXPECT_EQ(c->peer.peer_ip.to_string(), "2001:db8::2");
  EXPECT_EQ(got.records[0].header.microseconds, 5U);

  TempDir dir2;
  Harness h2(yaml_with_dir(std::string(kPlain).insert(1, "state_changes: false, "), dir2));
  h2->start();
  auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
  h2->accept(state_record(kT0, peer, SessionState::Idle, SessionState::Connect));
  h2->accept(message_record(kT0 + 1, peer, keepalive()));
  h2->stop();
  const auto got2 = read_mrt(dir2.path() / "u.20261204.0415");
  ASSERT_EQ(got2.records.size(), 1U);
  EXPECT_EQ(subtype_of(got2.records[0]), Bgp4mpSubtype::MessageAs4);
}

TEST(MrtExporter, UnknownLocalAddressTakesThePeerFamily) {
  TempDir dir;
  Harness h(yaml_with_dir(kPlain, dir));
  h->start();
  h->accept(message_record(kT0, make_peer("2001:db8::2", 65002), keepalive()));
  h->stop();
  const auto got = read_mrt(dir.path() / "u.20261204.0415");
  ASSERT_EQ(got.records.size(), 1U);
  auto m = codec::mrt::parse_bgp4mp_message(got.records[0].view());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->peer.local_ip.to_string(), "::");
}

TEST(MrtExporter, RotatesOnRecordTimeAndOnFlushWithoutRecords) {
  TempDir dir;
  Harness h(yaml_with_dir(kPlain, dir));
  h->start();
  auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
  const std::int64_t s = 1'000'000;
  h->accept(message_record(kT0 - 1, peer, keepalive()));  // 04:14:59.999999 -> 0410
  h->accept(message_record(kT0, peer, keepalive()));      // 04:15:00 -> 0415
  h->accept(message_record(kT0 + 1, peer, keepalive()));  // 0415
  h->flush(kT0 + 2 * s);
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{".u.20261204.0415.partial", "u.20261204.0410"}));
  // No record comes: the end of the interval closes the file from flush().
  h->flush(kT0 + 300 * s - 1);
  EXPECT_EQ(files_under(dir.path()).size(), 2U);
  h->flush(kT0 + 300 * s);
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{"u.20261204.0410", "u.20261204.0415"}));
  // A late record of the closed interval goes into the next file, never reopens 0415.
  h->accept(message_record(kT0 + 299 * s, peer, keepalive()));
  h->accept(message_record(kT0 + 601 * s, peer, keepalive()));  // 0425
  h->stop();
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{"u.20261204.0410", "u.20261204.0415", "u.20261204.0420",
                                      "u.20261204.0425"}));
  EXPECT_EQ(read_mrt(dir.path() / "u.20261204.0410").records.size(), 1U);
  EXPECT_EQ(read_mrt(dir.path() / "u.20261204.0415").records.size(), 2U);
  const auto late = read_mrt(dir.path() / "u.20261204.0420");
  ASSERT_EQ(late.records.size(), 1U);
  EXPECT_EQ(late.records[0].header.timestamp, (kT0 + 299 * s) / s);
  EXPECT_EQ(h->metrics().files_finished, 4U);
  EXPECT_EQ(h->metrics().records_written, 5U);
  EXPECT_TRUE(h.logged("finished " + (dir.path() / "u.20261204.0415").string() + " (2 records"));
}

TEST(MrtExporter, ZeroIntervalWritesOneFileUntilStop) {
  TempDir dir;
  Harness h(
      yaml_with_dir("{type: mrt, directory: X, preset: none, updates_interval: 0, "
                    "updates_file: 'all.%Y%m%d.%H%M%S.bz2'}",
                    dir));
  h->start();
  auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
  for (int i = 0; i < 10; ++i) {
    h->accept(message_record(kT0 + 7'000'000 + i * 3'600'000'000LL, peer, keepalive()));
    h->flush(kT0 + 7'000'000 + i * 3'600'000'000LL);
  }
  h->stop();
  EXPECT_EQ(files_under(dir.path()), std::vector<std::string>{"all.20261204.041507.bz2"});
  const auto got = read_mrt(dir.path() / "all.20261204.041507.bz2");
  EXPECT_EQ(got.compression, codec::mrt::Compression::Bzip2);
  EXPECT_EQ(got.records.size(), 10U);
  EXPECT_TRUE(got.clean);
}

TEST(MrtExporter, PresetsNameFilesLikeRisAndRouteViews) {
  TempDir dir;
  auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
  {
    Harness h(yaml_with_dir("{type: mrt, directory: X, preset: ris}", dir), "rrc99");
    EXPECT_EQ(h->snapshot_interval(), std::chrono::hours(8));
    EXPECT_TRUE(h->wants_snapshots());
    h->start();
    h->accept(message_record(kT0 + 299'000'000, peer, keepalive()));
    h->accept(message_record(kT0 + 300'000'000, peer, keepalive()));
    h->stop();
  }
  {
    Harness h(yaml_with_dir("{type: mrt, directory: X, preset: routeviews}", dir),
              "route-views.sydney");
    EXPECT_EQ(h->snapshot_interval(), std::chrono::hours(2));
    h->start();
    h->accept(message_record(kT0 + 899'000'000, peer, keepalive()));  // 04:29:59 -> 0415
    h->accept(message_record(kT0 + 900'000'000, peer, keepalive()));  // 04:30 -> 0430
    h->stop();
  }
  EXPECT_EQ(
      files_under(dir.path()),
      (std::vector<std::string>{
          "route-views.sydney/bgpdata/2026.12/UPDATES/updates.20261204.0415.bz2",
          "route-views.sydney/bgpdata/2026.12/UPDATES/updates.20261204.0430.bz2",
          "rrc99/2026.12/updates.20261204.0415.gz", "rrc99/2026.12/updates.20261204.0420.gz"}));
  EXPECT_EQ(read_mrt(dir.path() / "rrc99/2026.12/updates.20261204.0415.gz").compression,
            codec::mrt::Compression::Gzip);
  EXPECT_EQ(
      read_mrt(dir.path() / "route-views.sydney/bgpdata/2026.12/UPDATES/updates.20261204.0430.bz2")
          .compression,
      codec::mrt::Compression::Bzip2);

  // Overrides: ris names with bzip2 compression and a 1 h interval.
  auto o = options_from(
      "{type: mrt, directory: /d, preset: ris, compression: bzip2, "
      "updates_interval: 1h, rib_interval: 0}");
  EXPECT_EQ(o.updates_file, "{collector}/%Y.%m/updates.%Y%m%d.%H%M.bz2");
  EXPECT_EQ(o.rib_file, "{collector}/%Y.%m/bview.%Y%m%d.%H%M.bz2");
  EXPECT_EQ(o.updates_compression, codec::mrt::Compression::Bzip2);
  EXPECT_EQ(o.updates_interval, 3600);
  EXPECT_EQ(o.rib_interval, 0);
  EXPECT_TRUE(o.rib_enabled());
  // preset none: no RIB unless asked; compression from the names.
  o = options_from(
      "{type: mrt, directory: /d, preset: none, updates_file: a/u.%H%M.gz, "
      "updates_interval: 10m}");
  EXPECT_FALSE(o.rib_enabled());
  EXPECT_EQ(o.updates_compression, codec::mrt::Compression::Gzip);
  EXPECT_EQ(o.format, Format::Bgp4mpEt);
  EXPECT_EQ(o.flush_interval, std::chrono::milliseconds(1000));
  o = options_from("{type: mrt, directory: /d, rib_file: '', flush_interval: 250ms}");
  EXPECT_FALSE(o.rib_enabled());
  EXPECT_EQ(o.flush_interval, std::chrono::milliseconds(250));
  // Names: {collector} and UTC strftime; a '%' in a collector name stays literal.
  EXPECT_EQ(expand_template("/a", "{collector}/%Y.%m/x.%Y%m%d.%H%M.gz", "rrc%d", kT0 / 1'000'000),
            "/a/rrc%d/2026.12/x.20261204.0415.gz");
  EXPECT_EQ(with_tag("/a/updates.20261204.0415.gz", "1"), "/a/updates.20261204.0415.1.gz");
  EXPECT_EQ(with_tag("/a/u.0415", "1"), "/a/u.0415.1");
  EXPECT_EQ(partial_path("/a/u.gz"), "/a/.u.gz.partial");
  EXPECT_EQ(interval_start(1796357999, 300), 1796357700);
  EXPECT_EQ(interval_start(1796357700, 8 * 3600), 1796342400);  // 00:00 of that day
}

TEST(MrtExporter, PartialIsFlushedReadableAndRenamedAtTheEnd) {
  for (const char* ext : {".gz", ".bz2", ""}) {
    SCOPED_TRACE(ext);
    TempDir dir;
    Harness h(yaml_with_dir(std::string("{type: mrt, directory: X, preset: none, "
                                        "updates_interval: 5m, updates_file: 'u.%H%M") +
                                ext + "'}",
                            dir));
    h->start();
    auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
    for (int i = 0; i < 100; ++i) {
      h->accept(
          message_record(kT0 + i, peer, ipv4_update({24, 10, 0, static_cast<std::uint8_t>(i)})));
    }
    const fs::path partial = dir.path() / (std::string(".u.0415") + ext + ".partial");
    const fs::path final_path = dir.path() / (std::string("u.0415") + ext);
    h->flush(kT0 + 1'000'000);  // flush_interval passed: records reach the OS
    ASSERT_TRUE(fs::exists(partial));
    EXPECT_FALSE(fs::exists(final_path));
    auto got = read_mrt(partial);
    EXPECT_EQ(got.records.size(), 100U);  // readable while being written
    h->accept(message_record(kT0 + 200, peer, keepalive()));
    h->stop();
    EXPECT_FALSE(fs::exists(partial));
    got = read_mrt(final_path);
    EXPECT_TRUE(got.clean);
    EXPECT_EQ(got.records.size(), 101U);
  }
}

TEST(MrtExporter, FinishedNamesAreNeverReused) {
  TempDir dir;
  auto peer = make_peer("198.51.100.1", 65001, "198.51.100.2");
  for (int run = 0; run < 3; ++run) {
    Harness h(
        yaml_with_dir("{type: mrt, directory: X, preset: none, updates_interval: 5m, "
                      "updates_file: 'u.%H%M.gz'}",
                      dir));
    h->start();
    h->accept(message_record(kT0 + run, peer, keepalive()));
    h->stop();
  }
  EXPECT_EQ(files_under(dir.path()),
            (std::vector<std::string>{"u.0415.1.gz", "u.0415.2.gz", "u.0415.gz"}));
}

}  // namespace
}  // namespace bgpscribe::exporters::mrt::test
