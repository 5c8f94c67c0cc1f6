#include "retrieval/simd.h"

#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NEMORI_X86 1
#endif

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

// ---------------------------------------------------------------------------------------------
// Unsigned 8-bit codes times a signed 8-bit query, exact in int32.

using U8S8Fn = void (*)(const std::int8_t*, const std::int16_t*, const std::uint8_t*, std::size_t,
                        const std::uint32_t*, std::size_t, std::int32_t*);

void u8s8_generic(const std::int8_t* q, const std::int16_t*, const std::uint8_t* codes,
                  std::size_t n, const std::uint32_t* slots, std::size_t count, std::int32_t* out) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* v = codes + static_cast<std::size_t>(slots[i]) * n;
    std::int32_t total = 0;
    for (std::size_t j = 0; j < n; ++j) total += static_cast<std::int32_t>(v[j]) * q[j];
    out[i] = total;
  }
}

#ifdef NEMORI_X86
// Prefetches the codes of the vector kAhead places further on (the slots need not be
// consecutive, which defeats the hardware prefetcher at filter gaps).
constexpr std::size_t kAhead = 8;
inline void prefetch_ahead(const std::uint8_t* codes, std::size_t n, const std::uint32_t* slots,
                           std::size_t i, std::size_t count) {
  if (i + kAhead >= count) return;
  const char* p =
      reinterpret_cast<const char*>(codes + static_cast<std::size_t>(slots[i + kAhead]) * n);
  for (std::size_t off = 0; off < n; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

__attribute__((target("avx2"))) void u8s8_avx2(const std::int8_t* q, const std::int16_t* q16,
                                               const std::uint8_t* codes, std::size_t n,
                                               const std::uint32_t* slots, std::size_t count,
                                               std::int32_t* out) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* v = codes + static_cast<std::size_t>(slots[i]) * n;
    prefetch_ahead(codes, n, slots, i, count);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    std::size_t j = 0;
    for (; j + 32 <= n; j += 32) {
      const __m256i v0 =
          _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + j)));
      const __m256i v1 =
          _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + j + 16)));
      acc0 = _mm256_add_epi32(
          acc0,
          _mm256_madd_epi16(v0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q16 + j))));
      acc1 = _mm256_add_epi32(
          acc1, _mm256_madd_epi16(
                    v1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q16 + j + 16))));
    }
    const __m256i acc = _mm256_add_epi32(acc0, acc1);
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    std::int32_t total = _mm_cvtsi128_si32(s);
    for (; j < n; ++j) total += static_cast<std::int32_t>(v[j]) * q[j];
    out[i] = total;
  }
}

// Sum of the 16 lanes (GCC vector shuffles: the extract and shuffle intrinsics, and
// _mm512_reduce_add_epi32, trip GCC 12's -Wmaybe-uninitialized).
typedef std::int32_t Int16x __attribute__((vector_size(64)));
typedef std::int32_t Int8x __attribute__((vector_size(32)));
typedef std::int32_t Int4x __attribute__((vector_size(16)));
__attribute__((target("avx512f"))) inline std::int32_t sum_lanes(__m512i v) {
  const Int16x x = reinterpret_cast<Int16x>(v);
  const Int8x a = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7) +
                  __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
  Int4x b = __builtin_shufflevector(a, a, 0, 1, 2, 3) + __builtin_shufflevector(a, a, 4, 5, 6, 7);
  b += __builtin_shufflevector(b, b, 2, 3, 0, 1);
  b += __builtin_shufflevector(b, b, 1, 0, 3, 2);
  return b[0];
}

