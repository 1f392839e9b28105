// The `seqpack` command; seqpack/cli.h says what it takes and how it exits.
#include <iostream>

#include "seqpack/cli.h"

int main(int argc, char** argv) { return seqpack::cli::run(argc, argv, std::cout, std::cerr); }
