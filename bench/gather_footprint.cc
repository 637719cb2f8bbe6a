// What the roofline floor cannot see on a virtual machine: how fast one core gathers random
// 64-byte rows depends on all the memory it gathers from (its TLB reach, and the host's page
// tables behind the guest's), not on one table's size; and how fast it writes a [B, T, E] output.
//   gather:  ns per row of a plain prefetched gather (32 rows ahead, into L2) over F GiB, with
//            4 KiB pages, transparent huge pages (2 MiB), or 1 GiB pages (hugetlbfs; needs
//            /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages reserved first);
//   output:  criteo-kaggle's output at batch 2048 (26 columns of E floats a sample) written
//            column by column, as the gathers write it, with streaming and with ordinary stores.
// Usage: build/bench/embflow_gather_footprint [GiB ...]   (default 1 3 8)
// Results on the development VMs: docs/BENCHMARKS.md ("What the floor cannot see here").
#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "embflow/topology.h"

namespace {

enum class Pages { k4K, kThp, k1G };
const char* name(Pages p) { return p == Pages::k4K ? "4 KiB" : p == Pages::kThp ? "2 MiB (THP)" : "1 GiB"; }

char* map(std::size_t bytes, Pages pages) {
#ifndef MAP_HUGE_1GB
  constexpr int MAP_HUGE_1GB = 30 << MAP_HUGE_SHIFT;
#endif
  if (pages == Pages::k1G) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB, -1, 0);
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
  }
  constexpr std::size_t k2M = 2 << 20;
  void* p = mmap(nullptr, bytes + k2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  char* a = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(p) + k2M - 1) & ~(k2M - 1));
  madvise(a, bytes, pages == Pages::kThp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
  return a;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median ns per row over 5 passes of 4 M random rows (the first pass, which faults, not counted).
double gather_ns(const char* base, std::size_t rows) {
  const std::size_t n = std::size_t{1} << 22;
  std::vector<std::uint64_t> idx(n);
  std::mt19937_64 rng(1);
  for (auto& i : idx) i = rng() % rows;
  std::vector<double> ns;
  float sum = 0;
  for (int pass = 0; pass < 6; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + 32 < n) __builtin_prefetch(base + idx[i + 32] * 64, 0, 2);
      float v;
      std::memcpy(&v, base + idx[i] * 64, sizeof v);
      sum += v;
    }
    if (pass > 0) ns.push_back(seconds_since(t0) * 1e9 / static_cast<double>(n));
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2] + (sum == 12345.f ? 1e-9 : 0.0);
}

// GB/s writing a [2048, 26, E] output column by column, median of 7 passes.
double output_gbps(int dim, bool stream) {
  const std::size_t batch = 2048, tables = 26, row = tables * static_cast<std::size_t>(dim);
  const std::size_t bytes = batch * row * sizeof(float);
  float* out = reinterpret_cast<float*>(map(bytes, Pages::kThp));
  if (out == nullptr) return 0;
  std::memset(out, 0, bytes);
  const __m128 one = _mm_set1_ps(1.0f);
  std::vector<double> gbps;
  for (int pass = 0; pass < 7; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t t = 0; t < tables; ++t) {
      for (std::size_t b = 0; b < batch; ++b) {
        float* o = out + b * row + t * static_cast<std::size_t>(dim);
        for (int e = 0; e < dim; e += 4) stream ? _mm_stream_ps(o + e, one) : _mm_store_ps(o + e, one);
      }
    }
    _mm_sfence();
    gbps.push_back(static_cast<double>(bytes) / seconds_since(t0) / 1e9);
  }
  munmap(out, bytes);
  std::sort(gbps.begin(), gbps.end());
  return gbps[gbps.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> gib;
  for (int i = 1; i < argc; ++i) gib.push_back(std::atof(argv[i]));
  if (gib.empty()) gib = {1, 3, 8};
  embflow::pin_current_thread(0);
  std::printf("random 64-byte rows, one core, prefetched 32 ahead into L2: ns per row (median of 5 passes)\n");
  std::printf("%10s %14s %10s\n", "GiB", "pages", "ns/row");
  for (const double g : gib) {
    const auto bytes = static_cast<std::size_t>(g * (1 << 30)) & ~((std::size_t{1} << 30) - 1);
    for (const Pages pages : {Pages::k4K, Pages::kThp, Pages::k1G}) {
      char* base = map(bytes, pages);
      if (base == nullptr) {
        std::printf("%10.0f %14s %10s\n", g, name(pages), "(none)");
        continue;
      }
      std::memset(base, 1, bytes);
      std::printf("%10.0f %14s %10.1f\n", g, name(pages), gather_ns(base, bytes / 64));
      std::fflush(stdout);
      munmap(base, bytes);
    }
  }
  std::printf("\ncriteo-kaggle's output at batch 2048 ([2048, 26, E] floats), written column by column: GB/s\n");
  for (const int dim : {16, 64}) {
    std::printf("dim %3d: streaming stores %.1f, ordinary stores %.1f\n", dim, output_gbps(dim, true), output_gbps(dim, false));
  }
  return 0;
}
