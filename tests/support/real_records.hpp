// Records made from a real MRT update file, for the tests of what carries records on (the
// Kafka exporter, the archiver): its UPDATEs from two peers taking turns, with session steps.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/file.hpp"
#include "tests/support/records.hpp"

namespace bgpscribe::tests {

// The first `updates` UPDATEs of `file` (BGP4MP_ET), from 198.51.100.7 (AS 64500) and
// 2001:db8::7 (AS 4200000001) in turn, with session steps before them, every `steps_every`
// UPDATEs (the first peer to OpenConfirm and back) and after them. Numbered from 1 as the
// journal numbers records; an UPDATE at base_us + 1 ms per UPDATE, a step at base_us + its
// number. Empty when the file cannot be read.
inline std::vector<exporters::Record> real_update_records(const std::string& file,
                                                          std::size_t updates, std::int64_t base_us,
                                                          std::size_t steps_every) {
  using exporters::SessionState;
  namespace mrt = codec::mrt;
  std::vector<exporters::Record> records;
  mrt::FileReader reader;
  if (!reader.open(file)) {
    return records;
  }
  const std::array peers{make_peer("198.51.100.7", 64500, "192.0.2.1", 64496, 1, 1),
                         make_peer("2001:db8::7", 4200000001U, "", 64496, 2, 2)};
  const auto step = [&](const exporters::PeerInfoPtr& peer, SessionState from, SessionState to) {
    records.push_back(state_record(0, peer, from, to, "test"));
  };
  for (const auto& p : peers) {
    step(p, SessionState::Idle, SessionState::Connect);
    step(p, SessionState::Connect, SessionState::OpenSent);
  }
  mrt::FileRecord rec;
  std::size_t taken = 0;
  while (taken < updates && reader.next(rec)) {
    if (rec.record.header.type != mrt::Type::Bgp4mpEt) {
      continue;
    }
    auto m = mrt::parse_bgp4mp_message(rec.record);
    if (!m) {
      continue;
    }
    records.push_back(message_record(base_us + static_cast<std::int64_t>(taken) * 1000,
                                     peers.at(taken % 2), {m->message.begin(), m->message.end()},
                                     m->as4()));
    ++taken;
    if (taken % steps_every == 0) {
      step(peers.at(0), SessionState::OpenSent, SessionState::OpenConfirm);
      step(peers.at(0), SessionState::OpenConfirm, SessionState::OpenSent);
    }
  }
  for (const auto& p : peers) {
    step(p, SessionState::OpenSent, SessionState::Idle);
  }
  for (std::size_t i = 0; i < records.size(); ++i) {
    records[i].seq = i + 1;
    if (records[i].time_us == 0) {
      records[i].time_us = base_us + static_cast<std::int64_t>(i);
    }
  }
  return records;
}

}  // namespace bgpscribe::tests
