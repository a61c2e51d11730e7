#pragma once
// What the CIFAR-10 examples (alexnet_cifar10, resnet9_cifar10) share: the command line (data,
// limits, validation split, seed, output folder, resume, threads, device, precision, convolution
// algorithm, summary, --distributed), loading the data, building the Model, running train::Trainer with the
// example's recipe (checkpoints, metrics.csv, curves), the report, and the error handling (every
// bad input: one line, exit code 2). An example adds its presets and its nets.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/ctnn.hpp"
#include "ctnn/data/cifar10.hpp"
#include "ctnn/dist/communicator.hpp"
#if CTNN_WITH_MPI
#include "ctnn/dist/mpi.hpp"
#endif
#include "ctnn/threads.hpp"
#include "ctnn/train/trainer.hpp"

namespace cifar_example {

namespace fs = std::filesystem;

struct Args {
  std::string data, preset, out, device = "cpu", precision = "auto", conv = "auto";
  double epochs_scale = 1.0, lr_scale = 1.0;
  double label_smoothing = -1, weight_decay = -1;  // < 0: the preset's
  int crop_padding = -1;                           // < 0: the preset's; 0: no crop
  int batch_size = 0;                              // 0: the preset's
  std::size_t limit_train = 0, limit_test = 0, val_split = 0;
  std::uint64_t seed = 1;
  std::string threads;  // "auto", a count, or empty: a fixed OMP_NUM_THREADS when set, else "auto"
  bool resume = false, summary = false, distributed = false;
};

/// The example's process group: Open MPI with --distributed (in a build that has it), else the
/// group of one. One type either way, so the trainer is compiled once.
struct Group {
  static constexpr bool device_memory = false;
#if CTNN_WITH_MPI
  std::unique_ptr<ctnn::dist::Mpi> mpi;
  int rank() const { return mpi ? mpi->rank() : 0; }
  int size() const { return mpi ? mpi->size() : 1; }
  template <class T>
  void allreduce_sum(std::span<T> x) {
    if (mpi) mpi->allreduce_sum(x);
  }
  template <class T>
  void broadcast(std::span<T> x, int root) {
    if (mpi) mpi->broadcast(x, root);
  }
  void barrier() {
    if (mpi) mpi->barrier();
  }
  [[noreturn]] void abort(const std::string& why) {
    if (mpi) mpi->abort(why);
    ctnn::dist::Local{}.abort(why);
  }
#else
  ctnn::dist::Local local;
  int rank() const { return 0; }
  int size() const { return 1; }
  template <class T>
  void allreduce_sum(std::span<T>) {}
  template <class T>
  void broadcast(std::span<T>, int) {}
  void barrier() {}
  [[noreturn]] void abort(const std::string& why) { local.abort(why); }
#endif
};

/// Usage errors: printed without a stack trace, exit code 2.
struct UsageError : ctnn::Error {
  using ctnn::Error::Error;
};

inline std::string default_data_dir() {
  for (const char* d : {"../shared/data/cifar10", "data/cifar-10-batches-bin"})
    if (fs::exists(d)) return d;
  return "data/cifar-10-batches-bin";
}

/// --threads auto, or no --threads and no OMP_NUM_THREADS; only the CPU backend has threads to pick,
/// and with --distributed each rank keeps one thread (the ranks are the parallelism).
bool adaptive_threads(const Args& a) {
  return a.device == "cpu" && !a.distributed &&
         (a.threads == "auto" || (a.threads.empty() && !std::getenv("OMP_NUM_THREADS")));
}

/// Every option but --preset (the example's own list).
inline void add_common_options(CLI::App& app, Args& a) {
  static const CLI::Validator positive(
      [](std::string& v) { return std::stod(v) > 0 ? std::string() : "must be greater than 0, got " + v; }, "> 0");
  app.add_option("--data", a.data, "folder with data_batch_1..5 and test_batch (.bin or .bin.gz)");
  app.add_option("--epochs-scale", a.epochs_scale, "multiply every stage's epochs (rounded, >= 1 per stage)")
      ->check(positive);
  app.add_option("--lr-scale", a.lr_scale,
                 "multiply every stage's learning rate (the one-cycle peak, for the presets that have one)")
      ->check(positive);
  // Recipe overrides, for tuning a preset on --val-split without editing it.
  app.add_option("--label-smoothing", a.label_smoothing, "override the preset's label smoothing (0 = none)")
      ->check(CLI::Range(0.0, 0.999));
  app.add_option("--weight-decay", a.weight_decay,
                 "override the preset's weight decay (applied to what the preset decays: all or weights only)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--crop-padding", a.crop_padding,
                 "override the preset's random-crop padding in pixels (0 = no crop; the padding mode is the preset's)")
      ->check(CLI::Range(0, 16));
  app.add_option("--batch-size", a.batch_size,
                 "override the batch size of a single-stage preset (pure, bn, dropout, augment, fast, max)")
      ->check(CLI::Range(1, 65536));
  app.add_option("--limit-train", a.limit_train, "use the first N training images (0 = all)");
  app.add_option("--limit-test", a.limit_test, "use the first N test images (0 = all)");
  app.add_option("--val-split", a.val_split,
                 "hold out the last N training images (after --limit-train) as the evaluation split instead of the "
                 "test set (0 = evaluate on the test set); tune on this, never on the test set");
  app.add_option("--seed", a.seed, "seed for initialisation, shuffling, augmentation, dropout");
  app.add_option("--out", a.out, "folder for metrics.csv, checkpoint.safetensors, curves.png");
  app.add_flag("--resume", a.resume, "continue from <out>/checkpoint.safetensors");
  app.add_option("--threads", a.threads,
                 "CPU threads: a count, or auto (start with all cores, use fewer while another program keeps one "
                 "busy); default: OMP_NUM_THREADS when set, else auto")
      ->check(CLI::Validator(
          [](std::string& v) {
            const bool count = !v.empty() && v.size() < 5 && v.find_first_not_of("0123456789") == std::string::npos &&
                               std::stoi(v) > 0;
            return v == "auto" || count ? std::string() : "must be auto or a count > 0, got " + v;
          },
          "auto|N"));
  app.add_option("--device", a.device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--precision", a.precision,
                 "auto (bf16 where the CPU has bf16 instructions, else f32), f32 or bf16 (CPU: needs AVX-512)")
      ->check(CLI::IsMember({"auto", "f32", "bf16"}));
  app.add_option("--conv", a.conv,
                 "CPU convolution algorithm: auto (Winograd for wide 3x3 stride-1 fp32 layers where oneDNN has it), "
                 "direct or winograd")
      ->check(CLI::IsMember({"auto", "direct", "winograd"}));
  app.add_flag("--summary", a.summary, "print the torchsummary-style table and exit");
  app.add_flag("--distributed", a.distributed,
               "data-parallel over the processes of `mpirun -np N` (Open MPI); batch sizes are global; one thread "
               "per rank unless --threads is given");
}

/// Parses the command line; returns -1 to go on, else the exit code (help: 0, bad option: 2).
inline int parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n(run with --help for the options)\n";
    return 2;
  }
  return -1;
}

