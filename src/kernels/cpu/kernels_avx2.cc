// The kernels compiled for AVX2 + FMA + F16C: 8 floats per vector, tails by maskload/maskstore
// (loads no wider than they must be: kernels_avx512.cc says why).
#include <immintrin.h>

#include "kernels/cpu/kernel_args.h"

namespace embflow::kernels {
namespace avx2 {
namespace {

struct S {
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static __m128i mask4(int n) { return _mm_cmpgt_epi32(_mm_set1_epi32(n), _mm_setr_epi32(0, 1, 2, 3)); }
  static V load_n(const float* p, int n) {
    if (n <= 4) return _mm256_zextps128_ps256(_mm_maskload_ps(p, mask4(n)));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), _mm_maskload_ps(p + 4, mask4(n - 4)), 1);
  }
  static V load(const std::uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static V load_n(const std::uint16_t* p, int n) {
    alignas(16) std::uint16_t tmp[8] = {};
    for (int i = 0; i < n; ++i) tmp[i] = p[i];
    return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
  }
  // A whole vector, or zeros without reading p (`in` false); the mask by arithmetic, not a branch.
  static V load_if(const float* p, bool in) { return _mm256_maskload_ps(p, _mm256_set1_epi32(-static_cast<int>(in))); }
  static V load_if(const std::uint16_t* p, bool in) {
    return _mm256_cvtph_ps(_mm_maskload_epi32(reinterpret_cast<const int*>(p), _mm_set1_epi32(-static_cast<int>(in))));
  }
  static V fma(V x, float w, V acc) { return _mm256_fmadd_ps(x, _mm256_set1_ps(w), acc); }
  static V mul(V x, float s) { return _mm256_mul_ps(x, _mm256_set1_ps(s)); }
  static V add(V x, V y) { return _mm256_add_ps(x, y); }
  static void stream(float* p, V v) { _mm256_stream_ps(p, v); }
  static void fence() { _mm_sfence(); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void store_n(float* p, V v, int n) {  // by plain stores: AMD microcodes a masked one
    __m128 x = _mm256_castps256_ps128(v);
    if (n >= 4) {
      _mm_storeu_ps(p, x);
      x = _mm256_extractf128_ps(v, 1), p += 4, n -= 4;
    }
    if (n >= 2) {
      _mm_storel_pi(reinterpret_cast<__m64*>(p), x);
      x = _mm_movehl_ps(x, x), p += 2, n -= 2;
    }
    if (n == 1) _mm_store_ss(p, x);
  }
};

#include "kernels/cpu/pool_kernels.inc"

}  // namespace
}  // namespace avx2

const KernelTable& kernels_avx2() { return avx2::table(); }

}  // namespace embflow::kernels
