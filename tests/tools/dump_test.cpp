// End-to-end tests of `bgpscribe dump`: MRT files written with the codec, dumped by the real
// binary, and, where bgpdump is installed, compared with Debian's bgpdump on the same file.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "codec/bgp/update.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tests/support/command.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe {
namespace {

namespace bgp = codec::bgp;
namespace mrt = codec::mrt;
namespace fs = std::filesystem;

using Outcome = tests::CommandResult;
using tests::run_command;

std::string dump(const std::string& args) {
  return run_command(std::string(BGPSCRIBE_BINARY) + " dump " + args).out;
}

bool have_bgpdump() {
  return tests::have_command("bgpdump");
}

constexpr auto* lines = &tests::lines_of;

class DumpTest : public ::testing::Test {
 protected:
  std::string write_file(const std::string& name, const codec::wire::Writer& w,
                         mrt::Compression c = mrt::Compression::None) {
    const std::string path = (dir_ / name).string();
    mrt::FileWriter f;
    mrt::WriterOptions o;
    o.compression = c;
    EXPECT_TRUE(f.open(path, o));
    EXPECT_TRUE(f.write(w.bytes()));
    EXPECT_TRUE(f.close());
    return path;
  }

  tests::TempDir dir_{"bgpscribe-dump-test"};
};

mrt::Bgp4mpPeer peer_v4() {
  mrt::Bgp4mpPeer p;
  p.peer_as = 65001;
  p.local_as = 65000;
  p.peer_ip = *bgp::IpAddress::parse("192.0.2.1");
  p.local_ip = *bgp::IpAddress::parse("192.0.2.254");
  return p;
}

// An UPDATE of `count` IPv4 /24s in the NLRI field, encoded with the extended-message limit.
std::vector<std::uint8_t> big_update(std::size_t count) {
  bgp::UpdateMessage u;
  u.attributes.origin(bgp::Origin::Igp)
      .as_path({bgp::AsSegment{bgp::AsSegmentType::AsSequence, {65001, 64496}}})
      .next_hop(0xC0000201);
  for (std::size_t i = 0; i < count; ++i) {
    bgp::Prefix p;
    p.address = bgp::IpAddress::v4(static_cast<std::uint32_t>(0x0A000000 + (i << 8)));
    p.length = 24;
    u.nlri.push_back({p, 0});
  }
  codec::wire::Writer w;
  EXPECT_TRUE(u.encode(w, bgp::kMaxExtendedMessageSize));
  return w.take();
}

// bgpdump keeps only the first 8192 prefixes of one UPDATE; we print them all (README,
// "Differences from bgpdump"), and --strict-bgpdump reproduces the cap.
TEST_F(DumpTest, PrintsEveryPrefixPastBgpdumps8192Cap) {
  codec::wire::Writer w;
  mrt::Bgp4mpMessage m;
  m.subtype = mrt::Bgp4mpSubtype::MessageAs4;
  m.peer = peer_v4();
  const auto update = big_update(10000);
  m.message = update;
  ASSERT_TRUE(mrt::encode(m, mrt::Timestamp{1700000000, 0, false}, w));
  const auto path = write_file("big.mrt", w);

  const auto ours = lines(dump("-m " + path));
  ASSERT_EQ(ours.size(), 10000U);
  EXPECT_EQ(ours.front(),
            "BGP4MP|1700000000|A|192.0.2.1|65001|10.0.0.0/24|65001 64496|IGP|192.0.2.1|0|0||NAG||");
  EXPECT_EQ(ours.back().substr(0, 49), "BGP4MP|1700000000|A|192.0.2.1|65001|10.39.15.0/24");
  const auto strict = lines(dump("-m --strict-bgpdump " + path));
  EXPECT_EQ(strict.size(), 8192U);
  if (have_bgpdump()) {
    const auto ref = lines(run_command("bgpdump -m " + path).out);
    EXPECT_EQ(ref.size(), 8192U) << "bgpdump no longer caps at 8192: update the README";
    EXPECT_EQ(ref, strict);
    EXPECT_TRUE(std::equal(ref.begin(), ref.end(), ours.begin()));
  }
}

// RIB_GENERIC and the multicast RIB subtypes: bgpdump prints nothing, we print TABLE_DUMP2
// lines; the unicast record is printed identically by both.
TEST_F(DumpTest, PrintsRibGenericAndMulticastRibs) {
  codec::wire::Writer w;
  mrt::PeerIndexTable table;
  table.collector_bgp_id = 0x0A000001;
  table.peers.push_back(mrt::Peer::make(0xC0000201, *bgp::IpAddress::parse("192.0.2.1"), 65001));
  table.peers.push_back(
      mrt::Peer::make(0xC0000202, *bgp::IpAddress::parse("2001:db8::2"), 4200000000U));
  ASSERT_TRUE(mrt::encode(table, 1700000000, w));

  bgp::AttributeBuilder attrs;
  attrs.origin(bgp::Origin::Igp)
      .as_path({bgp::AsSegment{bgp::AsSegmentType::AsSequence, {65001, 4200000000U}}})
      .next_hop(0xC0000201)
      .communities(std::vector<std::uint32_t>{0xFDE80001});
  codec::wire::Writer aw;
  attrs.encode(aw);
  std::vector<mrt::RibEntry> entries(1);
  entries[0].peer_index = 0;
  entries[0].originated_time = 1699999999;
  entries[0].attributes = aw.bytes();
  const auto prefix = *bgp::Prefix::parse("198.51.100.0/24");
  ASSERT_TRUE(
      mrt::encode_rib(mrt::TableDumpV2Subtype::RibIpv4Unicast, 0, prefix, entries, 1700000000, w));
  ASSERT_TRUE(mrt::encode_rib(mrt::TableDumpV2Subtype::RibIpv4Multicast, 1, prefix, entries,
                              1700000000, w));
  // RIB_GENERIC for IPv4 unicast: AFI 1, SAFI 1, then the NLRI.
  codec::wire::Writer nlri;
  mrt::encode_prefix_nlri(*bgp::Prefix::parse("203.0.113.0/24"), nlri);
  codec::wire::Writer ew;
  ASSERT_TRUE(mrt::encode_rib_entries(entries, false, ew));
  mrt::Rib generic;
  generic.subtype = mrt::TableDumpV2Subtype::RibGeneric;
  generic.sequence_number = 2;
  generic.family = bgp::kIpv4Unicast;
  generic.nlri = nlri.bytes();
  generic.entry_count = 1;
  generic.entries = ew.bytes();
  ASSERT_TRUE(mrt::encode(generic, 1700000000, w));
  // bgpdump picks the decompressor by file name; we go by magic bytes.
  const auto path = write_file("rib.mrt.gz", w, mrt::Compression::Gzip);

  const auto ours = lines(dump("-m " + path));
  const std::string tail = "|65001 4200000000|IGP|192.0.2.1|0|0|65000:1|NAG||";
  ASSERT_EQ(ours.size(), 3U);
  EXPECT_EQ(ours[0], "TABLE_DUMP2|1700000000|B|192.0.2.1|65001|198.51.100.0/24" + tail);
  EXPECT_EQ(ours[1], "TABLE_DUMP2|1700000000|B|192.0.2.1|65001|198.51.100.0/24" + tail);
  EXPECT_EQ(ours[2], "TABLE_DUMP2|1700000000|B|192.0.2.1|65001|203.0.113.0/24" + tail);
  const auto strict = lines(dump("-m --strict-bgpdump " + path));
  ASSERT_EQ(strict.size(), 1U);
  EXPECT_EQ(strict[0], ours[0]);
  if (have_bgpdump()) {
    EXPECT_EQ(lines(run_command("bgpdump -m " + path).out), strict);
  }
  // JSON shows the family of every record.
  const auto json = lines(dump("--json " + path));
  ASSERT_EQ(json.size(), 4U);  // peer index + 3 routes
  EXPECT_NE(json[2].find("\"safi\":\"multicast\""), std::string::npos);
  EXPECT_NE(json[3].find("\"prefix\":\"203.0.113.0/24\""), std::string::npos);
  EXPECT_NE(json[3].find("\"communities\":[\"65000:1\"]"), std::string::npos);
}

// A malformed record in the middle: reported with file, record index and byte offset, skipped,
// counted; records around it are printed; the exit status is 1.
TEST_F(DumpTest, ReportsAndSkipsMalformedRecord) {
  codec::wire::Writer w;
  mrt::Bgp4mpStateChange s;
  s.peer = peer_v4();
  s.old_state = 1;
  s.new_state = 2;
  ASSERT_TRUE(mrt::encode(s, mrt::Timestamp{1700000000, 0, false}, w));
  const std::size_t bad_at = w.size();
  // A BGP4MP_MESSAGE_AS4 record whose body is too short for its peer fields.
  const std::array<std::uint8_t, 17> bad{0x65, 0x53, 0xf1, 0x00,  // timestamp
                                         0x00, 0x10,              // type BGP4MP
                                         0x00, 0x04,              // subtype MESSAGE_AS4
                                         0x00, 0x00, 0x00, 0x05,  // length 5
                                         0x00, 0x00, 0xfd, 0xe9, 0x00};
  w.bytes(bad);
  ASSERT_TRUE(mrt::encode(s, mrt::Timestamp{1700000001, 0, false}, w));
  const auto path = write_file("bad.mrt", w);

  const Outcome r = run_command(std::string(BGPSCRIBE_BINARY) + " dump -m " + path);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines(r.out).size(), 2U);
  // The record's offset, then the offending field's (the 16-byte header plus 4 bytes in).
  EXPECT_NE(r.err.find(path + ": record 1 at byte " + std::to_string(bad_at) + ": "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(byte " + std::to_string(bad_at + 16) + ")"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("3 records, 1 errors"), std::string::npos) << r.err;
}

// A file cut inside a record: everything before it is printed, the cut is reported.
TEST_F(DumpTest, ReportsTruncatedFile) {
  codec::wire::Writer w;
  mrt::Bgp4mpMessage m;
  m.subtype = mrt::Bgp4mpSubtype::MessageAs4;
  m.peer = peer_v4();
  const auto update = big_update(3);
  m.message = update;
  ASSERT_TRUE(mrt::encode(m, mrt::Timestamp{1700000000, 0, false}, w));
  const std::size_t whole = w.size();
  ASSERT_TRUE(mrt::encode(m, mrt::Timestamp{1700000001, 0, false}, w));
  codec::wire::Writer cut;
  cut.bytes(w.bytes().subspan(0, whole + 20));
  for (auto c : {mrt::Compression::None, mrt::Compression::Gzip, mrt::Compression::Bzip2}) {
    const auto path = write_file("cut.mrt", cut, c);
    const Outcome r = run_command(std::string(BGPSCRIBE_BINARY) + " dump -m " + path);
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(lines(r.out).size(), 3U);
    EXPECT_NE(r.err.find("record 1 at byte " + std::to_string(whole)), std::string::npos) << r.err;
  }
}

TEST_F(DumpTest, ReadsStdinAndRefusesMissingFile) {
  codec::wire::Writer w;
  mrt::Bgp4mpStateChange s;
  s.subtype = mrt::Bgp4mpSubtype::StateChangeAs4;
  s.peer = peer_v4();
  s.peer.peer_ip = *bgp::IpAddress::parse("2001:db8:0:1::1");
  s.peer.local_ip = *bgp::IpAddress::parse("2001:db8::ff");
  s.old_state = 6;
  s.new_state = 1;
  ASSERT_TRUE(mrt::encode(s, mrt::Timestamp{1700000000, 250, true}, w));
  const auto path = write_file("state.mrt.bz2", w, mrt::Compression::Bzip2);
  const Outcome r = run_command("cat " + path + " | " + BGPSCRIBE_BINARY + " dump -m -");
  EXPECT_EQ(r.status, 0);
  // bgpdump's IPv6 text compresses a single zero group too.
  EXPECT_EQ(r.out, "BGP4MP_ET|1700000000.000250|STATE|2001:db8:0:1::1|65001|6|1\n");
  const Outcome missing =
      run_command(std::string(BGPSCRIBE_BINARY) + " dump -m " + (dir_ / "nope").string());
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("nope"), std::string::npos);
}

// Garbage never crashes or hangs the tool: well-framed records of every type we print with
// random bodies, then random bytes, compressed and not.
TEST_F(DumpTest, SurvivesGarbage) {
  codec::wire::Writer w;
  std::uint32_t x = 12345;
  auto next = [&x] {
    x = x * 1103515245U + 12345U;
    return x >> 8;
  };
  const std::array<std::uint16_t, 5> types{5, 12, 13, 16, 17};
  for (int i = 0; i < 20000; ++i) {
    w.u32(1700000000);
    w.u16(types[next() % types.size()]);
    w.u16(static_cast<std::uint16_t>(next() % 13));
    const std::uint32_t len = next() % 300;
    w.u32(len);
    for (std::uint32_t j = 0; j < len; ++j) {
      w.u8(static_cast<std::uint8_t>(next()));
    }
  }
  for (int i = 0; i < 100000; ++i) {
    w.u8(static_cast<std::uint8_t>(next()));
  }
  for (auto c : {mrt::Compression::None, mrt::Compression::Gzip}) {
    const auto path = write_file("garbage", w, c);
    for (const char* mode : {"-m", "-M -l -u -p", "--json"}) {
      const Outcome r = run_command(std::string("timeout 120 ") + BGPSCRIBE_BINARY + " dump -q " +
                                    mode + " " + path + " >/dev/null; echo $?");
      EXPECT_EQ(r.out, "1\n") << mode;
    }
  }
}

// --- hand-made fixtures of damaged and legacy archives (tests/data/mrt, README there) ----------

std::string fixture(const std::string& name) {
  return std::string(BGPSCRIBE_TEST_DATA) + "/mrt/" + name;
}

Outcome dump_run(const std::string& args) {
  return run_command(std::string(BGPSCRIBE_BINARY) + " dump " + args);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++n;
  }
  return n;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> v;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) {
    v.push_back(field);
  }
  return v;
}