/// Stages with every stage's epochs multiplied by --epochs-scale (rounded, at least 1) and its
/// learning rate by --lr-scale.
inline std::vector<ctnn::train::Stage> scaled(std::vector<ctnn::train::Stage> s, const Args& a) {
  for (auto& st : s) {
    st.epochs = std::max(1, int(std::lround(st.epochs * a.epochs_scale)));
    st.lr = float(st.lr * a.lr_scale);
  }
  return s;
}

/// Trains Net on CIFAR-10 with the recipe `o` (stages, optimizer, augmentation; what the command
/// line decides is filled in here) and prints the report; `program` names the example in the log.
template <class Net, class Backend>
int train_net(const Args& a, const char* program, ctnn::train::TrainerOptions o, Group& group) {
  using namespace ctnn;
  const bool root = group.rank() == 0;
  const auto t0 = std::chrono::steady_clock::now();
  // The command line's changes to the preset: printed, and checked on --resume. Applied before the
  // data loads so that a refused override costs no load time.
  std::string overrides;
  const auto override = [&](const char* what, auto value) { overrides += fmt::format(" {} {}", what, value); };
  if (a.lr_scale != 1.0) override("--lr-scale", a.lr_scale);
  if (a.label_smoothing >= 0) {
    o.label_smoothing = float(a.label_smoothing);
    override("--label-smoothing", a.label_smoothing);
  }
  if (a.weight_decay >= 0) {
    o.weight_decay = float(a.weight_decay);
    override("--weight-decay", a.weight_decay);
  }
  if (a.crop_padding >= 0) {
    o.augment.crop_padding = a.crop_padding;
    override("--crop-padding", a.crop_padding);
  }
  if (a.batch_size > 0) {
    // A staged preset's point is its batch schedule; one size for all stages would erase it.
    if (o.stages.size() != 1)
      throw UsageError("--batch-size: preset " + a.preset + " stages its batch sizes; the override is for " +
                       "single-stage presets");
    o.stages[0].batch_size = a.batch_size;
    override("--batch-size", a.batch_size);
  }
  auto data = data::Cifar10::load(a.data, a.limit_train, a.limit_test);
  if (a.val_split > 0) {  // the last N training images become the evaluation split
    if (a.val_split >= data.train.size())
      throw UsageError("--val-split " + std::to_string(a.val_split) + ": the training split has only " +
                       std::to_string(data.train.size()) + " images");
    const std::size_t keep = data.train.size() - a.val_split;
    data.test.images.assign(data.train.images.begin() + std::ptrdiff_t(keep * data::kCifarPixels),
                            data.train.images.end());
    data.test.labels.assign(data.train.labels.begin() + std::ptrdiff_t(keep), data.train.labels.end());
    data.train.images.resize(keep * data::kCifarPixels);
    data.train.labels.resize(keep);
  }
  const Precision asked = a.precision == "bf16"  ? Precision::bf16
                          : a.precision == "f32" ? Precision::f32
                                                 : Precision::automatic;
  Model<Net, models::CifarImage, Backend> model(a.seed, asked);
  // What runs, and why: auto is bf16 only where the CPU computes bf16 natively (AVX512-BF16, AMX).
  const std::string precision = model.context().precision == Precision::bf16 ? "bf16" : "f32";
  std::string why = "asked";
  if (asked == Precision::automatic) {
    if constexpr (std::is_same_v<Backend, ctnn::cpu> && !std::is_same_v<Backend, ctnn::eigen> &&
                  !std::is_same_v<Backend, ctnn::reference>)  // oneDNN
      why = precision == "bf16" ? "auto: this CPU has bf16 instructions" : "auto: this CPU has no bf16 instructions";
    else
      why = "auto: this backend computes in f32";
  }
#if CTNN_WITH_ONEDNN
  if constexpr (std::is_same_v<Backend, ctnn::cpu>) {
    using A = onednn::ConvAlgorithm;
    model.context().conv_algorithm = a.conv == "direct" ? A::direct : a.conv == "winograd" ? A::winograd : A::automatic;
  }
#endif
  o.seed = a.seed;
  o.adaptive_threads = adaptive_threads(a);
  o.out = a.out;
  o.resume = a.resume;
  o.metadata.insert({{"preset", a.preset},
                     {"precision", precision},
                     {"eval_split", a.val_split ? "last " + std::to_string(a.val_split) + " training images" : "test"},
                     {"overrides", overrides.empty() ? "none" : overrides.substr(1)}});
  o.divergence_advice = "lower the learning rate and resume with --resume";
  o.quiet = !root;
  if (root)
    fmt::print("ctnn {}: preset {}{} on {} ({} backend, {} threads{}, {} ({})), {} train / {} {} images from {}\n",
               program, a.preset, overrides, a.device, ctnn::backend_name_v<Backend>, ctnn::num_threads(),
               group.size() > 1     ? fmt::format(" x {} ranks", group.size())
               : o.adaptive_threads ? std::string(" at most, auto")
                                    : std::string(),
               precision, why, data.train.size(), data.test.size(), a.val_split ? "validation" : "test", a.data);
  std::fflush(stdout);  // the log of a background run shows at once what is running
  train::Trainer trainer(model, data, o, group);
  const auto last = trainer.run();
  if (!root) return 0;
  if (group.size() > 1)
    fmt::print("gradient all-reduce: {:.2f} s in all over {} ranks\n", trainer.allreduce_seconds(), group.size());
  std::vector<std::string> names(data::kCifar10Classes.begin(), data::kCifar10Classes.end());
  fmt::print("{}", train::confusion_report(trainer.last_evaluation().confusion, names));
  if (train::render_curves(a.out)) fmt::print("curves: {}\n", (fs::path(a.out) / "curves.png").string());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("final test_acc={:.2f} test_loss={:.4f} epochs={} seconds={:.0f}{}\n", last.test_acc, last.test_loss,
             last.epoch, secs,
             std::isnan(last.test_acc_tta) ? std::string() : fmt::format(" test_acc_tta={:.2f}", last.test_acc_tta));
  return 0;
}

