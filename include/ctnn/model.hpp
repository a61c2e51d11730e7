#pragma once
// Model<Net, In, Backend>: a network type made runnable. It owns
//   * the parameter, gradient and buffer arenas (one allocation each, PyTorch state_dict order),
//   * one workspace per batch size (the backend's layer Impls: primitives and activations),
//     created on first use and reused every step,
//   * the train/eval mode (BatchNorm and Dropout read it; the type never changes).
// Host-facing data is NCHW float32; what a backend keeps internally is its own business.
//
//   Model<AlexNet, Shape<3, 32, 32>, cpu> model(/*seed=*/1);
//   auto logits = model.forward(images, n);       // n × 10, host memory
//   model.backward(dlogits);                      // overwrites model.gradients()
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "ctnn/backend.hpp"
#include "ctnn/error.hpp"
#include "ctnn/layers/param.hpp"
#include "ctnn/sequential.hpp"
#include "ctnn/summary.hpp"

namespace ctnn {

/// One named tensor of a model, for checkpoints: PyTorch name ("features.0.weight"), shape, data.
struct NamedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::span<float> data;
  bool trainable;
  /// Weight decay applies to it (optim/param_groups.hpp): a trainable tensor of rank >= 2 — the
  /// weights of Conv2d and Linear; biases and BatchNorm's weight and bias are rank 1 and do not.
  bool decay = false;
};

template <class Net, class In, class Backend>
class Model {
  using Nodes = nodes_t<Net, In>;
  static constexpr std::size_t kLayers = std::tuple_size_v<Nodes>;
  template <std::size_t I>
  using node = std::tuple_element_t<I, Nodes>;
  template <std::size_t I>
  using layer = typename node<I>::layer;
  template <class Seq>
  struct ImplTuple;
  template <std::size_t... Is>
  struct ImplTuple<std::index_sequence<Is...>> {
    using type = std::tuple<Impl<layer<Is>, typename node<Is>::in, Backend>...>;
  };
  using Impls = typename ImplTuple<std::make_index_sequence<kLayers>>::type;
  using Act = typename Context<Backend>::Act;
  static_assert(BackendContext<Context<Backend>>, "ctnn: Context<Backend> does not meet BackendContext (backend.hpp)");
  template <std::size_t... Is>
  static constexpr bool impls_ok(std::index_sequence<Is...>) {
    return (LayerImpl<std::tuple_element_t<Is, Impls>, Context<Backend>> && ...);
  }
  static_assert(impls_ok(std::make_index_sequence<kLayers>{}),
                "ctnn: a layer's ctnn::Impl does not meet the LayerImpl concept (backend.hpp)");

 public:
  using net_type = Net;
  using backend = Backend;
  using input_shape = In;
  using output_shape = output_shape_t<Net, In>;
  static constexpr std::size_t num_parameters = parameter_count<Net, In>();

  /// Initialises parameters as PyTorch does by default (Conv2d/Linear: U(±1/√fan_in) for weight
  /// and bias; BatchNorm: weight 1, bias 0, running_mean 0, running_var 1), drawn from a
  /// mt19937_64 seeded with `seed`.
  explicit Model(std::uint64_t seed = 0, Precision precision = Precision::f32) : ctx_(precision) {
    ctx_.seed = seed;
    std::size_t np = 0, nb = 0;
    for_each_spec([&](std::size_t, const ParamSpec& s, std::size_t) { (s.trainable ? np : nb) += s.numel(); });
    params_.assign(np, 0.f);
    grads_.assign(np, 0.f);
    buffers_.assign(nb, 0.f);
    std::mt19937_64 rng(seed);
    np = nb = 0;
    for_each_spec([&](std::size_t, const ParamSpec& s, std::size_t) {
      float* p = s.trainable ? &params_[np] : &buffers_[nb];
      (s.trainable ? np : nb) += s.numel();
      const float bound = s.fan_in > 0 ? 1.f / std::sqrt(float(s.fan_in)) : 0.f;
      std::uniform_real_distribution<float> u(-bound, bound);
      for (std::size_t i = 0; i < s.numel(); ++i)
        p[i] = s.init == Init::ones ? 1.f : s.init == Init::zeros ? 0.f : u(rng);
    });
  }
  Model(const Model&) = delete;  // Impls hold pointers into the arenas
  Model& operator=(const Model&) = delete;

