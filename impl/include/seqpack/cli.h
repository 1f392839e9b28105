#pragma once
// The `seqpack` command as a function, so that the program, the tests and the fuzz target that
// drives the whole command in process run the same code.
//   seqpack eval OP --in IN.safetensors [--params P.json] [--weights W.safetensors] [--package M.pt2]
//                   [--backward] [--out OUT.safetensors] [--max-tensor-bytes N] [--max-tensor-elements N]
//                   [--max-file-bytes N]
//   seqpack ops
//   seqpack init MODEL [--params P] [--seed S] [--dtype float32|float64] --out W.safetensors
// Exit status: 0 done, 2 usage error, 3 bad input, 4 internal error, 5 out of memory (legal input
// larger than the process may allocate). Every error is one line on
// `err`; a failed call writes no output file and leaves an existing one as it was.
#include <ostream>

namespace seqpack::cli {

constexpr int kDone = 0;
constexpr int kUsage = 2;
constexpr int kBadInput = 3;
constexpr int kInternal = 4;
constexpr int kOutOfMemory = 5;

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace seqpack::cli
