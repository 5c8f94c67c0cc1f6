// Vectorised float kernels (internal).
#pragma once

#include <cstddef>

namespace nemori::retrieval_internal {

/// Dot product of two float arrays of length n. Uses 256-bit vectors (AVX2/FMA) when the CPU
/// has them and 128-bit SSE otherwise, chosen on first use.
float dot_product(const float* a, const float* b, std::size_t n);

}  // namespace nemori::retrieval_internal