// "kind prefix [path id]" of every route line of -m / -M output.
std::multiset<std::string> text_routes(const std::string& out) {
  std::multiset<std::string> routes;
  for (const auto& line : lines(out)) {
    const auto f = split(line, '|');
    if (f.size() < 6 || (f[2] != "A" && f[2] != "W" && f[2] != "B")) {
      continue;
    }
    const bool ap = f[0].size() > 3 && f[0].substr(f[0].size() - 3) == "_AP";
    const std::string kind = f[2] == "A" ? "announce" : f[2] == "W" ? "withdraw" : "rib";
    routes.insert(kind + " " + f[5] + (ap && f.size() > 6 ? " " + f[6] : ""));
  }
  return routes;
}

// The value of a JSON member of one line (strings without quotes), "" when absent.
std::string json_member(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const auto at = line.find(key);
  if (at == std::string::npos) {
    return "";
  }
  const auto begin = at + key.size();
  if (line[begin] == '"') {
    return line.substr(begin + 1, line.find('"', begin + 1) - begin - 1);
  }
  return line.substr(begin, line.find_first_of(",}", begin) - begin);
}

std::multiset<std::string> json_routes(const std::string& out) {
  std::multiset<std::string> routes;
  for (const auto& line : lines(out)) {
    const std::string kind = json_member(line, "kind");
    const std::string prefix = json_member(line, "prefix");
    if ((kind == "announce" || kind == "withdraw" || kind == "rib") && !prefix.empty()) {
      const std::string path_id = json_member(line, "path_id");
      routes.insert(kind + " " + prefix + (path_id.empty() ? "" : " " + path_id));
    }
  }
  return routes;
}

