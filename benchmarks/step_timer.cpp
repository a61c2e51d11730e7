// ctnn_step_timer: times the seed AlexNet (ctnn::models::AlexNetCifar, oneDNN backend) for
// benchmarks/compare_pytorch.sh, with the same protocol as benchmarks/torch_step.py.
//
//   ctnn_step_timer --mode train|infer [--batch 128] [--precision f32|bf16] [--iters 5] [--warmup 1]
//                   [--conv auto|direct|winograd] [--clean MAX_S] [--threads N|auto] [--mark]
//
// train: forward, CrossEntropyLoss, backward, SGD(lr 0.01, momentum 0.9) step, training mode.
// infer: eval-mode forward.  Prints one line of key=value pairs:
//   ctnn mode=train batch=128 precision=f32 iters=5 conv=auto images_per_s=... ms_per_iter=...
//        median_ms=... images_per_s_median=... kept=5 dropped=0 threads=2 peak_rss_kib=...
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
               "[--warmup N] [--conv auto|direct|winograd] [--clean MAX_S] [--threads N|auto] [--mark]\n",
               msg);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "train", precision = "f32", conv = "auto";
  int batch = 128, iters = 5, warmup = 1;
  bool mark = false;
  double clean_max_s = 0;
  std::string threads;  // empty: OMP_NUM_THREADS or all cores
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
    else if (a == "--threads")
      threads = value();
    else if (a == "--clean")
      clean_max_s = std::atof(value().c_str());
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
    // --threads auto: a ThreadTuner picks the count from the measured step times (thread_tuner.hpp),
    // during the warm-up and the timed iterations alike.
    std::optional<ctnn::ThreadTuner> tuner;
    if (threads == "auto")
      tuner.emplace(ctnn::num_threads());
    else if (!threads.empty())
      ctnn::set_num_threads(std::atoi(threads.c_str()));
    int changes = 0;
    auto timed = [&] {
      const auto t0 = std::chrono::steady_clock::now();
      once();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (tuner)
        if (auto n = tuner->record(s, batch)) ctnn::set_num_threads(*n), m.reset_workspaces(), ++changes;
      return s;
    };
    for (int i = 0; i < std::max(warmup, 1); ++i) timed();  // at least one: builds the workspace
    if (mark) std::printf("\nctnn_step_timer: timed iterations begin\n"), std::fflush(stdout);
    // Each iteration is timed on its own. With --clean, an iteration during which other processes
    // used the CPU is dropped and retried after the machine has been quiet for a second, as the
    // careful chain does (benchmarks/contention.hpp), for at most `clean_max_s` seconds.
    std::vector<double> kept;
    int dropped = 0;
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    double total_s = 0;
    while (int(kept.size()) < iters) {
      ForeignCpu meter;
      const double s = timed();
      if (clean_max_s > 0 && !ForeignCpu::clean(meter.foreign_s(), s)) {
        ++dropped;
        if (elapsed() > clean_max_s) break;
        while (elapsed() <= clean_max_s) {  // back off until the others have been idle for a second
          ForeignCpu quiet;
          usleep(1000000);
          if (quiet.foreign_s() < 0.05) break;
        }
        continue;
      }
      kept.push_back(s);
      total_s += s;
    }
    if (mark) std::printf("ctnn_step_timer: timed iterations end\n");
    if (kept.empty()) {
      std::printf("status=contended dropped=%d\n", dropped);
      return 4;
    }
    std::sort(kept.begin(), kept.end());
    const double median = kept[kept.size() / 2];
    std::printf(
        "images_per_s=%.2f ms_per_iter=%.1f median_ms=%.1f images_per_s_median=%.2f kept=%zu dropped=%d "
        "threads=%d thread_changes=%d peak_rss_kib=%ld\n",
        batch * double(kept.size()) / total_s, 1e3 * total_s / double(kept.size()), 1e3 * median, batch / median,
        kept.size(), dropped, ctnn::num_threads(), changes, peak_rss_kib());
    return 0;
  } catch (const std::exception& e) {
    std::string why = e.what();
    for (auto& c : why)
      if (c == '\n' || c == '"') c = ' ';
    std::printf("status=unavailable error=\"%s\"\n", why.c_str());
    return 3;
  }
}
