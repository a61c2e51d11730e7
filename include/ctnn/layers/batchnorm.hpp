#pragma once
// BatchNorm<Dims, Momentum, Eps>: batch normalisation (Ioffe & Szegedy 2015), PyTorch semantics.
//   Momentum and Eps are exact Ratios (ctnn/ratio.hpp): BatchNorm<2, 0.9_r> is PyTorch's
//   BatchNorm2d(C, momentum=0.9); the defaults are PyTorch's 0.1 and 1e-5.
//   BatchNorm2d = BatchNorm<2>: input N × C × H × W, statistics per channel over N·H·W.
//   BatchNorm1d = BatchNorm<1>: input N × C (flat), statistics per feature over N.
// The channel count C is inferred from the input shape (PyTorch makes you repeat it).
// Train:  y = (x − μ_B)/√(σ²_B + eps) · weight + bias with the biased batch variance σ²_B;
//         running = (1 − momentum)·running + momentum·batch, using the UNBIASED variance
//         (σ²_B · m/(m−1), m = values per channel) for running_var — exactly torch.nn.BatchNorm*d.
// Eval:   y = (x − running_mean)/√(running_var + eps) · weight + bias.
// Parameters weight (=1), bias (=0); buffers running_mean (=0), running_var (=1).
#include <array>

#include "ctnn/layers/param.hpp"
#include "ctnn/ratio.hpp"
#include "ctnn/shape.hpp"

namespace ctnn {

template <int Dims, Ratio Momentum = 0.1_r, Ratio Eps = 1e-5_r>
struct BatchNorm {
  static_assert(Dims == 1 || Dims == 2, "BatchNorm: Dims is 1 (N×C) or 2 (N×C×H×W)");
  static_assert(Momentum.num >= 0 && Momentum.num <= Momentum.den, "BatchNorm: momentum must be in [0, 1]");
  static_assert(Eps.num > 0, "BatchNorm: eps must be > 0");
  static constexpr const char* name = Dims == 2 ? "BatchNorm2d" : "BatchNorm1d";
  static constexpr float momentum = Momentum, eps = Eps;

  template <class In>
  static constexpr bool accepts = Dims == 2 ? !In::flat : In::flat;
  template <class In>
  using expected_input = In;  // any channel count; the rank is what BatchNorm1d/2d checks
  template <class In>
  using output_shape = In;

  template <class In>
  static constexpr auto params() {
    return std::array{ParamSpec{"weight", {In::c, 0, 0, 0}, 1, true, Init::ones},
                      ParamSpec{"bias", {In::c, 0, 0, 0}, 1, true, Init::zeros},
                      ParamSpec{"running_mean", {In::c, 0, 0, 0}, 1, false, Init::zeros},
                      ParamSpec{"running_var", {In::c, 0, 0, 0}, 1, false, Init::ones}};
  }
};

using BatchNorm2d = BatchNorm<2>;
using BatchNorm1d = BatchNorm<1>;

/// Layer-kind trait: any BatchNorm<D, M, E>.
template <class L>
inline constexpr bool is_batchnorm_v = false;
template <int D, Ratio M, Ratio E>
inline constexpr bool is_batchnorm_v<BatchNorm<D, M, E>> = true;

}  // namespace ctnn
