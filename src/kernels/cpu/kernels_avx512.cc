// The kernels compiled for AVX-512 (F, BW, VL, DQ): 16 floats per vector, masked tails.
#include <immintrin.h>

#include "kernels/cpu/kernel_args.h"

namespace embflow::kernels {
namespace avx512 {
namespace {

struct S {
  using V = __m512;
  static constexpr int W = 16;
  static __mmask16 mask(int n) { return static_cast<__mmask16>((1u << n) - 1); }
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static V load(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load_n(const std::uint16_t* p, int n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p)); }
  static V fma(V x, float w, V acc) { return _mm512_fmadd_ps(x, _mm512_set1_ps(w), acc); }
  static V mul(V x, float s) { return _mm512_mul_ps(x, _mm512_set1_ps(s)); }
  static V add(V x, V y) { return _mm512_add_ps(x, y); }
  static void stream(float* p, V v) { _mm512_stream_ps(p, v); }
  static void fence() { _mm_sfence(); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, mask(n), v); }
};

#include "kernels/cpu/pool_kernels.inc"

}  // namespace
}  // namespace avx512

const KernelTable& kernels_avx512() { return avx512::table(); }

}  // namespace embflow::kernels
