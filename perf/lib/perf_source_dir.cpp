// The perf/ folder of the source tree this build came from, held by this one translation unit.
// Compiled into the code that joins it with a file name, the path's length changed that code's size,
// and so where every later function starts: two builds of one commit in two trees (the regression
// gate's head and base) differed by 48 bytes of code. Here only the data differs between trees.
#include "bench_support.h"

namespace seqpack::perf {

const char* perf_source_dir() { return SEQPACK_PERF_DIR; }

}  // namespace seqpack::perf
