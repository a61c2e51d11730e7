// ctnn_bench: Google Benchmark suite for the seed AlexNet (ctnn::models::AlexNetCifar) on the
// oneDNN CPU backend.
//
//   layer_fwd/<i>_<module>_<Layer>_<in>-<out>/batch:B   forward of one layer in isolation
//   layer_bwd/...                                         backward of the same layer
//   net/train_step/batch:B                                forward, CrossEntropyLoss, backward, SGD
//   net/inference/batch:B                                 eval-mode forward
//
// Every layer of the net is benchmarked as a one-layer net, Model<Sequential<Layer>, In, cpu>,
// built at compile time from nodes_t<Net, Input>. Two consequences (see README.md):
//   * the layer gets plain NCHW f32 input (Model::forward uploads host data) and its output is
//     downloaded to host NCHW, so a layer whose primitive wants a blocked layout pays a reorder
//     in and out that it does not pay inside the net;
//   * BatchNorm followed by ReLU is benchmarked as the pair (Sequential<BatchNorm, ReLU>), because
//     the backend fuses the two into one primitive inside the net and the ReLU alone never runs.
// Forward runs in training mode (batch statistics, active Dropout) as in a training step.
// Backward asks for dx for every layer except node 0 (as Model does inside the net), so the
// GFLOP/s of a conv/linear backward counts dW + dx = 2x the forward FLOPs (1x for node 0).
//
// Counters: images_per_s (kIsRate, wall time), GFLOP_per_s (conv & linear only, 2 FLOPs per
// multiply-add). All benchmarks use real (wall) time, which the rates divide by: oneDNN runs on
// OMP_NUM_THREADS threads. The CPU column is the whole process's CPU time (all threads).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <thread>

#include "benchmarks/common.hpp"

