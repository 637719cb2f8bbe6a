// The kernels for any x86-64 (and any other CPU): 4-float "vectors" of plain loops, which the
// compiler maps onto SSE2. No FMA: x * w + acc is rounded twice, as the reference does.
#include "core/half.h"
#include "kernels/cpu/kernel_args.h"

namespace embflow::kernels {
namespace generic {
namespace {

struct S {
  struct V {
    float v[4];
  };
  static constexpr int W = 4;
  static V zero() { return V{{0.f, 0.f, 0.f, 0.f}}; }
  static V load(const float* p) { return V{{p[0], p[1], p[2], p[3]}}; }
  static V load_n(const float* p, int n) {
    V x = zero();
    for (int i = 0; i < n; ++i) x.v[i] = p[i];
    return x;
  }
  static V load(const std::uint16_t* p) {
    return V{{half_to_float(p[0]), half_to_float(p[1]), half_to_float(p[2]), half_to_float(p[3])}};
  }
  static V load_n(const std::uint16_t* p, int n) {
    V x = zero();
    for (int i = 0; i < n; ++i) x.v[i] = half_to_float(p[i]);
    return x;
  }
  // A whole vector, or zeros without reading p (`in` false).
  template <class T>
  static V load_if(const T* p, bool in) {
    return in ? load(p) : zero();
  }
  static V fma(V x, float w, V acc) {
    for (int i = 0; i < 4; ++i) acc.v[i] += x.v[i] * w;
    return acc;
  }
  static V mul(V x, float s) {
    for (float& f : x.v) f *= s;
    return x;
  }
  static V add(V x, V y) {
    for (int i = 0; i < 4; ++i) x.v[i] += y.v[i];
    return x;
  }
  static void stream(float* p, V x) { store(p, x); }  // no portable non-temporal store
  static void fence() {}
  static void store(float* p, V x) {
    for (int i = 0; i < 4; ++i) p[i] = x.v[i];
  }
  static void store_n(float* p, V x, int n) {
    for (int i = 0; i < n; ++i) p[i] = x.v[i];
  }
};

#include "kernels/cpu/pool_kernels.inc"

}  // namespace
}  // namespace generic

const KernelTable& kernels_generic() { return generic::table(); }

}  // namespace embflow::kernels
