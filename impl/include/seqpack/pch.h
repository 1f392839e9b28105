#pragma once
// Precompiled for every seqpack target: parsing LibTorch's headers dominates compile time.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