namespace {

using namespace ctnn_bench;

/// Node I is a BatchNorm that the backend fuses with the ReLU after it.
template <std::size_t I>
constexpr bool fused_pair() {
  if constexpr (I + 1 < kNodes)
    return ctnn::fuses_v<ctnn::cpu, layer<I>, layer<I + 1>>;
  else
    return false;
}
/// Node I is that ReLU: it is benchmarked with its BatchNorm.
template <std::size_t I>
constexpr bool skipped() {
  if constexpr (I == 0)
    return false;
  else
    return fused_pair<I - 1>();
}
template <std::size_t I>
using unit_net = std::conditional_t<fused_pair<I>(), ctnn::Sequential<layer<I>, layer<(I + 1) % kNodes>>,
                                    ctnn::Sequential<layer<I>>>;
template <std::size_t I>
using unit_out = ctnn::output_shape_t<unit_net<I>, typename node<I>::in>;

template <std::size_t I>
std::string unit_name() {
  std::string s = std::to_string(I);
  if (s.size() < 2) s = "0" + s;
  // module_path gives the PyTorch module name; the Flatten node has none (torch.flatten in forward).
  const std::string module = ctnn::is_flatten_v<layer<I>> ? "flatten" : ctnn::module_path<Net, Input>(int(I));
  s += "_" + module + "_" + layer<I>::name;
  if constexpr (fused_pair<I>()) s += "+ReLU";
  return s + "_" + dims<typename node<I>::in>() + "-" + dims<unit_out<I>>();
}

void set_counters(benchmark::State& st, int n, double flops_per_iter) {
  st.counters["images_per_s"] = benchmark::Counter(double(n) * double(st.iterations()), benchmark::Counter::kIsRate);
  if (flops_per_iter > 0)
    st.counters["GFLOP_per_s"] =
        benchmark::Counter(flops_per_iter * 1e-9 * double(st.iterations()), benchmark::Counter::kIsRate);
}

template <std::size_t I>
void layer_forward(benchmark::State& st) {
  using In = typename node<I>::in;
  const int n = int(st.range(0));
  ctnn::Model<unit_net<I>, In, ctnn::cpu> m(1);
  m.train();
  const auto x = random_floats(std::size_t(n) * In::size, 2);
  m.forward(x, n);  // builds the workspace (primitives, buffers) and warms up
  for (auto _ : st) {
    auto y = m.forward(x, n);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(st, n, 2 * macs_of<layer<I>, In>() * n);
}

template <std::size_t I>
void layer_backward(benchmark::State& st) {
  using In = typename node<I>::in;
  const int n = int(st.range(0));
  ctnn::Model<unit_net<I>, In, ctnn::cpu> m(1);
  m.train();
  const auto x = random_floats(std::size_t(n) * In::size, 2);
  const auto dy = random_floats(std::size_t(n) * unit_out<I>::size, 3);
  std::vector<float> dx(I > 0 ? std::size_t(n) * In::size : 0);  // node 0: weight gradient only
  m.forward(x, n);
  m.backward(dy, dx);  // warm-up
  for (auto _ : st) {
    m.backward(dy, dx);
    m.context().stream.wait();
    benchmark::DoNotOptimize(m.gradients().data());
  }
  set_counters(st, n, 2 * macs_of<layer<I>, In>() * n * (I > 0 ? 2 : 1));
}

void net_train_step(benchmark::State& st) {
  const int n = int(st.range(0));
  ctnn::Model<Net, Input, ctnn::cpu> m(1);
  ctnn::SGD sgd(0.01f, 0.9f);
  ctnn::CrossEntropyLoss loss;
  const auto x = random_floats(std::size_t(n) * Input::size, 2);
  const auto t = random_targets(std::size_t(n), 4);
  std::vector<float> dlogits(std::size_t(n) * kClasses);
  auto step = [&] {
    auto logits = m.forward(x, n);
    loss(logits, t, kClasses, dlogits);
    m.backward(dlogits);
    sgd.step(m.parameters(), m.gradients());
  };
  step();  // warm-up: workspace, momentum buffer
  for (auto _ : st) step();
  set_counters(st, n, net_flops_per_sample<true>() * n);
}

void net_inference(benchmark::State& st) {
  const int n = int(st.range(0));
  ctnn::Model<Net, Input, ctnn::cpu> m(1);
  m.eval();
  const auto x = random_floats(std::size_t(n) * Input::size, 2);
  m.forward(x, n);
  for (auto _ : st) {
    auto y = m.forward(x, n);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters(st, n, net_flops_per_sample<false>() * n);
}

template <class B>
B* batches(B* b) {
  return b->ArgName("batch")->Arg(32)->Arg(128)->Arg(256)->UseRealTime()->MeasureProcessCPUTime()->Unit(
      benchmark::kMillisecond);
}

template <std::size_t I>
void register_unit() {
  if constexpr (!skipped<I>()) {
    batches(benchmark::RegisterBenchmark(("layer_fwd/" + unit_name<I>()).c_str(), layer_forward<I>));
    batches(benchmark::RegisterBenchmark(("layer_bwd/" + unit_name<I>()).c_str(), layer_backward<I>));
  }
}

}  // namespace

int main(int argc, char** argv) {
  [&]<std::size_t... Is>(std::index_sequence<Is...>) { (register_unit<Is>(), ...); }
  (std::make_index_sequence<kNodes>{});
  batches(benchmark::RegisterBenchmark("net/train_step", net_train_step));
  batches(benchmark::RegisterBenchmark("net/inference", net_inference));

  const auto* v = dnnl::version();
  const unsigned rt = v->cpu_runtime;
  const std::string runtime = rt == DNNL_RUNTIME_OMP   ? "OpenMP"
                              : rt == DNNL_RUNTIME_TBB ? "TBB"
                              : rt == DNNL_RUNTIME_SEQ ? "sequential"
                                                       : "other";
  benchmark::AddCustomContext("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                            std::to_string(v->patch) + " (" + runtime + ")");
  const char* omp = std::getenv("OMP_NUM_THREADS");
  benchmark::AddCustomContext("OMP_NUM_THREADS", omp ? omp : "(unset)");
  benchmark::AddCustomContext("net", "ctnn::models::AlexNetCifar, input 3x32x32, oneDNN backend (ctnn::cpu), f32");
  benchmark::AddCustomContext("train_step_GFLOP_per_image", std::to_string(net_flops_per_sample<true>() * 1e-9));
  benchmark::AddCustomContext("inference_GFLOP_per_image", std::to_string(net_flops_per_sample<false>() * 1e-9));

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