// Issue 16.1: BIRD has written ADD-PATH NLRI (path id 1) under the plain BGP4MP_MESSAGE_AS4
// subtype. bgpdump reads the path id as prefix lengths (::/0 three times, then 3000::/1 ...);
// we read the NLRI with their path ids, say so, and print only prefixes that are there.
TEST_F(DumpTest, AddPathNlriUnderAPlainSubtypeAreDecodedWithAWarning) {
  const auto path = fixture("addpath-undeclared-bgp4mp.mrt");
  const Outcome m = dump_run("-m " + path);
  EXPECT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(text_routes(m.out),
            (std::multiset<std::string>{"announce 2001:db8:1::/48 1", "announce 2001:db8:2::/48 1",
                                        "announce 198.51.100.0/24 1", "announce 203.0.113.0/24"}))
      << m.out;
  EXPECT_FALSE(contains(m.out, "::/0")) << m.out;
  EXPECT_FALSE(contains(m.out, "0.0.0.0/0")) << m.out;
  EXPECT_EQ(occurrences(m.err, ": warning: NLRI parse only with ADD-PATH path identifiers"), 2U)
      << m.err;
  // Record 1 starts at byte 60; its NLRI fail as plain prefixes at byte 201.
  EXPECT_TRUE(contains(m.err, "record 1 at byte 60: warning: ")) << m.err;
  EXPECT_TRUE(contains(m.err, "(byte 201)")) << m.err;
  EXPECT_TRUE(contains(m.err, "4 records, 0 errors, 2 warnings")) << m.err;
  const Outcome json = dump_run("--json " + path);
  EXPECT_EQ(json.status, 0);
  EXPECT_EQ(json_routes(json.out), text_routes(m.out));
  EXPECT_EQ(json.err, m.err);
  // --strict-bgpdump reproduces bgpdump's misreading, and still warns.
  const Outcome strict = dump_run("-m --strict-bgpdump " + path);
  EXPECT_TRUE(contains(strict.err, "warning: NLRI parse only")) << strict.err;
  if (have_bgpdump()) {
    EXPECT_EQ(strict.out, run_command("bgpdump -m " + path).out);
  }

  // The same in a RIB: RIB_IPV6_UNICAST entries with path ids.
  const auto rib = fixture("addpath-undeclared-rib.mrt");
  const Outcome r = dump_run("-m " + rib);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(text_routes(r.out),
            (std::multiset<std::string>{"rib 2001:db8:1::/48 1", "rib 2001:db8:3::/48"}));
  EXPECT_TRUE(contains(r.err, "record 1 at byte 45: warning: RIB entries parse only with ADD-PATH"))
      << r.err;
  EXPECT_EQ(json_routes(dump_run("--json " + rib).out), text_routes(r.out));
}

