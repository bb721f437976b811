// Decoding any MRT record into its typed body: the one switch over (type, subtype).
//
// Unknown types and subtypes come back as Raw, never as errors; errors are for records of a
// known kind whose bytes break its layout. No I/O, no exceptions.
#pragma once

#include <variant>

#include "codec/mrt/bgp4mp.hpp"
#include "codec/mrt/record.hpp"
#include "codec/mrt/table_dump.hpp"

namespace bgpscribe::codec::mrt {

using Body = std::variant<Raw, TableDumpEntry, PeerIndexTable, Rib, Bgp4mpMessage,
                          Bgp4mpStateChange, BgpMessage, BgpStateChange>;

// RFC 6396 section 4 (and appendix B.2.1, RFC 8050): the typed view of a record.
Result<Body> parse_body(const Record& record);
// Writes any body back; `header` supplies the type, subtype and time for Raw bodies and the
// time for the others (encode(parse_body(r), r.header) reproduces r.bytes).
Status encode(const Body& body, const Header& header, wire::Writer& w);

}  // namespace bgpscribe::codec::mrt
