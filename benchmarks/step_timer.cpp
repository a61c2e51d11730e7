// ctnn_step_timer: times the seed AlexNet (ctnn::models::AlexNetCifar) for
// benchmarks/compare_pytorch.sh, with the same protocol as benchmarks/torch_step.py.
//
//   ctnn_step_timer --mode train|infer [--batch 128] [--precision f32|bf16] [--iters 5] [--warmup 1]
//                   [--conv auto|direct|winograd] [--backend onednn|eigen|reference]
//                   [--clean MAX_S] [--threads N|auto] [--mark]
//
// --backend: the CPU backend timed (default: ctnn::cpu, i.e. oneDNN where built, else Eigen);
// --conv applies to oneDNN only, bf16 exists on oneDNN only.
// train: forward, CrossEntropyLoss, backward, SGD(lr 0.01, momentum 0.9) step, training mode.
// infer: eval-mode forward.  Prints one line of key=value pairs:
//   ctnn mode=train batch=128 precision=f32 iters=5 conv=auto backend=oneDNN threads=2 images_per_s=...
//        ms_per_iter=... median_ms=... images_per_s_median=... kept=5 dropped=0 threads_end=2
//        thread_changes=0 peak_rss_kib=...
// images_per_s is the mean over the timed iterations, images_per_s_median the median iteration.
// --clean MAX_S keeps only iterations during which no other process used the CPU (the careful
// chain's rule, benchmarks/contention.hpp), retrying for up to MAX_S seconds (compare_chain.sh).
// --threads auto lets ctnn::ThreadTuner pick the count step by step (threads_busy_core.sh).
// or, when the precision cannot run on this CPU (bf16 without AVX512-BF16/AMX), a line with
// status=unavailable and the error, and exit status 3. peak_rss_kib is getrusage(RUSAGE_SELF)
// ru_maxrss of this whole process (run one mode per process to attribute it). --mark prints
// "ctnn_step_timer: timed iterations begin/end" lines around the timed loop, so that an
// ONEDNN_VERBOSE=1 log can be cut to the timed steps (benchmarks/verbose_summary.py does).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "benchmarks/common.hpp"
#include "benchmarks/contention.hpp"

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
               "[--warmup N] [--conv auto|direct|winograd] [--backend onednn|eigen|reference] [--clean MAX_S] "
               "[--threads N|auto] [--mark]\n",
               msg);
  std::exit(2);
}

struct Options {
  std::string mode = "train", precision = "f32", conv = "auto", backend;
  int batch = 128, iters = 5, warmup = 1;
  bool mark = false;
  double clean_max_s = 0;  ///< > 0: keep only uncontended iterations (--clean)
  bool auto_threads = false;
};