// Issue 16.2: a type 5 UPDATE whose Withdrawn Routes Length overruns it is malformed: reported
// (at the length field) in every format, and no withdrawal is made up.
TEST_F(DumpTest, DeprecatedUpdateWithOverrunningWithdrawnLengthIsMalformed) {
  const auto path = fixture("type5-withdrawn-overrun.mrt");
  for (const char* mode : {"-m", "-M", "--json", "-m --strict-bgpdump"}) {
    const Outcome r = dump_run(std::string(mode) + " " + path);
    EXPECT_EQ(r.status, 1) << mode;
    EXPECT_TRUE(contains(r.err, path + ": record 2 at byte 74: Withdrawn Routes Length overruns "
                                       "the message (byte 98)"))
        << mode << ": " << r.err;
    EXPECT_FALSE(contains(r.out, "/0")) << mode << ": " << r.out;
  }
}

// Issue 16.7: one decision per record, then formatting. Every format prints the same routes,
// the same error and warning lines and exits with the same status on every fixture.
TEST_F(DumpTest, EveryFormatAgreesOnEveryFixture) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(std::string(BGPSCRIBE_TEST_DATA) + "/mrt")) {
    const auto name = entry.path().filename().string();
    if (name.find(".mrt") != std::string::npos) {
      files.push_back(entry.path().string());
    }
  }
  ASSERT_GE(files.size(), 8U);
  for (const auto& path : files) {
    const Outcome m = dump_run("-m " + path);
    const Outcome human = dump_run("-M " + path);
    const Outcome json = dump_run("--json " + path);
    const Outcome packet = dump_run("-m -p -l -u " + path);
    EXPECT_NE(m.status, 2) << path;
    for (const Outcome* other : {&human, &json, &packet}) {
      EXPECT_EQ(other->status, m.status) << path;
      EXPECT_EQ(other->err, m.err) << path;
    }
    EXPECT_EQ(text_routes(human.out), text_routes(m.out)) << path;
    EXPECT_EQ(json_routes(json.out), text_routes(m.out)) << path;
  }
}

