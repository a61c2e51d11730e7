#pragma once
// How the training loop talks to an optimizer value: SGD, Adam, or train::Optimizer (either of
// them, chosen at run time). Everything the loop and the checkpoints do with an optimizer goes
// through these few functions, including the hand-over to a device backend that keeps its own
// copy of the optimizer state (Context::update/push/pull: the HasDeviceOptimizer hook of backend.hpp).
#include <type_traits>
#include <variant>

#include "ctnn/backend.hpp"
#include "ctnn/optim/adam.hpp"
#include "ctnn/optim/sgd.hpp"

namespace ctnn::train {

using Optimizer = std::variant<SGD, Adam>;

template <class O>
concept OptimizerValue = std::is_same_v<O, SGD> || std::is_same_v<O, Adam> || std::is_same_v<O, Optimizer>;

template <OptimizerValue O>
float learning_rate(const O& o) {
  if constexpr (std::is_same_v<O, Optimizer>)
    return std::visit([](const auto& x) { return x.lr; }, o);
  else
    return o.lr;
}

template <OptimizerValue O>
void set_learning_rate(O& o, float lr) {
  if constexpr (std::is_same_v<O, Optimizer>)
    std::visit([&](auto& x) { x.lr = lr; }, o);
  else
    o.lr = lr;
}

/// One step over the model's parameter arena; on a device backend the update runs there, without copies.
template <class M, OptimizerValue O>
void optimizer_step(M& model, O& o) {
  if constexpr (std::is_same_v<O, Optimizer>)
    std::visit([&](auto& x) { optimizer_step(model, x); }, o);
  else if constexpr (HasDeviceOptimizer<std::remove_cvref_t<decltype(model.context())>, O>)
    model.context().update(o);
  else
    o.step(model.parameters(), model.gradients());
}

/// Brings the optimizer state (and the parameters) back from a device backend: before a checkpoint is written.
template <class M, OptimizerValue O>
void pull_optimizer(M& model, O& o) {
  if constexpr (std::is_same_v<O, Optimizer>)
    std::visit([&](auto& x) { pull_optimizer(model, x); }, o);
  else if constexpr (HasDeviceOptimizer<std::remove_cvref_t<decltype(model.context())>, O>)
    model.context().pull(o);
}

/// Hands a loaded optimizer state (and parameters) to a device backend: after a checkpoint is loaded.
template <class M, OptimizerValue O>
void push_optimizer(M& model, O& o) {
  if constexpr (std::is_same_v<O, Optimizer>)
    std::visit([&](auto& x) { push_optimizer(model, x); }, o);
  else if constexpr (HasDeviceOptimizer<std::remove_cvref_t<decltype(model.context())>, O>)
    model.context().push(o);
}

}  // namespace ctnn::train