/// Builds the model on Backend and times it; prints the rest of the result line.
template <class Backend>
int run(const Options& o) {
  const auto prec = o.precision == "bf16" ? ctnn::Precision::bf16 : ctnn::Precision::f32;
  ctnn::Model<Net, Input, Backend> m(1, prec);
#if CTNN_WITH_ONEDNN
  if constexpr (std::is_same_v<Backend, ctnn::cpu>) {
    using A = ctnn::onednn::ConvAlgorithm;
    m.context().conv_algorithm = o.conv == "direct" ? A::direct : o.conv == "winograd" ? A::winograd : A::automatic;
  }
#endif
  ctnn::SGD sgd(0.01f, 0.9f);
  ctnn::CrossEntropyLoss loss;
  const int batch = o.batch;
  const auto x = random_floats(std::size_t(batch) * Input::size, 2);
  const auto t = random_targets(std::size_t(batch), 4);
  std::vector<float> dlogits(std::size_t(batch) * kClasses);
  auto once = [&] {
    if (o.mode == "train") {
      auto logits = m.forward(x, batch);
      loss(logits, t, kClasses, dlogits);
      m.backward(dlogits);
      sgd.step(m.parameters(), m.gradients());
    } else {
      auto y = m.forward(x, batch);
      if (!std::isfinite(y[0])) std::fprintf(stderr, "non-finite output\n");
    }
  };
  if (o.mode == "infer") m.eval();
  // --threads auto: a ThreadTuner picks the count from the measured step times (thread_tuner.hpp),
  // during the warm-up and the timed iterations alike.
  std::optional<ctnn::ThreadTuner> tuner;
  if (o.auto_threads) tuner.emplace(ctnn::num_threads());
  int changes = 0;
  auto timed = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    once();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (tuner)
      if (auto n = tuner->record(s, batch)) ctnn::set_num_threads(*n), m.reset_workspaces(), ++changes;
    return s;
  };
  for (int i = 0; i < std::max(o.warmup, 1); ++i) timed();  // at least one: builds the workspace
  if (o.mark) std::printf("\nctnn_step_timer: timed iterations begin\n"), std::fflush(stdout);
  // Each iteration is timed on its own. With --clean, an iteration during which other processes
  // used the CPU is dropped and retried after the machine has been quiet for a second, as the
  // careful chain does (benchmarks/contention.hpp), for at most clean_max_s seconds.
  std::vector<double> kept;
  int dropped = 0;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  double total_s = 0;
  while (int(kept.size()) < o.iters) {
    ForeignCpu meter;
    const double s = timed();
    if (o.clean_max_s > 0 && !ForeignCpu::clean(meter.foreign_s(), s)) {
      ++dropped;
      if (elapsed() > o.clean_max_s) break;
      while (elapsed() <= o.clean_max_s) {  // back off until the others have been idle for a second
        ForeignCpu quiet;
        usleep(1000000);
        if (quiet.foreign_s() < 0.05) break;
      }
      continue;
    }
    kept.push_back(s);
    total_s += s;
  }
  if (o.mark) std::printf("ctnn_step_timer: timed iterations end\n");
  if (kept.empty()) {
    std::printf("status=contended dropped=%d\n", dropped);
    return 4;
  }
  std::sort(kept.begin(), kept.end());
  const double median = kept[kept.size() / 2];
  std::printf(
      "images_per_s=%.2f ms_per_iter=%.1f median_ms=%.1f images_per_s_median=%.2f kept=%zu dropped=%d "
      "threads_end=%d thread_changes=%d peak_rss_kib=%ld\n",
      batch * double(kept.size()) / total_s, 1e3 * total_s / double(kept.size()), 1e3 * median, batch / median,
      kept.size(), dropped, ctnn::num_threads(), changes, peak_rss_kib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
      return argv[++i];
    };
    const std::string a = argv[i];
    if (a == "--mode")
      o.mode = value();
    else if (a == "--batch")
      o.batch = std::atoi(value().c_str());
    else if (a == "--precision")
      o.precision = value();
    else if (a == "--iters")
      o.iters = std::atoi(value().c_str());
    else if (a == "--warmup")
      o.warmup = std::atoi(value().c_str());
    else if (a == "--conv")
      o.conv = value();
    else if (a == "--backend")
      o.backend = value();
    else if (a == "--clean")
      o.clean_max_s = std::atof(value().c_str());
    else if (a == "--threads") {
      const std::string t = value();
      if (t == "auto")
        o.auto_threads = true;
      else if (std::atoi(t.c_str()) > 0)
        ctnn::set_num_threads(std::atoi(t.c_str()));
      else
        usage("--threads: a count > 0 or auto");
    } else if (a == "--mark")
      o.mark = true;
    else
      usage(("unknown argument " + a).c_str());
  }
  if ((o.mode != "train" && o.mode != "infer") || (o.precision != "f32" && o.precision != "bf16") || o.batch < 2 ||
      o.iters < 1 || o.warmup < 0 || (o.conv != "auto" && o.conv != "direct" && o.conv != "winograd"))
    usage("bad arguments");
  if (o.backend.empty()) o.backend = std::is_same_v<ctnn::cpu, ctnn::eigen> ? "eigen" : "onednn";
  if (o.backend != "onednn" && o.backend != "eigen" && o.backend != "reference") usage("bad --backend");
#if !CTNN_WITH_ONEDNN
  if (o.backend == "onednn") usage("--backend onednn: this build has no oneDNN (CTNN_WITH_ONEDNN=OFF)");
#endif
#if !CTNN_WITH_EIGEN
  if (o.backend == "eigen") usage("--backend eigen: this build has no Eigen (CTNN_WITH_EIGEN=OFF)");
#endif

  const char* name = o.backend == "reference" ? ctnn::backend_name_v<ctnn::reference>
                     : o.backend == "eigen"   ? "Eigen"
                                              : "oneDNN";
  std::printf("ctnn mode=%s batch=%d precision=%s iters=%d conv=%s backend=%s threads=%d ", o.mode.c_str(), o.batch,
              o.precision.c_str(), o.iters, o.conv.c_str(), name, ctnn::num_threads());
  std::fflush(stdout);
  try {
    if (o.backend == "reference") return run<ctnn::reference>(o);
#if CTNN_WITH_EIGEN
    if (o.backend == "eigen") return run<ctnn::eigen>(o);
#endif
#if CTNN_WITH_ONEDNN
    return run<ctnn::cpu>(o);
#endif
    return 2;
  } catch (const std::exception& e) {
    std::string why = e.what();
    for (auto& c : why)
      if (c == '\n' || c == '"') c = ' ';
    std::printf("status=unavailable error=\"%s\"\n", why.c_str());
    return 3;
  }
}
