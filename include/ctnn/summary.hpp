#pragma once
// summary<Net>(Shape): the table torchsummary prints — one row per layer (Type-index, output
// shape, parameter count), totals and memory estimates in MB for batch size 1, float32.
#include <cstdio>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "ctnn/sequential.hpp"

namespace ctnn {

/// Trainable parameters of one layer at input shape In (buffers such as running_mean excluded,
/// as torchsummary and model.parameters() do).
template <class L, class In>
constexpr std::size_t trainable_count() {
  std::size_t n = 0;
  for (const auto& p : L::template params<In>())
    if (p.trainable) n += p.numel();
  return n;
}

template <class Net, class In>
constexpr std::size_t parameter_count() {
  return []<std::size_t... Is>(std::index_sequence<Is...>) {
    using N = nodes_t<Net, In>;
    return (std::size_t{0} + ... +
            trainable_count<typename std::tuple_element_t<Is, N>::layer, typename std::tuple_element_t<Is, N>::in>());
  }
  (std::make_index_sequence<std::tuple_size_v<nodes_t<Net, In>>>{});
}

inline std::string with_commas(std::size_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
  return s;
}

/// A one-line description of the architecture ("Conv2d[96,32,32]|BatchNorm2d[96,32,32]|...",
/// layer names with output shapes): stored in checkpoints so that one net's checkpoint is
/// refused by another, whatever compiler built either.
template <class Net, class In>
std::string architecture() {
  using N = nodes_t<Net, In>;
  std::string s;
  [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    ((s += (Is ? "|" : "") + std::string(std::tuple_element_t<Is, N>::layer::name) + "[" +
           std::to_string(std::tuple_element_t<Is, N>::out::c) + "," +
           std::to_string(std::tuple_element_t<Is, N>::out::h) + "," +
           std::to_string(std::tuple_element_t<Is, N>::out::w) + "]"),
     ...);
  }
  (std::make_index_sequence<std::tuple_size_v<N>>{});
  return s;
}

/// The torchsummary-style table as a string (print it with std::cout << summary<Net, In>()).
template <class Net, class In>
std::string summary() {
  using N = nodes_t<Net, In>;
  std::ostringstream os;
  char line[128];
  const char* rule = "----------------------------------------------------------------\n";
  os << rule;
  std::snprintf(line, sizeof line, "%25s %25s %15s\n", "Layer (type)", "Output Shape", "Param #");
  os << line << "================================================================\n";
  std::size_t activations = 0;
  [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    ((std::snprintf(
          line, sizeof line, "%25s %25s %15s\n",
          (std::string(std::tuple_element_t<Is, N>::layer::name) + "-" + std::to_string(Is + 1)).c_str(),
          shape_string<typename std::tuple_element_t<Is, N>::out>().c_str(),
          with_commas(
              trainable_count<typename std::tuple_element_t<Is, N>::layer, typename std::tuple_element_t<Is, N>::in>())
              .c_str()),
      os << line, activations += std::tuple_element_t<Is, N>::out::size),
     ...);
  }
  (std::make_index_sequence<std::tuple_size_v<N>>{});
  const std::size_t total = parameter_count<Net, In>();
  const double mb = 1024.0 * 1024.0, in_mb = In::size * 4 / mb, act_mb = 2.0 * activations * 4 / mb,
               par_mb = total * 4 / mb;
  os << "================================================================\n"
     << "Total params: " << with_commas(total) << "\nTrainable params: " << with_commas(total)
     << "\nNon-trainable params: 0\n"
     << rule;
  std::snprintf(line, sizeof line,
                "Input size (MB): %.2f\nForward/backward pass size (MB): %.2f\nParams size (MB): %.2f\n"
                "Estimated Total Size (MB): %.2f\n",
                in_mb, act_mb, par_mb, in_mb + act_mb + par_mb);
  os << line << rule;
  return os.str();
}

}  // namespace ctnn