/// Joins the MPI group with --distributed, checks --out (rank 0), sets the threads, and calls
/// dispatch.template operator()<Backend>(group) for the --device asked; every error is one line on
/// stderr and exit code 2 (and aborts the other ranks, which may wait in a collective).
template <class Dispatch>
int run(const Args& a, int& argc, char**& argv, Dispatch&& dispatch) {
  Group group;
  try {
    if (a.distributed) {
#if CTNN_WITH_MPI
      group.mpi = std::make_unique<ctnn::dist::Mpi>(&argc, &argv);
#else
      (void)argc, (void)argv;
      throw UsageError("--distributed: this build has no MPI (install libopenmpi-dev openmpi-bin and reconfigure)");
#endif
    }
    if (group.rank() == 0) {  // only rank 0 writes (the others may be on hosts without this folder)
      std::error_code ec;
      fs::create_directories(a.out, ec);
      const auto probe = fs::path(a.out) / ".write-test";
      if (ec || !std::ofstream(probe))
        throw UsageError("--out " + a.out + ": folder cannot be created or is not writable");
      fs::remove(probe);
    }
    if (!a.threads.empty() && a.threads != "auto")
      ctnn::set_num_threads(std::stoi(a.threads));
    else if (a.distributed)
      ctnn::set_num_threads(1);  // one thread per rank: ranks are the parallelism
    if (a.device == "cuda") {
#if CTNN_WITH_CUDA
      return dispatch.template operator()<ctnn::cuda>(group);
#else
      throw UsageError("--device cuda: this build has no CUDA backend (configure with -DCTNN_WITH_CUDA=ON)");
#endif
    }
    // oneDNN, else Eigen, else the reference loops (include/ctnn/backend.hpp)
    return dispatch.template operator()<ctnn::cpu>(group);
  } catch (const std::exception& e) {
    if (group.size() > 1) group.abort(e.what());
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace cifar_example