// "kind prefix" of every route of --format ris-live lines (RIB entries are announcements there,
// and RIS Live has no path ids).
std::multiset<std::string> ris_routes(const std::string& out) {
  std::multiset<std::string> routes;
  for (const auto& line : lines(out)) {
    if (json_member(line, "type") != "ris_message") {
      continue;
    }
    const auto announcements = line.find("\"announcements\":[");
    const auto withdrawals = line.find("\"withdrawals\":[");
    if (announcements == std::string::npos || withdrawals == std::string::npos) {
      continue;
    }
    auto prefixes = [&](std::size_t from, std::size_t to, const char* kind) {
      for (auto at = line.find("\"prefixes\":[", from); at < to;
           at = line.find("\"prefixes\":[", at + 1)) {
        const auto end = line.find(']', at);
        for (const auto& p : split(line.substr(at + 12, end - at - 12), ',')) {
          if (p.size() > 2) {
            routes.insert(std::string(kind) + " " + p.substr(1, p.size() - 2));
          }
        }
      }
    };
    prefixes(announcements, withdrawals, "announce");
    const auto end = line.find(']', withdrawals);
    for (const auto& p : split(line.substr(withdrawals + 15, end - withdrawals - 15), ',')) {
      if (p.size() > 2) {
        routes.insert("withdraw " + p.substr(1, p.size() - 2));
      }
    }
  }
  return routes;
}

