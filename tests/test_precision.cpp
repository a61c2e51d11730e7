// Precision::automatic: bf16 exactly where the CPU has bf16 instructions (read independently from
// /proc/cpuinfo's flags), f32 elsewhere and on the reference backend.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "backends/reference/all.hpp"
#include "ctnn/ctnn.hpp"

using namespace ctnn;

namespace {
/// Whether /proc/cpuinfo lists avx512_bf16 or amx_bf16 (the instructions oneDNN's bf16 kernels use).
bool cpu_has_bf16_instructions() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0)
      return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
  return false;
}
}  // namespace

TEST_CASE("Precision::automatic resolves to bf16 where the CPU has bf16 instructions, else f32") {
  Model<Sequential<Linear<4, 2>>, Shape<4>, reference> ref(1, Precision::automatic);
  CHECK(ref.context().precision == Precision::f32);
#if CTNN_WITH_ONEDNN
  Model<Sequential<Conv2d<3, 4, 3>, ReLU, Flatten, Linear<16, 2>>, Shape<3, 4, 4>, cpu> m(1, Precision::automatic);
  const bool bf16 = cpu_has_bf16_instructions();
  MESSAGE("this CPU: " << std::string(bf16 ? "bf16 instructions" : "no bf16 instructions") << ", oneDNN isa "
                       << int(dnnl::get_effective_cpu_isa()));
  CHECK(Context<cpu>::native_bf16() == bf16);
  CHECK(m.context().precision == (bf16 ? Precision::bf16 : Precision::f32));
  // And the model runs in what was chosen.
  const auto y = m.forward(std::vector<float>(2 * 48, 0.5f), 2);
  CHECK(y.size() == 4);
#endif
}
