// Vectorised kernels (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nemori::retrieval_internal {

/// Dot product of two float arrays of length n. Uses 256-bit vectors (AVX2/FMA) when the CPU
/// has them and 128-bit SSE otherwise, chosen on first use.
float dot_product(const float* a, const float* b, std::size_t n);

/// Batched dot products of one signed 8-bit query against unsigned 8-bit codes (int8 values
/// stored with +128, so 1..255 for -127..127): for each i < count,
///   out[i] = sum_j codes[slots[i] * n + j] * query[j]      (exact, in 32-bit integers)
/// The caller subtracts 128 * sum(query). `query16` is the same query widened to int16 (used by
/// the AVX2 kernel). Kernels: AVX-512 VNNI, AVX-512BW, AVX2, generic; chosen on first use.
void dot_u8s8_batch(const std::int8_t* query, const std::int16_t* query16,
                    const std::uint8_t* codes, std::size_t n, const std::uint32_t* slots,
                    std::size_t count, std::int32_t* out);

/// One implementation of dot_u8s8_batch, for tests.
struct U8S8Kernel {
  std::string name;
  void (*fn)(const std::int8_t*, const std::int16_t*, const std::uint8_t*, std::size_t,
             const std::uint32_t*, std::size_t, std::int32_t*);
};
/// The implementations this CPU can run (generic first).
std::vector<U8S8Kernel> available_u8s8_kernels();

}  // namespace nemori::retrieval_internal
