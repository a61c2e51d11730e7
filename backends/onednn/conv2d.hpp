#pragma once
// oneDNN Conv2d: convolution_forward / backward_data / backward_weights with format_tag::any.
// Weights live in the arena as OIHW f32 and are reordered to the primitive's layout (and to bf16)
// once per forward; weight gradients come back to the arena's OIHW f32 after backward. Each pass
// uses Winograd or direct convolution as Context<cpu>::conv_algorithm says (onednn::ConvAlgorithm).
// With groups the weights are oneDNN's 5-D G × Co/G × Ci/G × K × K (goihw: the same bytes as
// PyTorch's Co × Ci/G × K × K); Winograd is for ungrouped convolutions only.
#include <string>

#include "backends/onednn/context.hpp"
#include "ctnn/layers/conv2d.hpp"

namespace ctnn {

template <int Ci, int Co, int K, int S, int P, bool B, int G, class In>
struct Impl<Conv2d<Ci, Co, K, S, P, B, G>, In, cpu> {
  using Out = typename Conv2d<Ci, Co, K, S, P, B, G>::template output_shape<In>;
  using memory = dnnl::memory;
  dnnl::convolution_forward fwd;
  dnnl::convolution_backward_data bwd_data;
  dnnl::convolution_backward_weights bwd_weights;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
  dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd;
  onednn::Mirror weight_fwd, weight_bwd, dweight;
  memory bias, dbias, y, dx;
  onednn::Relayout src_fwd, src_bwd, dy_data, dy_weights;
  memory::desc src_any, wei_any, dst_any, user_wei;
  bool shared_weights = false;  // backward-data reads the forward's weight layout: no second reorder
  bool winograd = false;        // try Winograd for each pass (see onednn::ConvAlgorithm)

  /// The pass's primitive descriptor: Winograd if asked and oneDNN has it here, else direct.
  template <class Make>
  auto make_pd(Make make) const {
    if (winograd) try {
        return make(dnnl::algorithm::convolution_winograd);
      } catch (const dnnl::error&) {  // no Winograd kernel for this shape, type or CPU
      }
    return make(dnnl::algorithm::convolution_direct);
  }
  /// oneDNN's implementation names of the three passes (e.g. "jit_wino_4x3:avx512_core"), for tests and logs.
  std::string implementations() const {
    return std::string(fwd_pd.impl_info_str()) + " / " +
           (bwd_data ? std::string(bwd_data_pd.impl_info_str()) : std::string("-")) + " / " +
           bwd_weights_pd.impl_info_str();
  }

  void setup(Context<cpu>& ctx, int n, const memory&, Bound p, Links l) {
    using namespace onednn;
    const auto t = ctx.act_dt();
    const memory::dims stride{S, S}, pad{P, P};
    const memory::dims wdims = G == 1 ? memory::dims{Co, Ci, K, K} : memory::dims{G, Co / G, Ci / G, K, K};
    const memory::desc src({n, Ci, In::h, In::w}, t, tag::any), wei(wdims, t, tag::any), bia({Co}, dt::f32, tag::x),
        dst({n, Co, Out::h, Out::w}, t, tag::any), dwei(wdims, dt::f32, tag::any);
    src_any = src, wei_any = wei, dst_any = dst, user_wei = {wdims, dt::f32, G == 1 ? tag::oihw : tag::goihw};
    weight_ptr = p.value[0];
    using A = onednn::ConvAlgorithm;
    winograd = G == 1 && (ctx.conv_algorithm == A::winograd || (ctx.conv_algorithm == A::automatic && K == 3 &&
                                                                S == 1 && Ci >= 64 && Co >= 64 && t == dt::f32));
    fwd_pd = make_pd([&](dnnl::algorithm algo) {
      return dnnl::convolution_forward::primitive_desc(
          {dnnl::prop_kind::forward_training, algo, src, wei, B ? bia : memory::desc(), dst, stride, pad, pad},
          ctx.engine);
    });
    fwd = dnnl::convolution_forward(fwd_pd);
    bwd_weights_pd = make_pd([&](dnnl::algorithm algo) {
      return dnnl::convolution_backward_weights::primitive_desc(
          {algo, src, dwei, B ? bia : memory::desc(), dst, stride, pad, pad}, ctx.engine, fwd_pd);
    });
    bwd_weights = dnnl::convolution_backward_weights(bwd_weights_pd);
    weight_fwd.bind(ctx, p.value[0], user_wei, fwd_pd.weights_desc());
    dweight.bind(ctx, p.grad[0], user_wei, bwd_weights_pd.diff_weights_desc());
    if constexpr (B) {
      bias = memory(bia, ctx.engine, p.value[1]);
      dbias = memory(bia, ctx.engine, p.grad[1]);
    }
    y = memory(fwd_pd.dst_desc(), ctx.engine);
    if (l.index > 0) build_backward_data(ctx);  // the first layer's dx is rarely wanted: build on demand
  }
  float* weight_ptr = nullptr;
  void build_backward_data(Context<cpu>& ctx) {
    const memory::dims stride{S, S}, pad{P, P};
    bwd_data_pd = make_pd([&](dnnl::algorithm algo) {
      return dnnl::convolution_backward_data::primitive_desc({algo, src_any, wei_any, dst_any, stride, pad, pad},
                                                             ctx.engine, fwd_pd);
    });
    bwd_data = dnnl::convolution_backward_data(bwd_data_pd);
    shared_weights = bwd_data_pd.weights_desc() == fwd_pd.weights_desc();
    if (!shared_weights) weight_bwd.bind(ctx, weight_ptr, user_wei, bwd_data_pd.weights_desc());
    dx = ctx.gradient(bwd_data_pd.diff_src_desc());
  }
  const memory& output() const { return y; }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    const memory& s = src_fwd(ctx, x, fwd_pd.src_desc());
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, weight_fwd.sync(ctx)}, {DNNL_ARG_DST, y}};
    if constexpr (B) args.insert({DNNL_ARG_BIAS, bias});
    fwd.execute(ctx.stream, args);
    return y;
  }

  const memory& backward(Context<cpu>& ctx, const memory& x, const memory& dy, bool need_dx) {
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_bwd(ctx, x, bwd_weights_pd.src_desc())},
                                         {DNNL_ARG_DIFF_DST, dy_weights(ctx, dy, bwd_weights_pd.diff_dst_desc())},
                                         {DNNL_ARG_DIFF_WEIGHTS, dweight.get()}};
    if constexpr (B) args.insert({DNNL_ARG_DIFF_BIAS, dbias});
    bwd_weights.execute(ctx.stream, args);
    dweight.write_back(ctx);
    if (need_dx) {
      if (!bwd_data) build_backward_data(ctx);
      bwd_data.execute(ctx.stream, {{DNNL_ARG_DIFF_DST, dy_data(ctx, dy, bwd_data_pd.diff_dst_desc())},
                                    {DNNL_ARG_WEIGHTS, shared_weights ? weight_fwd.get() : weight_bwd.sync(ctx)},
                                    {DNNL_ARG_DIFF_SRC, dx}});
    }
    return dx;
  }
};

}  // namespace ctnn
