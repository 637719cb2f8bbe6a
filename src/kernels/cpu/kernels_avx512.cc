// The kernels compiled for AVX-512 (F, BW, VL, DQ): 16 floats per vector, masked tails.
//
// A tail is loaded and stored by masked accesses no wider than they must be. On AMD Zen 4 a
// masked access waits for every cache line its full width spans, masked-off lanes included: a
// row of 8 floats read by a 16-float masked load touched the next line too, half the time a line
// in no cache, and gathers of dim 8 from a 1 GiB table took 130 us per 8192 rows, against 51 us
// read by an 8-float load (dim 16: 53 us; docs/BENCHMARKS.md, "Tails").
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
  // Up to 8 lanes take one 8-lane access (a 4-lane one would be exact up to 4, but its branch
  // cost the in-cache tables more than it saved); 9-12 lanes two, of 8 and 4.
  static V load_n(const float* p, int n) {
    if (n <= 8) return _mm512_zextps256_ps512(_mm256_maskz_loadu_ps(static_cast<__mmask8>(mask(n)), p));
    const __m512 lo = _mm512_castps256_ps512(_mm256_loadu_ps(p));
    if (n > 12) return _mm512_insertf32x8(lo, _mm256_maskz_loadu_ps(static_cast<__mmask8>(mask(n - 8)), p + 8), 1);
    return _mm512_insertf32x4(lo, _mm_maskz_loadu_ps(static_cast<__mmask8>(mask(n - 8)), p + 8), 2);
  }
  static V load(const std::uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load_n(const std::uint16_t* p, int n) {
    if (n > 8) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p));
    return _mm512_cvtph_ps(_mm256_zextsi128_si256(_mm_maskz_loadu_epi16(static_cast<__mmask8>(mask(n)), p)));
  }
  // A whole vector, or zeros without reading p (`in` false); the mask by arithmetic, not a branch.
  static __mmask16 all_if(bool in) { return static_cast<__mmask16>(0u - static_cast<unsigned>(in)); }
  static V load_if(const float* p, bool in) { return _mm512_maskz_loadu_ps(all_if(in), p); }
  static V load_if(const std::uint16_t* p, bool in) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(all_if(in), p)); }
  static V fma(V x, float w, V acc) { return _mm512_fmadd_ps(x, _mm512_set1_ps(w), acc); }
  static V mul(V x, float s) { return _mm512_mul_ps(x, _mm512_set1_ps(s)); }
  static V add(V x, V y) { return _mm512_add_ps(x, y); }
  static void stream(float* p, V v) { _mm512_stream_ps(p, v); }
  static void fence() { _mm_sfence(); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) {
    if (n <= 8) return _mm256_mask_storeu_ps(p, static_cast<__mmask8>(mask(n)), _mm512_castps512_ps256(v));
    _mm256_storeu_ps(p, _mm512_castps512_ps256(v));
    if (n > 12) return _mm256_mask_storeu_ps(p + 8, static_cast<__mmask8>(mask(n - 8)), _mm512_extractf32x8_ps(v, 1));
    _mm_mask_storeu_ps(p + 8, static_cast<__mmask8>(mask(n - 8)), _mm512_extractf32x4_ps(v, 2));
  }
};

#include "kernels/cpu/pool_kernels.inc"

}  // namespace
}  // namespace avx512

const KernelTable& kernels_avx512() { return avx512::table(); }

}  // namespace embflow::kernels
