// Writes an MRT file with our encoder and reads it back with two independent readers: bgpdump
// (`bgpdump -m -v`) and Debian's mrtparse 1.6. Both must see exactly the prefixes, AS paths,
// next hops and states we wrote. mrtparse 1.6 fails on BGP4MP_ET (a bug of that release, see
// DESIGN.md), so it gets a second file without that record.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "codec/bgp/ip.hpp"
#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "codec/mrt/table_dump.hpp"
#include "tests/support/bgp_bytes.hpp"
#include "tests/support/command.hpp"
#include "tests/support/files.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe::codec::mrt {
namespace {

namespace fs = std::filesystem;
using Buf = std::vector<std::uint8_t>;

constexpr auto* ip = &tests::address;
using tests::update_message;

// --- hand-built BGP path attributes and UPDATEs (RFC 4271 section 4.3, RFC 4760) ------------

void put16(Buf& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void put32(Buf& b, std::uint32_t v) {
  put16(b, v >> 16);
  put16(b, v & 0xFFFF);
}
void attr(Buf& b, std::uint8_t flags, std::uint8_t type, const Buf& value) {
  b.push_back(flags);
  b.push_back(type);
  b.push_back(static_cast<std::uint8_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
}
Buf origin_igp() {
  Buf b;
  attr(b, 0x40, 1, {0});
  return b;
}
// AS_PATH with one AS_SEQUENCE of 4-octet ASNs.
Buf as_path(const std::vector<std::uint32_t>& asns) {
  Buf v = {2, static_cast<std::uint8_t>(asns.size())};
  for (auto a : asns) {
    put32(v, a);
  }
  Buf b;
  attr(b, 0x40, 2, v);
  return b;
}
Buf next_hop(const char* addr) {
  const auto a = ip(addr);
  Buf b;
  attr(b, 0x40, 3, Buf(a.bytes.begin(), a.bytes.begin() + 4));
  return b;
}
Buf med(std::uint32_t v) {
  Buf value;
  put32(value, v);
  Buf b;
  attr(b, 0x80, 4, value);
  return b;
}
Buf communities(const std::vector<std::pair<std::uint16_t, std::uint16_t>>& cs) {
  Buf value;
  for (auto [asn, v] : cs) {
    put16(value, asn);
    put16(value, v);
  }
  Buf b;
  attr(b, 0xc0, 8, value);
  return b;
}
void prefix_nlri(Buf& b, const char* text, std::uint32_t path_id = 0, bool add_path = false) {
  const auto p = *bgp::Prefix::parse(text);
  if (add_path) {
    put32(b, path_id);
  }
  b.push_back(p.length);
  b.insert(b.end(), p.address.bytes.begin(), p.address.bytes.begin() + (p.length + 7) / 8);
}
// MP_REACH_NLRI for IPv6 unicast, full form (BGP4MP) or abbreviated (TABLE_DUMP_V2).
Buf mp_reach_v6(const char* nh, const std::vector<const char*>& prefixes, bool abbreviated) {
  const auto a = ip(nh);
  Buf v;
  if (!abbreviated) {
    put16(v, 2);
    v.push_back(1);
  }
  v.push_back(16);
  v.insert(v.end(), a.bytes.begin(), a.bytes.end());
  if (!abbreviated) {
    v.push_back(0);
    for (const char* p : prefixes) {
      prefix_nlri(v, p);
    }
  }
  Buf b;
  attr(b, 0x80, 14, v);
  return b;
}
Buf cat(std::initializer_list<Buf> parts) {
  Buf b;
  for (const auto& p : parts) {
    b.insert(b.end(), p.begin(), p.end());
  }
  return b;
}
// --- the file ---------------------------------------------------------------------------------

constexpr std::uint32_t kTime = 1700000000;

struct Files {
  fs::path all;    // every record
  fs::path no_et;  // without BGP4MP_ET, for mrtparse 1.6
};

void check(const Status& st) {
  ASSERT_TRUE(st) << st.error().message;
}
// Encodes one record into its own fresh writer.
template <class Encode>
void check_into(wire::Writer& w, Encode encode_fn) {
  check(encode_fn(w));
}

Files write_files(const fs::path& dir) {
  // Attribute blocks as a RIB stores them (4-octet AS_PATH, abbreviated MP_REACH).
  const Buf rib_v4_a = cat({origin_igp(), as_path({64496, 65551, 4200000000U}),
                            next_hop("192.0.2.1"), med(100), communities({{64496, 100}})});
  const Buf rib_v4_b = cat({origin_igp(), as_path({65551, 174}), next_hop("192.0.2.3")});
  const Buf rib_v6 =
      cat({origin_igp(), as_path({4200000000U, 6939}), mp_reach_v6("2001:db8::1", {}, true)});

  std::vector<wire::Writer> records;
  // Each record gets its own writer, so the file without the last one is easy to make.
  auto record = [&records]() -> wire::Writer& { return records.emplace_back(); };

  PeerIndexTable table;
  table.collector_bgp_id = ip("192.0.2.254").v4_host_order();
  table.view_name = "bgpscribe";
  table.peers.push_back(Peer::make(ip("192.0.2.1").v4_host_order(), ip("192.0.2.1"), 64496));
  table.peers.push_back(
      Peer::make(ip("192.0.2.2").v4_host_order(), ip("2001:db8::1"), 4200000000U));
  table.peers.push_back(Peer::make(ip("192.0.2.3").v4_host_order(), ip("192.0.2.3"), 65551));
  check_into(record(), [&](wire::Writer& out) { return encode(table, kTime, out); });

  const std::vector<RibEntry> v4_entries = {{0, kTime - 100, 0, rib_v4_a},
                                            {2, kTime - 200, 0, rib_v4_b}};
  check_into(record(), [&](wire::Writer& out) {
    return encode_rib(TableDumpV2Subtype::RibIpv4Unicast, 0, *bgp::Prefix::parse("198.51.100.0/24"),
                      v4_entries, kTime, out);
  });
  const std::vector<RibEntry> v6_entries = {{1, kTime - 300, 0, rib_v6}};
  check_into(record(), [&](wire::Writer& out) {
    return encode_rib(TableDumpV2Subtype::RibIpv6Unicast, 1,
                      *bgp::Prefix::parse("2001:db8:10::/48"), v6_entries, kTime, out);
  });
  const std::vector<RibEntry> ap_entries = {{0, kTime - 100, 1, rib_v4_a},
                                            {2, kTime - 200, 2, rib_v4_b}};
  check_into(record(), [&](wire::Writer& out) {
    return encode_rib(TableDumpV2Subtype::RibIpv4UnicastAddpath, 2,
                      *bgp::Prefix::parse("203.0.113.0/25"), ap_entries, kTime, out);
  });
  const std::vector<RibEntry> ap6_entries = {{1, kTime - 300, 7, rib_v6}};
  check_into(record(), [&](wire::Writer& out) {
    return encode_rib(TableDumpV2Subtype::RibIpv6UnicastAddpath, 3,
                      *bgp::Prefix::parse("2001:db8:20::/48"), ap6_entries, kTime, out);
  });

  const Bgp4mpPeer v4_peer{64496, 65000, 0, ip("192.0.2.1"), ip("192.0.2.100")};
  const Bgp4mpPeer v6_peer{4200000000U, 65000, 0, ip("2001:db8::1"), ip("2001:db8::100")};

  Bgp4mpStateChange change;
  change.subtype = Bgp4mpSubtype::StateChangeAs4;
  change.peer = v4_peer;
  change.old_state = static_cast<std::uint16_t>(BgpState::OpenConfirm);
  change.new_state = static_cast<std::uint16_t>(BgpState::Established);
  check_into(record(), [&](wire::Writer& out) {
    return encode(change, Timestamp{kTime + 1, 0, false}, out);
  });

  Buf nlri;
  prefix_nlri(nlri, "198.51.100.0/24");
  prefix_nlri(nlri, "203.0.113.0/25");
  const Buf upd_v4 = update_message({}, rib_v4_a, nlri);
  Bgp4mpMessage m;
  m.subtype = Bgp4mpSubtype::MessageAs4;
  m.peer = v4_peer;
  m.message = upd_v4;
  check_into(record(), [&](wire::Writer& out) {
    return encode(m, Timestamp{kTime + 2, 0, false}, out);
  });

  Buf withdrawn;
  prefix_nlri(withdrawn, "192.0.2.128/25");
  const Buf upd_withdraw = update_message(withdrawn, {}, {});
  m.message = upd_withdraw;
  check_into(record(), [&](wire::Writer& out) {
    return encode(m, Timestamp{kTime + 3, 0, false}, out);
  });

  const Buf upd_v6 = update_message(
      {},
      cat({origin_igp(), as_path({4200000000U, 6939}), med(5),
           mp_reach_v6("2001:db8::1", {"2001:db8:10::/48", "2001:db8:30::/44"}, false)}),
      {});
  Bgp4mpMessage m6;
  m6.subtype = Bgp4mpSubtype::MessageAs4;
  m6.peer = v6_peer;
  m6.message = upd_v6;
  check_into(record(), [&](wire::Writer& out) {
    return encode(m6, Timestamp{kTime + 4, 0, false}, out);
  });

  Buf ap_nlri;
  prefix_nlri(ap_nlri, "198.51.100.0/24", 11, true);
  prefix_nlri(ap_nlri, "198.51.100.0/24", 12, true);
  const Buf upd_ap = update_message({}, rib_v4_b, ap_nlri);
  Bgp4mpMessage ap;
  ap.subtype = Bgp4mpSubtype::MessageAs4Addpath;
  ap.peer = {65551, 65000, 0, ip("192.0.2.3"), ip("192.0.2.100")};
  ap.message = upd_ap;
  check_into(record(), [&](wire::Writer& out) {
    return encode(ap, Timestamp{kTime + 5, 0, false}, out);
  });

  // The last record is BGP4MP_ET: the no_et file is everything before it.
  Buf et_nlri;
  prefix_nlri(et_nlri, "203.0.113.128/25");
  const Buf upd_et = update_message({}, rib_v4_a, et_nlri);
  m.message = upd_et;
  check_into(record(), [&](wire::Writer& out) {
    return encode(m, Timestamp{kTime + 6, 123456, true}, out);
  });

  Files files{dir / "readback.mrt", dir / "readback-no-et.mrt"};
  for (const auto& [path, count] :
       {std::pair{files.all, records.size()}, std::pair{files.no_et, records.size() - 1}}) {
    FileWriter out;
    EXPECT_TRUE(out.open(path.string()));
    for (std::size_t i = 0; i < count; ++i) {
      EXPECT_TRUE(out.write(records[i].bytes()));
    }
    EXPECT_TRUE(out.close());
  }
  return files;
}

class MrtReadback : public ::testing::Test {
 protected:
  void SetUp() override { files_ = write_files(dir_.path()); }
  tests::TempDir dir_{"bgpscribe-readback"};
  Files files_;
};

TEST_F(MrtReadback, BgpdumpReadsEveryRecordBack) {
  if (std::system("command -v bgpdump > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "bgpdump not installed (Debian package bgpdump)";
  }
  const fs::path err = dir_ / "bgpdump.stderr";
  const std::string out =
      tests::run_command("bgpdump -m -v '" + files_.all.string() + "' 2> '" + err.string() + "'")
          .out;
  const std::string expected =
      "TABLE_DUMP2|1700000000|B|192.0.2.1|64496|198.51.100.0/24|64496 65551 4200000000|IGP|"
      "192.0.2.1|0|100|64496:100|NAG||\n"
      "TABLE_DUMP2|1700000000|B|192.0.2.3|65551|198.51.100.0/24|65551 174|IGP|192.0.2.3|0|0||"
      "NAG||\n"
      "TABLE_DUMP2|1700000000|B|2001:db8::1|4200000000|2001:db8:10::/48|4200000000 6939|IGP|"
      "2001:db8::1|0|0||NAG||\n"
      "TABLE_DUMP2_AP|1700000000|B|192.0.2.1|64496|203.0.113.0/25|1|64496 65551 4200000000|IGP|"
      "192.0.2.1|0|100|64496:100|NAG||\n"
      "TABLE_DUMP2_AP|1700000000|B|192.0.2.3|65551|203.0.113.0/25|2|65551 174|IGP|192.0.2.3|0|"
      "0||NAG||\n"
      "TABLE_DUMP2_AP|1700000000|B|2001:db8::1|4200000000|2001:db8:20::/48|7|4200000000 6939|"
      "IGP|2001:db8::1|0|0||NAG||\n"
      "BGP4MP|1700000001|STATE|192.0.2.1|64496|5|6\n"
      "BGP4MP|1700000002|A|192.0.2.1|64496|198.51.100.0/24|64496 65551 4200000000|IGP|"
      "192.0.2.1|0|100|64496:100|NAG||\n"
      "BGP4MP|1700000002|A|192.0.2.1|64496|203.0.113.0/25|64496 65551 4200000000|IGP|192.0.2.1|"
      "0|100|64496:100|NAG||\n"
      "BGP4MP|1700000003|W|192.0.2.1|64496|192.0.2.128/25\n"
      "BGP4MP|1700000004|A|2001:db8::1|4200000000|2001:db8:10::/48|4200000000 6939|IGP|"
      "2001:db8::1|0|5||NAG||\n"
      "BGP4MP|1700000004|A|2001:db8::1|4200000000|2001:db8:30::/44|4200000000 6939|IGP|"
      "2001:db8::1|0|5||NAG||\n"
      "BGP4MP_AP|1700000005|A|192.0.2.3|65551|198.51.100.0/24|11|65551 174|IGP|192.0.2.3|0|0||"
      "NAG||\n"
      "BGP4MP_AP|1700000005|A|192.0.2.3|65551|198.51.100.0/24|12|65551 174|IGP|192.0.2.3|0|0||"
      "NAG||\n"
      "BGP4MP_ET|1700000006.123456|A|192.0.2.1|64496|203.0.113.128/25|64496 65551 4200000000|"
      "IGP|192.0.2.1|0|100|64496:100|NAG||\n";
  EXPECT_EQ(out, expected);
  // bgpdump exits 0 even when it reports problems: its log must hold none.
  const std::string log = tests::read_file(err);
  EXPECT_EQ(log.find("[error]"), std::string::npos) << log;
  EXPECT_EQ(log.find("[warn]"), std::string::npos) << log;
}

// Prints what mrtparse decoded, one normalised line per peer, RIB entry, message and state.
constexpr const char* kMrtparseScript = R"PY(
import sys
from mrtparse import *

def path(attrs):
    for a in attrs:
        if a.type == BGP_ATTR_T['AS_PATH']:
            return ' '.join(' '.join(str(x) for x in seg['val']) for seg in a.as_path)
    return ''

def hops(attrs):
    out = []
    for a in attrs:
        if a.type == BGP_ATTR_T['NEXT_HOP']:
            out.append(a.next_hop)
        if a.type == BGP_ATTR_T['MP_REACH_NLRI']:
            out.extend(a.mp_reach['next_hop'])
    return ','.join(out)

def reach(attrs):
    for a in attrs:
        if a.type == BGP_ATTR_T['MP_REACH_NLRI'] and 'nlri' in a.mp_reach:
            return a.mp_reach['nlri']
    return []

def nlri(ns):
    return ','.join('%s/%d%s' % (n.prefix, n.plen, '#%d' % n.path_id if n.path_id is not None else '') for n in ns)

for m in Reader(sys.argv[1]):
    r = m.mrt
    if r.err:
        print('ERROR|%s' % r.err_msg)
        continue
    if r.type == MRT_T['TABLE_DUMP_V2'] and r.subtype == TD_V2_ST['PEER_INDEX_TABLE']:
        for i, p in enumerate(r.peer.entry):
            print('PEER|%d|%s|%s' % (i, p.ip, p.asn))
    elif r.type == MRT_T['TABLE_DUMP_V2']:
        for e in r.rib.entry:
            print('RIB|%s|%s/%d|%d|%s|%s|%s' % (TD_V2_ST[r.subtype], r.rib.prefix, r.rib.plen,
                  e.peer_index, e.path_id, path(e.attr), hops(e.attr)))
    elif r.subtype in (BGP4MP_ST['BGP4MP_STATE_CHANGE'], BGP4MP_ST['BGP4MP_STATE_CHANGE_AS4']):
        print('STATE|%s|%s|%s|%s' % (r.bgp.peer_ip, r.bgp.peer_as, r.bgp.old_state, r.bgp.new_state))
    else:
        msg = r.bgp.msg
        print('MSG|%s|%s|%s|+%s|-%s|%s|%s' % (BGP4MP_ST[r.subtype], r.bgp.peer_ip, r.bgp.peer_as,
              nlri(list(msg.nlri) + list(reach(msg.attr))), nlri(msg.withdrawn), path(msg.attr),
              hops(msg.attr)))
)PY";

TEST_F(MrtReadback, MrtparseReadsEveryRecordBack) {
  if (std::system("/usr/bin/python3 -c 'import mrtparse' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "Debian's mrtparse not installed (package python3-mrtparse)";
  }
  const fs::path script = dir_ / "readback.py";
  {
    std::ofstream s(script);
    s << kMrtparseScript;
  }
  const std::string out = tests::run_command("/usr/bin/python3 '" + script.string() + "' '" +
                                             files_.no_et.string() + "' 2>&1")
                              .out;
  const std::string expected =
      "PEER|0|192.0.2.1|64496\n"
      "PEER|1|2001:db8::1|4200000000\n"
      "PEER|2|192.0.2.3|65551\n"
      "RIB|RIB_IPV4_UNICAST|198.51.100.0/24|0|None|64496 65551 4200000000|192.0.2.1\n"
      "RIB|RIB_IPV4_UNICAST|198.51.100.0/24|2|None|65551 174|192.0.2.3\n"
      "RIB|RIB_IPV6_UNICAST|2001:db8:10::/48|1|None|4200000000 6939|2001:db8::1\n"
      "RIB|RIB_IPV4_UNICAST_ADDPATH|203.0.113.0/25|0|1|64496 65551 4200000000|192.0.2.1\n"
      "RIB|RIB_IPV4_UNICAST_ADDPATH|203.0.113.0/25|2|2|65551 174|192.0.2.3\n"
      "RIB|RIB_IPV6_UNICAST_ADDPATH|2001:db8:20::/48|1|7|4200000000 6939|2001:db8::1\n"
      "STATE|192.0.2.1|64496|5|6\n"
      "MSG|BGP4MP_MESSAGE_AS4|192.0.2.1|64496|+198.51.100.0/24,203.0.113.0/25|-|"
      "64496 65551 4200000000|192.0.2.1\n"
      "MSG|BGP4MP_MESSAGE_AS4|192.0.2.1|64496|+|-192.0.2.128/25||\n"
      "MSG|BGP4MP_MESSAGE_AS4|2001:db8::1|4200000000|+2001:db8:10::/48,2001:db8:30::/44|-|"
      "4200000000 6939|2001:db8::1\n"
      "MSG|BGP4MP_MESSAGE_AS4_ADDPATH|192.0.2.3|65551|+198.51.100.0/24#11,198.51.100.0/24#12|-|"
      "65551 174|192.0.2.3\n";
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace bgpscribe::codec::mrt
