// ctnn_step_timer: times the seed AlexNet (ctnn::models::AlexNetCifar, oneDNN backend) for
// benchmarks/compare_pytorch.sh, with the same protocol as benchmarks/torch_step.py.
//
//   ctnn_step_timer --mode train|infer [--batch 128] [--precision f32|bf16] [--iters 5] [--warmup 1]
//                   [--conv auto|direct|winograd] [--mark]
//
// train: forward, CrossEntropyLoss, backward, SGD(lr 0.01, momentum 0.9) step, training mode.
// infer: eval-mode forward.  Prints one line of key=value pairs:
//   ctnn mode=train batch=128 precision=f32 iters=5 images_per_s=... ms_per_iter=... peak_rss_kib=...
// or, when the precision cannot run on this CPU (bf16 without AVX512-BF16/AMX), a line with
// status=unavailable and the error, and exit status 3. peak_rss_kib is getrusage(RUSAGE_SELF)
// ru_maxrss of this whole process (run one mode per process to attribute it). --mark prints
// "ctnn_step_timer: timed iterations begin/end" lines around the timed loop, so that an
// ONEDNN_VERBOSE=1 log can be cut to the timed steps (benchmarks/verbose_summary.py does).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "benchmarks/common.hpp"

namespace {

using namespace ctnn_bench;

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;  // KiB on Linux
}

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "%s\nusage: ctnn_step_timer --mode train|infer [--batch N] [--precision f32|bf16] [--iters N] "
               "[--warmup N] [--conv auto|direct|winograd] [--mark]\n",
               msg);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "train", precision = "f32", conv = "auto";
  int batch = 128, iters = 5, warmup = 1;
  bool mark = false;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
      return argv[++i];
    };
    const std::string a = argv[i];
    if (a == "--mode")
      mode = value();
    else if (a == "--batch")
      batch = std::atoi(value().c_str());
    else if (a == "--precision")
      precision = value();
    else if (a == "--iters")
      iters = std::atoi(value().c_str());
    else if (a == "--warmup")
      warmup = std::atoi(value().c_str());
    else if (a == "--conv")
      conv = value();
    else if (a == "--mark")
      mark = true;
    else
      usage(("unknown argument " + a).c_str());
  }
  if ((mode != "train" && mode != "infer") || (precision != "f32" && precision != "bf16") || batch < 2 || iters < 1 ||
      warmup < 0 || (conv != "auto" && conv != "direct" && conv != "winograd"))
    usage("bad arguments");

  std::printf("ctnn mode=%s batch=%d precision=%s iters=%d conv=%s ", mode.c_str(), batch, precision.c_str(), iters,
              conv.c_str());
  std::fflush(stdout);
  try {
    const auto prec = precision == "bf16" ? ctnn::Precision::bf16 : ctnn::Precision::f32;
    ctnn::Model<Net, Input, ctnn::cpu> m(1, prec);
    using A = ctnn::onednn::ConvAlgorithm;
    m.context().conv_algorithm = conv == "direct" ? A::direct : conv == "winograd" ? A::winograd : A::automatic;
    ctnn::SGD sgd(0.01f, 0.9f);
    ctnn::CrossEntropyLoss loss;
    const auto x = random_floats(std::size_t(batch) * Input::size, 2);
    const auto t = random_targets(std::size_t(batch), 4);
    std::vector<float> dlogits(std::size_t(batch) * kClasses);
    auto once = [&] {
      if (mode == "train") {
        auto logits = m.forward(x, batch);
        loss(logits, t, kClasses, dlogits);
        m.backward(dlogits);
        sgd.step(m.parameters(), m.gradients());
      } else {
        auto y = m.forward(x, batch);
        if (!std::isfinite(y[0])) std::fprintf(stderr, "non-finite output\n");
      }
    };
    if (mode == "infer") m.eval();
    for (int i = 0; i < std::max(warmup, 1); ++i) once();  // at least one: builds the workspace
    if (mark) std::printf("\nctnn_step_timer: timed iterations begin\n"), std::fflush(stdout);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) once();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (mark) std::printf("ctnn_step_timer: timed iterations end\n");
    std::printf("images_per_s=%.2f ms_per_iter=%.1f peak_rss_kib=%ld\n", batch * iters / s, 1e3 * s / iters,
                peak_rss_kib());
    return 0;
  } catch (const std::exception& e) {
    std::string why = e.what();
    for (auto& c : why)
      if (c == '\n' || c == '"') c = ' ';
    std::printf("status=unavailable error=\"%s\"\n", why.c_str());
    return 3;
  }
}
