// The collector daemon runs on the speaker library (speaker/, docs/speaker.md): the names it
// uses, in its own namespace, in one place.
#pragma once

#include "speaker/fsm.hpp"
#include "speaker/peer.hpp"
#include "speaker/peer_config.hpp"
#include "speaker/process.hpp"
#include "speaker/update.hpp"

namespace bgpscribe::collector {

using speaker::Direction;
using speaker::DynamicPeers;
using speaker::GracefulRestartEvent;
using speaker::Millis;
using speaker::NotificationInfo;
using speaker::Peer;
using speaker::PeerConfig;
using speaker::PeerError;
using speaker::Process;
using speaker::RawMessage;
using speaker::Route;
using speaker::State;
using speaker::SystemTime;
using speaker::TimerId;
using speaker::Update;
using speaker::UpdateBuilder;
namespace fsm = speaker::fsm;

}  // namespace bgpscribe::collector
