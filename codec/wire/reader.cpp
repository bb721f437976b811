#include "codec/wire/reader.hpp"

#include <cstdio>
#include <cstdlib>

namespace bgpscribe::codec::wire {

void load_out_of_bounds(std::size_t at, std::size_t width, std::size_t size) {
  std::fprintf(stderr,
               "bgpscribe: wire load of %zu bytes at offset %zu of a %zu-byte span is out of "
               "bounds\n",
               width, at, size);
  std::abort();
}

}  // namespace bgpscribe::codec::wire
