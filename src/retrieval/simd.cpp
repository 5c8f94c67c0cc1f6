#include "retrieval/simd.h"

#include <cstring>

namespace nemori::retrieval_internal {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NEMORI_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NEMORI_CLONES
#endif

namespace {
typedef float Float8 __attribute__((vector_size(32)));
}  // namespace

// Multiply-adds 8 floats of a and b at offset `at` into accumulator `acc` (unaligned loads).
#define NEMORI_MADD8(acc, at)              \
  do {                                     \
    Float8 x_, y_;                         \
    std::memcpy(&x_, a + (at), sizeof x_); \
    std::memcpy(&y_, b + (at), sizeof y_); \
    acc += x_ * y_;                        \
  } while (0)

NEMORI_CLONES float dot_product(const float* a, const float* b, std::size_t n) {
  Float8 s0 = {}, s1 = {}, s2 = {}, s3 = {};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    NEMORI_MADD8(s0, i);
    NEMORI_MADD8(s1, i + 8);
    NEMORI_MADD8(s2, i + 16);
    NEMORI_MADD8(s3, i + 24);
  }
  for (; i + 8 <= n; i += 8) NEMORI_MADD8(s0, i);
  const Float8 s = (s0 + s1) + (s2 + s3);
  float total = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
  for (; i < n; ++i) total += a[i] * b[i];
  return total;
}

#undef NEMORI_MADD8

}  // namespace nemori::retrieval_internal
