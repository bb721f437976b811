// `bgpscribe dump` over the real BMP captures of the shared data set, checked against tshark's
// BMP dissector: each capture's TCP streams are reassembled (tests/support/pcap_streams) into
// files of concatenated BMP messages, dumped with --json, and the Route Monitoring messages, the
// announced and withdrawn prefixes per AFI/SAFI (and, for families the codec keeps raw, the NLRI
// blocks) counted on both sides must agree exactly (tshark's side: tshark_bmp_counts.py over
// tshark's PDML).
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <string>
#include <vector>

#include "codec/bgp/afi_safi.hpp"
#include "codec/bgp/text.hpp"
#include "tests/support/command.hpp"
#include "tests/support/pcap_streams.hpp"
#include "tests/support/temp_dir.hpp"

namespace bgpscribe::tests {
namespace {

const std::filesystem::path kData = BGPSCRIBE_SHARED_DATA;

// "rm", "announce AFI SAFI", "withdraw AFI SAFI" (prefixes of the unicast and multicast
// families) and "announce-blocks AFI SAFI", "withdraw-blocks AFI SAFI" (NLRI blocks of the
// families the codec keeps raw) to their counts.
using Counts = std::map<std::string, std::uint64_t>;

// The number of a family name as the JSON output spells it (codec/bgp/afi_safi.hpp), or the
// number itself.
std::string family_number(const std::string& name, bool afi) {
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
    return name;
  }
  for (unsigned v = 0; v < 65536; ++v) {
    const char* n =
        afi ? codec::bgp::to_string(static_cast<codec::bgp::Afi>(v))
            : (v < 256 ? codec::bgp::to_string(static_cast<codec::bgp::Safi>(v)) : nullptr);
    if (n != nullptr && name == n) {
      return std::to_string(v);
    }
  }
  return "?" + name;
}

// The value of member `key` in a JSON line of ours: a string without escapes, or a number.
std::string member(const std::string& line, const std::string& key) {
  const std::string k = "\"" + key + "\":";
  const auto at = line.find(k);
  if (at == std::string::npos) {
    return "";
  }
  std::size_t b = at + k.size();
  if (line[b] == '"') {
    const auto e = line.find('"', b + 1);
    return line.substr(b + 1, e - b - 1);
  }
  std::size_t e = b;
  while (e < line.size() && line[e] != ',' && line[e] != '}') {
    ++e;
  }
  return line.substr(b, e - b);
}

// tshark's view, through tshark_bmp_counts.py.
Counts tshark_counts(const std::filesystem::path& pcap, const std::set<std::uint16_t>& ports) {
  std::vector<std::string> args = {std::string(BGPSCRIBE_TSHARK_COUNTS), pcap.string()};
  for (auto p : ports) {
    args.push_back(std::to_string(p));
  }
  const auto r = run_command("python3", args);
  EXPECT_EQ(r.status, 0) << r.err;
  Counts c;
  for (const auto& line : lines_of(r.out)) {
    const auto space = line.rfind(' ');
    c[line.substr(0, space)] = std::stoull(line.substr(space + 1));
  }
  return c;
}

std::string to_text(const Counts& c) {
  std::string out;
  for (const auto& [k, v] : c) {
    out += k + " " + std::to_string(v) + "\n";
  }
  return out;
}

std::string test_name_of(const std::string& capture) {
  std::string name;
  for (char c : std::filesystem::relative(capture, "bmp-pcap").string()) {
    name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
  }
  return name;
}

class DumpBmpPcap : public testing::TestWithParam<std::string> {};

TEST_P(DumpBmpPcap, CountsAgreeWithTshark) {
  if (GetParam().empty()) {
    GTEST_SKIP() << "no BMP captures in " << (kData / "bmp-pcap").string();
  }
  if (!have_command("tshark") || !have_command("python3")) {
    GTEST_SKIP() << "tshark or python3 is not installed (Debian packages tshark, python3)";
  }
  const auto pcap = kData / GetParam();
  const Capture capture = read_tcp_streams(pcap);
  ASSERT_TRUE(capture.error.empty()) << capture.error;
  TempDir dir("bgpscribe-dump-bmp-pcap");
  std::set<std::uint16_t> ports;
  std::vector<std::string> files;
  for (const auto& s : capture.streams) {
    // The router's side: a stream that opens with a BMP common header (version 3).
    if (s.data.size() < 6 || s.data[0] != 3) {
      continue;
    }
    ports.insert(s.destination.port);
    // BGPSCRIBE_BMP_STREAMS=DIR keeps the streams (bench/results/dump-bmp-vs-tshark.md).
    const char* keep = std::getenv("BGPSCRIBE_BMP_STREAMS");
    const auto base = keep != nullptr ? std::filesystem::path(keep) : dir.path();
    const auto path =
        base / (test_name_of(GetParam()) + "-" + std::to_string(files.size()) + ".bmp");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(s.data.data()),
               static_cast<std::streamsize>(s.data.size()));
    files.push_back(path.string());
  }
  if (files.empty()) {
    GTEST_SKIP() << "no BMP version 3 stream (the draft version 4 is kept raw)";
  }

  Counts ours;
  for (const auto& f : files) {
    const auto r = run_command(std::string(BGPSCRIBE_BINARY) + " dump --json --summary " + f);
    if (r.status != 0) {
      // A capture that stops inside a message (202 traffic-02): that, and nothing else.
      EXPECT_EQ(r.status, 1) << f << ": " << r.err;
      EXPECT_NE(r.err.find("BMP stream ends inside a message"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(" records, 1 errors\n"), std::string::npos) << r.err;
    }
    for (const auto& line : lines_of(r.out)) {
      const std::string kind = member(line, "kind");
      if (kind == "announce" || kind == "withdraw") {
        // Families the codec keeps raw are one line per NLRI block (`nlri`, hex).
        const bool block = line.find("\"nlri\":") != std::string::npos;
        ++ours[kind + (block ? "-blocks " : " ") + family_number(member(line, "afi"), true) + " " +
               family_number(member(line, "safi"), false)];
      }
    }
    const auto at = r.err.find("route-monitoring ");
    ASSERT_NE(at, std::string::npos) << r.err;
    const auto rm = std::stoull(r.err.substr(at + 17));
    if (rm > 0) {
      ours["rm"] += rm;
    }
  }
  const Counts ref = tshark_counts(pcap, ports);
  EXPECT_EQ(to_text(ours), to_text(ref)) << "ours, then tshark's";
  EXPECT_GT(ours["rm"], 0U);
}

INSTANTIATE_TEST_SUITE_P(Captures, DumpBmpPcap,
                         testing::ValuesIn(shared_captures(kData, "bmp-pcap")),
                         [](const auto& p) { return capture_test_name(p.index, p.param); });

}  // namespace
}  // namespace bgpscribe::tests
