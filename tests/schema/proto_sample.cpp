// Writes the sample Event (sample_event.hpp) to stdout in the Protobuf wire format, for a reader
// in another language (proto_python.sh).
#include <cstdio>
#include <iostream>

#include "tests/schema/sample_event.hpp"

int main() {
  const auto bytes = bgpscribe::tests::sample_event().SerializeAsString();
  std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return std::cout ? 0 : 1;
}