  void train(bool on = true) { ctx_.training = on; }
  void eval() { ctx_.training = false; }
  bool training() const { return ctx_.training; }
  Precision precision() const { return ctx_.precision; }
  /// Overrides every Dropout's p at run time (p = 0 makes training deterministic, e.g. for
  /// comparisons with another framework); a negative value restores the layers' own p.
  void set_dropout(float p) { ctx_.dropout_override = p; }

  /// Forward pass. x: n × C × H × W float32 (NCHW). Returns the n × output_shape::size output
  /// (host memory, valid until the next forward). Throws ctnn::Error if x.size() is not n·C·H·W.
  std::span<const float> forward(std::span<const float> x, int n) {
    if (n <= 0 || x.size() != std::size_t(n) * In::size)
      throw Error("Model::forward: input holds " + std::to_string(x.size()) + " values for batch " + std::to_string(n) +
                  ", expected " + std::to_string(n) + " x " + std::to_string(In::c) + " x " + std::to_string(In::h) +
                  " x " + std::to_string(In::w) + " = " + std::to_string(std::size_t(n > 0 ? n : 0) * In::size));
    ws_ = &workspace(n);
    ctx_.upload(x, n, In::c, In::h, In::w, ws_->input);
    if constexpr (HasPassHooks<Context<Backend>>) ctx_.begin_forward();
    const Act* a = &ws_->input;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      ((ws_->inputs[Is] = a, a = &std::get<Is>(ws_->impls).forward(ctx_, *a)), ...);
    }
    (std::make_index_sequence<kLayers>{});
    out_.resize(std::size_t(n) * output_shape::size);
    ctx_.download(*a, out_);
    if (ctx_.training) ++ctx_.step;  // counts training steps only: dropout masks stay reproducible on resume
    return out_;
  }

  /// Backward pass of the last forward. dy: d(loss)/d(output), same size as that output.
  /// Overwrites gradients() (no accumulation: PyTorch's zero_grad + backward). If dx is not
  /// empty it receives d(loss)/d(input), n × C × H × W.
  void backward(std::span<const float> dy, std::span<float> dx = {}) {
    if (!ws_) throw Error("Model::backward: call forward first");
    if (dy.size() != std::size_t(ws_->batch) * output_shape::size)
      throw Error("Model::backward: dy holds " + std::to_string(dy.size()) + " values, expected " +
                  std::to_string(std::size_t(ws_->batch) * output_shape::size));
    if (!dx.empty() && dx.size() != std::size_t(ws_->batch) * In::size)
      throw Error("Model::backward: dx holds " + std::to_string(dx.size()) + " values, expected " +
                  std::to_string(std::size_t(ws_->batch) * In::size));
    ctx_.upload(dy, ws_->batch, output_shape::c, output_shape::h, output_shape::w, ws_->dy);
    const Act* d = &ws_->dy;
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      constexpr std::size_t L = kLayers - 1;
      ((d = &std::get<L - Is>(ws_->impls).backward(ctx_, *ws_->inputs[L - Is], *d, L - Is > 0 || !dx.empty())), ...);
    }
    (std::make_index_sequence<kLayers>{});
    if constexpr (HasPassHooks<Context<Backend>>) ctx_.end_backward();
    if (!dx.empty()) ctx_.download(*d, dx);
  }

  /// All trainable values, state_dict order. Handing out a writable span marks the parameters
  /// as changed, so backends refresh their converted copies before the next evaluation forward
  /// (training forwards always refresh). Call it again after writing through an older span.
  std::span<float> parameters() {
    touch();
    return params_;
  }
  std::span<float> gradients() { return grads_; }  ///< same layout as parameters()
  std::span<float> buffers() {                     ///< running statistics
    touch();
    return buffers_;
  }
  Context<Backend>& context() { return ctx_; }
  /// Drops every workspace (primitives, activations); the next forward builds them again. Call it
  /// after changing the CPU thread count: oneDNN builds its kernels for the count current then.
  void reset_workspaces() {
    workspaces_.clear();
    ws_ = nullptr;
  }

  /// Every parameter and buffer with its PyTorch name, in state_dict order.
  std::vector<NamedTensor> named_tensors() {
    touch();  // writable views: see parameters()
    std::vector<NamedTensor> out;
    std::size_t np = 0, nb = 0;
    for_each_spec([&](std::size_t layer, const ParamSpec& s, std::size_t) {
      float* p = s.trainable ? &params_[np] : &buffers_[nb];
      (s.trainable ? np : nb) += s.numel();
      out.push_back({module_path<Net, In>(int(layer)) + "." + s.name,
                     std::vector<std::int64_t>(s.shape.begin(), s.shape.begin() + s.rank),
                     std::span<float>(p, s.numel()), s.trainable, s.trainable && s.rank >= 2});
    });
    return out;
  }

 private:
  // Tells a backend that caches converted parameters (oneDNN's weight layouts) to refresh them.
  void touch() {
    if constexpr (HasParamVersion<Context<Backend>>) ++ctx_.param_version;
  }

  struct Workspace {
    int batch = 0;
    std::shared_ptr<void> backend_state;  // e.g. oneDNN's pooled gradient buffers; outlives impls
    Impls impls;
    Act input, dy;
    std::array<const Act*, kLayers> inputs{};
  };

  /// Calls f(layer_index, spec, spec_index) for every tensor of every layer, in order.
  template <class F>
  static void for_each_spec(F&& f) {
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      (
          [&] {
            constexpr auto specs = layer<Is>::template params<typename node<Is>::in>();
            for (std::size_t k = 0; k < specs.size(); ++k) f(Is, specs[k], k);
          }(),
          ...);
    }
    (std::make_index_sequence<kLayers>{});
  }

  template <std::size_t I>
  static constexpr Links links() {
    Links l;
    l.index = int(I);
    if constexpr (I + 1 < kLayers) l.fuse_next = fuses_v<Backend, layer<I>, layer<I + 1>>;
    if constexpr (I > 0) l.fused_into_prev = fuses_v<Backend, layer<I - 1>, layer<I>>;
    return l;
  }

  /// The workspace for batch size n, built on first use. A few sizes are kept (training batch,
  /// the epoch's last partial batch, the evaluation batch) so alternating between them is free.
  Workspace& workspace(int n) {
    auto it = workspaces_.find(n);
    if (it != workspaces_.end()) return *it->second;
    if (workspaces_.size() >= 4) workspaces_.erase(workspaces_.begin());
    auto ws = std::make_unique<Workspace>();
    ws->batch = n;
    if constexpr (HasArenas<Context<Backend>>)
      ctx_.bind_arenas(params_, grads_, buffers_);  // a device backend mirrors the arenas (once)
    ctx_.upload_shape(n, In::c, In::h, In::w, ws->input);
    std::vector<Bound> bound(kLayers);
    std::size_t np = 0, nb = 0;
    for_each_spec([&](std::size_t layer, const ParamSpec& s, std::size_t k) {
      if (k >= bound[layer].value.size()) bound[layer].value.resize(k + 1), bound[layer].grad.resize(k + 1);
      if (s.trainable) {
        bound[layer].value[k] = &params_[np];
        bound[layer].grad[k] = &grads_[np];
        np += s.numel();
      } else {
        bound[layer].value[k] = &buffers_[nb];
        nb += s.numel();
      }
    });
    const Act* a = &ws->input;
    if constexpr (HasWorkspaceHooks<Context<Backend>>) ws->backend_state = ctx_.begin_workspace();
    [&]<std::size_t... Is>(std::index_sequence<Is...>) {
      ((std::get<Is>(ws->impls).setup(ctx_, n, *a, bound[Is], links<Is>()), a = &std::get<Is>(ws->impls).output()),
       ...);
    }
    (std::make_index_sequence<kLayers>{});
    if constexpr (HasWorkspaceHooks<Context<Backend>>) ctx_.end_workspace();
    return *workspaces_.emplace(n, std::move(ws)).first->second;
  }

  Context<Backend> ctx_;
  std::vector<float> params_, grads_, buffers_;
  std::map<int, std::unique_ptr<Workspace>> workspaces_;
  Workspace* ws_ = nullptr;
  std::vector<float> out_;
};

}  // namespace ctnn
