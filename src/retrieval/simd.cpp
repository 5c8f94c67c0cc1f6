#include "retrieval/simd.h"

#include <cstring>

namespace nemori::retrieval_internal {

namespace {

typedef float Float8 __attribute__((vector_size(32)));

// Multiply-adds 8 floats of a and b at offset `at` into accumulator `acc` (unaligned loads).
#define NEMORI_MADD8(acc, at)              \
  do {                                     \
    Float8 x_, y_;                         \
    std::memcpy(&x_, a + (at), sizeof x_); \
    std::memcpy(&y_, b + (at), sizeof y_); \
    acc += x_ * y_;                        \
  } while (0)

// The kernel, compiled once per instruction set by the wrappers below.
inline __attribute__((always_inline)) float dot_body(const float* a, const float* b,
                                                     std::size_t n) {
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

float dot_generic(const float* a, const float* b, std::size_t n) {
  return dot_body(a, b, n);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, std::size_t n) {
  return dot_body(a, b, n);
}
#endif

using DotFn = float (*)(const float*, const float*, std::size_t);

// Chosen once, on first use (a plain function pointer rather than an ifunc, which sanitizer
// run-times cannot handle).
DotFn pick() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return dot_avx2;
#endif
  return dot_generic;
}

}  // namespace

float dot_product(const float* a, const float* b, std::size_t n) {
  static const DotFn fn = pick();
  return fn(a, b, n);
}

}  // namespace nemori::retrieval_internal
