#include "exporters/api/record.hpp"

#include <algorithm>

#include "exporters/api/rib_snapshot.hpp"

namespace bgpscribe::exporters {

SharedBytes::SharedBytes(std::span<const std::uint8_t> bytes) : size_(bytes.size()) {
  if (bytes.empty()) {
    return;
  }
  // One allocation, no zero-fill: the bytes are copied in right away.
  auto buffer = std::make_shared_for_overwrite<std::uint8_t[]>(bytes.size());
  std::copy(bytes.begin(), bytes.end(), buffer.get());
  data_ = std::move(buffer);
}

const char* to_string(SessionState s) {
  switch (s) {
    case SessionState::Idle:
      return "Idle";
    case SessionState::Connect:
      return "Connect";
    case SessionState::Active:
      return "Active";
    case SessionState::OpenSent:
      return "OpenSent";
    case SessionState::OpenConfirm:
      return "OpenConfirm";
    case SessionState::Established:
      return "Established";
  }
  return "?";
}

const char* to_string(RecordType t) {
  switch (t) {
    case RecordType::Message:
      return "message";
    case RecordType::StateChange:
      return "state-change";
    case RecordType::PeerUp:
      return "peer-up";
    case RecordType::PeerDown:
      return "peer-down";
    case RecordType::RibSnapshot:
      return "rib-snapshot";
    case RecordType::Start:
      return "start";
    case RecordType::StaleEnd:
      return "stale-end";
  }
  return "?";
}

std::uint8_t family_bit(codec::bgp::AfiSafi f) {
  for (std::size_t i = 0; i < std::size(kRecordFamilies); ++i) {
    if (kRecordFamilies[i] == f) {
      return static_cast<std::uint8_t>(1U << i);
    }
  }
  return 0;
}

bool RibPeer::add_path_for(codec::bgp::AfiSafi f) const {
  return std::find(add_path.begin(), add_path.end(), f) != add_path.end();
}

}  // namespace bgpscribe::exporters
