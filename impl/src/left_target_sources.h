#pragma once
// Where each row's data starts when it is moved to the left: the piece of alignment that fused
// align-and-pack needs, so that it reads the source batch directly instead of an aligned copy.
#include <ATen/ATen.h>

#include "seqpack/alignment.h"

namespace seqpack {

// (B,) int64 CPU: the first source step of each row (0 for left rows, T - L for right rows; auto
// guesses each row as the original does). sequences (B, T, *) batch-first; checked: the rows'
// lengths as checked_lengths returns them.
at::Tensor left_target_sources(const at::Tensor& sequences, const at::Tensor& checked, Source source);

}  // namespace seqpack