std::multiset<std::string> without_path_ids(const std::multiset<std::string>& routes) {
  std::multiset<std::string> v;
  for (const auto& r : routes) {
    const auto f = split(r, ' ');
    v.insert((f[0] == "rib" ? std::string("announce") : f[0]) + " " + f[1]);
  }
  return v;
}

// --format ris-live: RIS Live ris_message lines, following the same decisions as every other
// format (same reports, same exit status, the same prefixes).
TEST_F(DumpTest, RisLiveFormatAgreesWithTheOtherFormats) {
  const auto probe = dump_run("--format ris-live " + fixture("zebra-short-state-change.mrt"));
  if (probe.status > 1) {
    GTEST_SKIP() << "bgpscribe dump does not take --format yet (tools/main.cpp must pass it "
                    "to parse_dump_format): "
                 << probe.err;
  }
  for (const auto& entry : fs::directory_iterator(std::string(BGPSCRIBE_TEST_DATA) + "/mrt")) {
    const auto path = entry.path().string();
    if (path.find(".mrt") == std::string::npos) {
      continue;
    }
    const Outcome m = dump_run("-m " + path);
    const Outcome ris = dump_run("--format ris-live " + path);
    EXPECT_EQ(ris.status, m.status) << path;
    EXPECT_EQ(ris.err, m.err) << path;
    EXPECT_EQ(ris_routes(ris.out), without_path_ids(text_routes(m.out))) << path;
    for (const auto& line : lines(ris.out)) {
      EXPECT_EQ(line.rfind("{\"type\":\"ris_message\",\"data\":{\"timestamp\":", 0), 0U) << line;
    }
  }
}

// Issue 16.6: "(byte N)" counts from the start of the file, through the MRT and BGP4MP headers
// into the BGP message.
TEST_F(DumpTest, ErrorOffsetsCountFromTheStartOfTheFile) {
  const auto path = fixture("bgp4mp-malformed.mrt");
  const Outcome r = dump_run("-m " + path);
  EXPECT_EQ(r.status, 1);
  // Record 1 (86 bytes from byte 83): the NLRI field's last prefix, cut, starts at byte 166.
  EXPECT_TRUE(contains(r.err, "record 1 at byte 83: NLRI prefix overruns its block (byte 166)"))
      << r.err;
  // Record 2 (85 bytes from byte 169): prefix length 33 at byte 248.
  EXPECT_TRUE(contains(r.err,
                       "record 2 at byte 169: NLRI prefix length exceeds the address "
                       "family maximum (byte 248)"))
      << r.err;
  // Record 3: the next-hop length octet of MP_REACH_NLRI; record 4: the marker.
  EXPECT_TRUE(contains(r.err,
                       "record 3 at byte 254: MP_REACH_NLRI next-hop length invalid for "
                       "the family (byte 328)"))
      << r.err;
  EXPECT_TRUE(contains(r.err,
                       "record 4 at byte 342: BGP message marker is not all ones (byte "
                       "374)"))
      << r.err;
  EXPECT_EQ(lines(r.out).size(), 2U) << r.out;
}

