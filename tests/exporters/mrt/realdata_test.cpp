// Round trips of real BGP4MP records (../shared/data/mrt) through the exporter, and the
// produced files read by bgpdump and Debian's mrtparse.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "codec/mrt/bgp4mp.hpp"
#include "tests/exporters/mrt/test_util.hpp"
#include "tests/support/command.hpp"

namespace bgpscribe::exporters::mrt::test {
namespace {

using codec::mrt::Bgp4mpSubtype;
using codec::mrt::Type;

const fs::path kMrtData = fs::path(BGPSCRIBE_SHARED_DATA) / "mrt";

#define REQUIRE_DATA(rel)                                                               \
  const fs::path input = kMrtData / (rel);                                              \
  if (!fs::exists(input)) {                                                             \
    GTEST_SKIP() << "shared MRT data not found at " << input                            \
                 << " (see DESIGN.md, Real data); the round trip needs the real files"; \
  }

Bgp4mpSubtype without_add_path(Bgp4mpSubtype s) {
  switch (s) {
    case Bgp4mpSubtype::MessageAddpath:
      return Bgp4mpSubtype::Message;
    case Bgp4mpSubtype::MessageAs4Addpath:
      return Bgp4mpSubtype::MessageAs4;
    default:
      return s;
  }
}

struct RoundTrip {
  std::size_t inputs = 0;
  std::size_t identical = 0;  // output record byte-equal to the input record
  fs::path output;
};

// Turns every BGP4MP message and state-change record of `input` into a Record, runs one
// exporter (one file, no compression, the input's format) and compares what it wrote with what
// the codec encodes for the same values.
void round_trip(const fs::path& input, const TempDir& dir, RoundTrip& out) {
  const ReadResult in = read_mrt(input);
  ASSERT_FALSE(in.records.empty());
  const bool et = in.records[0].header.type == Type::Bgp4mpEt;
  Harness h("{type: mrt, directory: '" + dir.str() +
            "', preset: none, updates_interval: 0, updates_file: out.mrt" +
            (et ? "" : ", format: bgp4mp") + "}");
  h->start();
  std::vector<const ReadRecord*> used;
  std::vector<std::vector<std::uint8_t>> expected;
  for (const auto& rr : in.records) {
    const auto view = rr.view();
    if (view.header.type != Type::Bgp4mp && view.header.type != Type::Bgp4mpEt) {
      continue;
    }
    ASSERT_EQ(view.header.type == Type::Bgp4mpEt, et) << "mixed ET and non-ET input";
    const auto subtype = static_cast<Bgp4mpSubtype>(view.header.subtype);
    const std::int64_t t =
        std::int64_t{view.header.timestamp} * 1'000'000 + view.header.microseconds;
    codec::mrt::Timestamp ts = view.header.time();
    codec::mrt::Bgp4mpPeer mp;
    Record rec;
    if (codec::mrt::is_message(subtype) && !codec::mrt::is_local(subtype)) {
      auto m = codec::mrt::parse_bgp4mp_message(view);
      ASSERT_TRUE(m);
      mp = m->peer;
      rec.type = RecordType::Message;
      rec.message = SharedBytes(m->message);
      rec.context.four_octet_as = m->as4();
      rec.context.set_add_path_all(m->add_path());
      codec::mrt::Bgp4mpMessage want = *m;
      want.peer.interface_index = 0;
      // Only UPDATEs carry path ids: other messages of an ADD-PATH session get the plain form.
      const bool update = m->message.size() >= 19 && m->message[18] == 2;
      if (!update) {
        want.subtype = without_add_path(want.subtype);
      }
      codec::wire::Writer w;
      ASSERT_TRUE(codec::mrt::encode(want, ts, w));
      expected.push_back(w.take());
    } else if (codec::mrt::is_state_change(subtype)) {
      auto c = codec::mrt::parse_bgp4mp_state_change(view);
      ASSERT_TRUE(c);
      mp = c->peer;
      rec.type = RecordType::StateChange;
      rec.old_state = static_cast<SessionState>(c->old_state);
      rec.new_state = static_cast<SessionState>(c->new_state);
      codec::mrt::Bgp4mpStateChange want = *c;
      want.subtype = Bgp4mpSubtype::StateChangeAs4;
      want.peer.interface_index = 0;
      codec::wire::Writer w;
      ASSERT_TRUE(codec::mrt::encode(want, ts, w));
      expected.push_back(w.take());
    } else {
      continue;
    }
    auto peer = std::make_shared<PeerInfo>();
    peer->peer_address = mp.peer_ip;
    peer->local_address = mp.local_ip;
    peer->peer_as = mp.peer_as;
    peer->local_as = mp.local_as;
    rec.peer = peer;
    rec.time_us = t;
    h->accept(rec);
    used.push_back(&rr);
  }
  h->stop();
  out.inputs = used.size();
  const auto files = files_under(dir.path());
  ASSERT_EQ(files.size(), 1U);
  out.output = dir.path() / files[0];
  const ReadResult got = read_mrt(out.output);
  ASSERT_TRUE(got.clean) << got.error;
  ASSERT_EQ(got.records.size(), used.size());
  for (std::size_t i = 0; i < used.size(); ++i) {
    ASSERT_EQ(got.records[i].bytes, expected[i]) << "record " << i;
    out.identical += got.records[i].bytes == used[i]->bytes ? 1 : 0;
  }
}

TEST(MrtRealData, RisUpdatesWithTwoOctetAndAs4MessagesRoundTrip) {
  REQUIRE_DATA("bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz");
  TempDir dir;
  RoundTrip rt;
  round_trip(input, dir, rt);
  EXPECT_EQ(rt.inputs, 6615U);
  EXPECT_EQ(rt.identical, rt.inputs);  // every record byte for byte
}

TEST(MrtRealData, ExtendedTimestampsRoundTrip) {
  REQUIRE_DATA("bgpkit-parser/examples/local_only/updates.bz2");
  TempDir dir;
  RoundTrip rt;
  round_trip(input, dir, rt);
  EXPECT_EQ(rt.inputs, 85U);
  EXPECT_EQ(rt.identical, rt.inputs);
}

TEST(MrtRealData, AddPathMessagesRoundTrip) {
  REQUIRE_DATA("mrtparse/samples/bird-mrtdump_bgp");
  TempDir dir;
  RoundTrip rt;
  round_trip(input, dir, rt);
  EXPECT_GT(rt.inputs, 0U);
  // The UPDATEs keep MESSAGE_AS4_ADDPATH; BIRD also files OPEN/KEEPALIVE under _ADDPATH, which
  // we write plain (no NLRI, no path ids).
  const auto got = read_mrt(rt.output);
  std::size_t add_path = 0;
  for (const auto& r : got.records) {
    add_path += static_cast<Bgp4mpSubtype>(r.header.subtype) == Bgp4mpSubtype::MessageAs4Addpath;
  }
  EXPECT_GT(add_path, 0U);
}

TEST(MrtRealData, QuaggaMessagesOfManyFamiliesRoundTrip) {
  REQUIRE_DATA("mrtparse/samples/quagga_bgp");
  TempDir dir;
  RoundTrip rt;
  round_trip(input, dir, rt);
  EXPECT_GT(rt.inputs, 0U);
}

// --- other readers ------------------------------------------------------------------------------

using ToolRun = tests::CommandResult;

ToolRun run(const std::string& command) {
  ToolRun r = tests::run_command(command);
  // bgpdump logs "[info] logging to syslog" on every run: keep only the other lines.
  std::string err;
  for (const auto& line : tests::lines_of(r.err)) {
    if (line.find("[info]") == std::string::npos) {
      err += line + "\n";
    }
  }
  r.err = err;
  return r;
}

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

bool have(const char* check) {
  return std::system((std::string(check) + " >/dev/null 2>&1").c_str()) == 0;
}

TEST(MrtReaders, BgpdumpReadsOurUpdateFilesLikeTheOriginal) {
  if (!have("command -v bgpdump")) {
    GTEST_SKIP() << "bgpdump not installed (Debian package bgpdump)";
  }
  REQUIRE_DATA("bgpkit-parser/tests/fixtures/ripe/rrc15/2010.02/updates.20100227.1600.gz");
  TempDir dir;
  RoundTrip rt;
  round_trip(input, dir, rt);
  const ToolRun original = run("bgpdump -m '" + input.string() + "'");
  const ToolRun ours = run("bgpdump -m '" + rt.output.string() + "'");
  EXPECT_EQ(ours.status, 0);
  EXPECT_EQ(ours.err.find("rror"), std::string::npos) << ours.err;
  EXPECT_GT(lines(ours.out), 6615U);
  EXPECT_EQ(ours.out, original.out);
}

// Records of several kinds, written gzip/bzip2 in both formats, for the reader checks.
void write_sample_updates(const TempDir& dir, const std::string& file, const std::string& format) {
  Harness h("{type: mrt, directory: '" + dir.str() + "', preset: none, updates_interval: 0, " +
            "updates_file: '" + file + "', format: " + format + "}");
  h->start();
  auto peer4 = make_peer("198.51.100.1", 4200000000U, "198.51.100.2");
  auto peer6 = make_peer("2001:db8::2", 65002, "2001:db8::1");
  std::int64_t t = kT0;
  h->accept(state_record(t++, peer4, SessionState::OpenConfirm, SessionState::Established));
  h->accept(message_record(t++, peer4, keepalive()));
  h->accept(message_record(t++, peer4, ipv4_update({24, 192, 0, 2, 16, 10, 1}, {8, 11})));
  auto r = message_record(t++, peer4, ipv4_update({0, 0, 0, 5, 24, 192, 0, 2}));
  r.context.set_add_path(codec::bgp::kIpv4Unicast, true);
  h->accept(r);
  h->accept(message_record(t++, peer6, ipv6_update({32, 0x20, 0x01, 0x0d, 0xb8})));
  h->accept(message_record(t++, peer6, ipv6_end_of_rib()));
  h->accept(message_record(t++, peer4, ipv4_update({24, 198, 51, 100}, {}, 64500, false), false));
  h->stop();
}

std::shared_ptr<TestSnapshot> reader_snapshot() {
  auto s = std::make_shared<TestSnapshot>(kT0);
  using codec::bgp::kIpv4Unicast;
  using codec::bgp::kIpv6Unicast;
  const auto p0 = s->add_peer(make_peer("198.51.100.1", 4200000000U), {kIpv4Unicast});
  const auto p1 = s->add_peer(make_peer("2001:db8::2", 65002, "", 64496, 0x0A000002));
  s->add_route(kIpv4Unicast, "10.0.0.0/8", p0, 1, rib_attributes(4200000000U, false));
  s->add_route(kIpv4Unicast, "10.0.0.0/8", p0, 2, rib_attributes(4200000000U, false));
  s->add_route(kIpv4Unicast, "10.0.0.0/8", p1, 0, rib_attributes(65002, false));
  s->add_route(kIpv4Unicast, "192.0.2.0/24", p1, 0, rib_attributes(65002, false));
  s->add_route(kIpv6Unicast, "2001:db8:100::/40", p1, 0, rib_attributes(65002, true));
  s->add_route(kIpv6Unicast, "2001:db8:200::/48", p1, 0, rib_attributes(65002, true));
  return s;  // 6 routes for 4 prefixes, 5 RIB records
}

void write_sample_rib(const TempDir& dir, const std::string& file) {
  Harness h("{type: mrt, directory: '" + dir.str() +
            "', preset: none, updates_file: u, rib_file: '" + file + "'}");
  h->start();
  h->accept(snapshot_record(reader_snapshot()));
  h->stop();
}

TEST(MrtReaders, BgpdumpReadsUpdatesAndRibs) {
  if (!have("command -v bgpdump")) {
    GTEST_SKIP() << "bgpdump not installed (Debian package bgpdump)";
  }
  TempDir dir;
  write_sample_updates(dir, "u.gz", "bgp4mp_et");
  write_sample_updates(dir, "u.bz2", "bgp4mp");
  write_sample_rib(dir, "rib.gz");
  for (const char* f : {"u.gz", "u.bz2"}) {
    SCOPED_TRACE(f);
    const ToolRun r = run("bgpdump -m '" + (dir.path() / f).string() + "'");
    EXPECT_EQ(r.err, "");
    // STATE, A (2 prefixes), W (1), A (ADD-PATH), A (IPv6), A (2-octet): KEEPALIVE and the
    // End-of-RIB print nothing.
    EXPECT_EQ(lines(r.out), 7U) << r.out;
    EXPECT_NE(r.out.find("|A|198.51.100.1|4200000000|192.0.2.0/24|64500|IGP|192.0.2.254|"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("|W|198.51.100.1|4200000000|11.0.0.0/8"), std::string::npos);
    EXPECT_NE(r.out.find("|A|2001:db8::2|65002|2001:db8::/32|"), std::string::npos);
    EXPECT_NE(r.out.find("|STATE|198.51.100.1|4200000000|5|6"), std::string::npos);
    // The 2-octet message: AS_TRANS for the peer AS, the AS_PATH read with 2-octet ASNs.
    EXPECT_NE(r.out.find("|A|198.51.100.1|23456|198.51.100.0/24|64500|IGP|"), std::string::npos);
  }
  EXPECT_NE(run("bgpdump -m '" + (dir.path() / "u.gz").string() + "'").out.find("BGP4MP_ET|"),
            std::string::npos);
  const ToolRun rib = run("bgpdump -m '" + (dir.path() / "rib.gz").string() + "'");
  EXPECT_EQ(rib.err, "");
  EXPECT_EQ(lines(rib.out), 6U) << rib.out;
  EXPECT_NE(rib.out.find("TABLE_DUMP2_AP|"), std::string::npos) << rib.out;
  EXPECT_NE(rib.out.find("|2001:db8:200::/48|65002|IGP|2001:db8::1|"), std::string::npos)
      << rib.out;
}

TEST(MrtReaders, MrtparseReadsUpdatesAndRibs) {
  if (!have("/usr/bin/python3 -c 'import mrtparse'")) {
    GTEST_SKIP() << "Debian's python3-mrtparse not installed";
  }
  TempDir dir;
  write_sample_updates(dir, "u.bz2", "bgp4mp");  // mrtparse 1.6 cannot read BGP4MP_ET
  write_sample_rib(dir, "rib.gz");
  const std::string script =
      "import sys, mrtparse\n"
      "recs = errs = entries = 0\n"
      "for e in mrtparse.Reader(sys.argv[1]):\n"
      "    recs += 1\n"
      "    if e.mrt.err:\n"
      "        errs += 1; print(recs, e.mrt.type, e.mrt.subtype, e.mrt.err_msg, file=sys.stderr)\n"
      "    elif getattr(e.mrt, 'rib', None) is not None:\n"
      "        entries += len(e.mrt.rib.entry)\n"
      "print(recs, errs, entries)\n";
  { std::ofstream(dir.path() / "count.py") << script; }
  const std::string py = "/usr/bin/python3 '" + (dir.path() / "count.py").string() + "' ";
  const ToolRun u = run(py + "'" + (dir.path() / "u.bz2").string() + "'");
  EXPECT_EQ(u.status, 0) << u.err;
  EXPECT_EQ(u.err, "");
  EXPECT_EQ(u.out, "7 0 0\n");
  const ToolRun rib = run(py + "'" + (dir.path() / "rib.gz").string() + "'");
  EXPECT_EQ(rib.status, 0) << rib.err;
  EXPECT_EQ(rib.err, "");
  EXPECT_EQ(rib.out, "6 0 6\n");  // PEER_INDEX_TABLE + 5 RIB records, 6 entries
}

}  // namespace
}  // namespace bgpscribe::exporters::mrt::test