__attribute__((target("avx512f,avx512bw"))) void u8s8_avx512bw(
    const std::int8_t* q, const std::int16_t* q16, const std::uint8_t* codes, std::size_t n,
    const std::uint32_t* slots, std::size_t count, std::int32_t* out) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint8_t* v = codes + static_cast<std::size_t>(slots[i]) * n;
    prefetch_ahead(codes, n, slots, i, count);
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    std::size_t j = 0;
    for (; j + 64 <= n; j += 64) {
      const __m512i v0 =
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + j)));
      const __m512i v1 =
          _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + j + 32)));
      acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(v0, _mm512_loadu_si512(q16 + j)));
      acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(v1, _mm512_loadu_si512(q16 + j + 32)));
    }
    std::int32_t total = sum_lanes(_mm512_add_epi32(acc0, acc1));
    for (; j < n; ++j) total += static_cast<std::int32_t>(v[j]) * q[j];
    out[i] = total;
  }
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void u8s8_vnni_one(const std::int8_t* q,
                                                                          const std::uint8_t* v,
                                                                          std::size_t n,
                                                                          std::int32_t* out) {
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  std::size_t j = 0;
  for (; j + 128 <= n; j += 128) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(v + j), _mm512_loadu_si512(q + j));
    acc1 =
        _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(v + j + 64), _mm512_loadu_si512(q + j + 64));
  }
  for (; j + 64 <= n; j += 64) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(v + j), _mm512_loadu_si512(q + j));
  }
  std::int32_t total = sum_lanes(_mm512_add_epi32(acc0, acc1));
  for (; j < n; ++j) total += static_cast<std::int32_t>(v[j]) * q[j];
  *out = total;
}

// Four vectors at a time (one load of each query chunk, four independent sums), with the codes
// of the four after the next four prefetched: the scan is bound by memory latency otherwise.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void u8s8_vnni(
    const std::int8_t* q, const std::int16_t*, const std::uint8_t* codes, std::size_t n,
    const std::uint32_t* slots, std::size_t count, std::int32_t* out) {
  constexpr std::size_t kPrefetch = 8;
  std::size_t i = 0;
  if (n % 64 == 0) {
    for (; i + 4 <= count; i += 4) {
      if (i + kPrefetch + 4 <= count) {
        for (std::size_t u = i + kPrefetch; u < i + kPrefetch + 4; ++u) {
          const char* p =
              reinterpret_cast<const char*>(codes + static_cast<std::size_t>(slots[u]) * n);
          for (std::size_t off = 0; off < n; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
        }
      }
      const std::uint8_t* v0 = codes + static_cast<std::size_t>(slots[i]) * n;
      const std::uint8_t* v1 = codes + static_cast<std::size_t>(slots[i + 1]) * n;
      const std::uint8_t* v2 = codes + static_cast<std::size_t>(slots[i + 2]) * n;
      const std::uint8_t* v3 = codes + static_cast<std::size_t>(slots[i + 3]) * n;
      __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
      for (std::size_t j = 0; j < n; j += 64) {
        const __m512i qj = _mm512_loadu_si512(q + j);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(v0 + j), qj);
        a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(v1 + j), qj);
        a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(v2 + j), qj);
        a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(v3 + j), qj);
      }
      out[i] = sum_lanes(a0);
      out[i + 1] = sum_lanes(a1);
      out[i + 2] = sum_lanes(a2);
      out[i + 3] = sum_lanes(a3);
    }
  }
  for (; i < count; ++i) {
    u8s8_vnni_one(q, codes + static_cast<std::size_t>(slots[i]) * n, n, out + i);
  }
}
#endif

std::vector<U8S8Kernel> u8s8_kernels() {
  std::vector<U8S8Kernel> out{{"generic", u8s8_generic}};
#ifdef NEMORI_X86
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", u8s8_avx2});
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
    out.push_back({"avx512bw", u8s8_avx512bw});
    if (__builtin_cpu_supports("avx512vnni")) out.push_back({"avx512vnni", u8s8_vnni});
  }
#endif
  return out;
}

}  // namespace

float dot_product(const float* a, const float* b, std::size_t n) {
  static const DotFn fn = pick();
  return fn(a, b, n);
}

void dot_u8s8_batch(const std::int8_t* query, const std::int16_t* query16,
                    const std::uint8_t* codes, std::size_t n, const std::uint32_t* slots,
                    std::size_t count, std::int32_t* out) {
  static const U8S8Fn fn = u8s8_kernels().back().fn;  // the widest the CPU has
  fn(query, query16, codes, n, slots, count, out);
}

std::vector<U8S8Kernel> available_u8s8_kernels() {
  return u8s8_kernels();
}

}  // namespace nemori::retrieval_internal
