// safetensors_fuzz: the safetensors reader on arbitrary bytes. Every file seqpack reads (--in,
// --weights, the goldens) goes through parse_safetensors, and its header names sizes and offsets
// that a hostile file can set to anything: it must refuse with InvalidArgument, never overflow,
// over-read or allocate past the limits.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  seqpack::fuzz::init_process();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  seqpack::fuzz::expect_only_bad_input("safetensors_fuzz", [&] {
    seqpack::parse_safetensors(seqpack::fuzz::as_string(data, size), "fuzz input");
  });
  return 0;
}