// Issue 16.3: Zebra's 8-octet STATE_CHANGE records are STATE lines (as bgpdump prints them),
// so -p indexes do not shift.
TEST_F(DumpTest, ZebraShortStateChangesArePrinted) {
  const auto path = fixture("zebra-short-state-change.mrt");
  const Outcome r = dump_run("-m -p " + path);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines(r.out),
            (std::vector<std::string>{"BGP4MP|0|1700000000|STATE|0.0.0.0|65001|1|2",
                                      "BGP4MP|1|1700000000|STATE|0.0.0.0|65001|5|6",
                                      "BGP4MP|2|1700000000|A|192.0.2.1|65001|203.0.113.0/24|65001 "
                                      "64496|IGP|192.0.2.1|0|0||NAG||"}));
  if (have_bgpdump()) {
    EXPECT_EQ(r.out, run_command("bgpdump -m -p " + path).out);
  }
  const Outcome json = dump_run("--json " + path);
  EXPECT_EQ(json.status, 0);
  const auto j = lines(json.out);
  ASSERT_EQ(j.size(), 3U);
  EXPECT_EQ(json_member(j[0], "kind"), "state");
  EXPECT_EQ(json_member(j[0], "peer_as"), "65001");
  EXPECT_EQ(json_member(j[0], "new_state"), "Connect");
  EXPECT_FALSE(contains(j[0], "peer_ip")) << "the short form has no addresses";
}

// Issue 16.4: a TABLE_DUMP record holding several entries: every entry is printed; with
// --strict-bgpdump the first (as bgpdump) and a warning says the rest were left out.
TEST_F(DumpTest, EveryEntryOfATableDumpRecordIsPrinted) {
  const auto path = fixture("table-dump-several-entries.mrt");
  const Outcome r = dump_run("-m " + path);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(text_routes(r.out),
            (std::multiset<std::string>{"rib 198.51.100.0/24", "rib 198.51.100.0/24",
                                        "rib 203.0.113.0/24", "rib 192.0.2.0/24"}));
  EXPECT_EQ(json_routes(dump_run("--json " + path).out), text_routes(r.out));
  const Outcome strict = dump_run("-m --strict-bgpdump " + path);
  EXPECT_EQ(strict.status, 0);
  EXPECT_EQ(lines(strict.out).size(), 2U);
  EXPECT_TRUE(contains(strict.err,
                       "record 0 at byte 0: warning: several TABLE_DUMP entries in one "
                       "record: --strict-bgpdump prints the first"))
      << strict.err;
  if (have_bgpdump()) {
    EXPECT_EQ(strict.out, run_command("bgpdump -m " + path).out);
  }
}

// Issue 16.5: Zebra's BGP4MP_ENTRY records are well framed but not decoded: the same in every
// format (JSON `unsupported` lines, no text lines), one note on stderr, not an error.
TEST_F(DumpTest, Bgp4mpEntryRecordsAreUnsupportedInEveryFormat) {
  const auto path = fixture("bgp4mp-entry.mrt");
  const std::string note = path +
                           ": 3 records of unsupported types not decoded (the first is record 0, "
                           "BGP4MP BGP4MP_ENTRY)";
  const Outcome m = dump_run("-m " + path);
  EXPECT_EQ(m.status, 0);
  EXPECT_TRUE(contains(m.err, note)) << m.err;
  EXPECT_EQ(lines(m.out),
            (std::vector<std::string>{"BGP4MP|1700000000|STATE|192.0.2.1|65001|5|6"}));
  const Outcome json = dump_run("--json " + path);
  EXPECT_EQ(json.status, 0);
  EXPECT_EQ(json.err, m.err);
  EXPECT_EQ(occurrences(json.out,
                        "\"kind\":\"unsupported\",\"timestamp\":1700000000.000000,"
                        "\"mrt_type\":16,\"mrt_subtype\":2}"),
            3U)
      << json.out;
}

// Issue 16.8: a compressed file damaged from its first block decompresses into bytes that are
// not MRT before bzip2's block CRC fails: that is a decompression error, not an MRT length one.
TEST_F(DumpTest, CorruptFirstCompressedBlockIsADecompressionError) {
  const auto path = fixture("corrupt-first-block.mrt.bz2");
  for (const char* mode : {"-m", "--json"}) {
    const Outcome r = dump_run(std::string(mode) + " " + path);
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, path + ": record 0 at byte 0: bzip2 data corrupt")) << r.err;
    EXPECT_FALSE(contains(r.err, "MRT record length")) << r.err;
  }
}

}  // namespace
}  // namespace bgpscribe
