#pragma once
// Dropout on the oneDNN backend: oneDNN 2.6 has no dropout primitive, so this is a loop over the
// activation's bytes (any layout: element-wise). Masks are drawn with the same counter-based
// hash as the reference backend, so both agree wherever the layout is plain (after BatchNorm1d).
#include <cstdint>
#include <cstring>
#include <vector>

#include "backends/onednn/context.hpp"
#include "ctnn/core/random.hpp"  // dropout_keep / dropout_stream, as every backend
#include "ctnn/layers/dropout.hpp"

namespace ctnn {

template <Ratio Pr, class In>
struct Impl<DropoutP<Pr>, In, cpu> {
  static constexpr float P = Pr;
  using memory = dnnl::memory;
  memory y, dx;
  memory::desc md;
  std::vector<std::uint8_t> keep;
  onednn::Relayout dy_in;
  float scale = 1.f;
  int layer = 0;

  void setup(Context<cpu>& ctx, int, const memory& x, Bound, Links l) {
    md = x.get_desc();
    y = memory(md, ctx.engine), dx = ctx.gradient(md);
    keep.resize(md.get_size() / (md.data_type() == onednn::dt::bf16 ? 2 : 4));
    layer = l.index;
  }
  const memory& output() const { return y; }

  // Applies out[i] = in[i]·scale where kept, 0 elsewhere, for f32 or bf16 (the high half of f32).
  void apply(const memory& in, memory& out) const {
    const std::size_t count = keep.size();
    if (md.data_type() == onednn::dt::bf16) {
      auto* s = static_cast<const std::uint16_t*>(in.get_data_handle());
      auto* d = static_cast<std::uint16_t*>(out.get_data_handle());
      for (std::size_t i = 0; i < count; ++i) {
        std::uint32_t bits = std::uint32_t(s[i]) << 16;
        float v;
        std::memcpy(&v, &bits, 4);
        v = keep[i] ? v * scale : 0.f;
        std::memcpy(&bits, &v, 4);
        d[i] = std::uint16_t((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);  // round to nearest even
      }
    } else {
      auto* s = static_cast<const float*>(in.get_data_handle());
      auto* d = static_cast<float*>(out.get_data_handle());
      for (std::size_t i = 0; i < count; ++i) d[i] = keep[i] ? s[i] * scale : 0.f;
    }
  }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    const float p = ctx.training ? (ctx.dropout_override >= 0 ? ctx.dropout_override : P) : 0.f;
    if (p == 0.f) {
      std::fill(keep.begin(), keep.end(), 1);
      scale = 1.f;
      return x;  // identity: hand the input on (backward still copies: see there)
    }
    scale = 1.f / (1.f - p);
    const auto stream = dropout_stream(ctx.seed, ctx.step, layer);
    for (std::size_t i = 0; i < keep.size(); ++i) keep[i] = dropout_keep(stream, i, p);
    ctx.stream.wait();
    apply(x, y);
    return y;
  }

  const memory& backward(Context<cpu>& ctx, const memory&, const memory& dy, bool) {
    // Always into this layer's own dx, even for p = 0: dx buffers alternate between two pooled
    // slots (GradientPool), and handing dy back would make the previous layer overwrite it.
    const memory& d = dy_in(ctx, dy, md);
    ctx.stream.wait();
    apply(d, dx);
    return dx;
  }
};

}  // namespace ctnn
