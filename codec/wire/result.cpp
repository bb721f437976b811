#include "codec/wire/result.hpp"

namespace bgpscribe::codec {

const char* to_string(Reaction reaction) {
  switch (reaction) {
    case Reaction::None:
      return "none";
    case Reaction::AttributeDiscard:
      return "attribute-discard";
    case Reaction::TreatAsWithdraw:
      return "treat-as-withdraw";
    case Reaction::AfiSafiDisable:
      return "afi-safi-disable";
    case Reaction::SessionReset:
      return "session-reset";
  }
  return "unknown";
}

}  // namespace bgpscribe::codec
