#pragma once
// oneDNN BatchNorm1d/2d: batch_normalization_forward/backward on the layout that arrives.
// When the next layer is a ReLU, it is fused (normalization_flags::fuse_norm_relu, with its
// workspace) and the ReLU passes through. oneDNN returns the batch mean and biased variance;
// the running statistics are updated here with PyTorch's rule (unbiased variance, momentum).
// BatchNorm1d's N×C input is described as N×C×1×1 in nhwc: on a 2-D descriptor oneDNN falls
// back to a slow generic kernel (measured in bf16: 10.6 ms against 0.06 ms a call).
#include <vector>

#include "backends/onednn/context.hpp"
#include "ctnn/core/batchnorm.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/batchnorm.hpp"

namespace ctnn {

/// BatchNorm then ReLU is one oneDNN primitive here (Model sets Links::fuse_next from this).
template <int D, Ratio M, Ratio E>
inline constexpr bool fuses_v<cpu, BatchNorm<D, M, E>, ReLU> = true;

template <int D, Ratio Mr, Ratio Er, class In>
struct Impl<BatchNorm<D, Mr, Er>, In, cpu> {
  static constexpr float E = Er;
  static constexpr int C = In::c;
  using memory = dnnl::memory;
  using bn_fwd = dnnl::batch_normalization_forward;
  using bn_bwd = dnnl::batch_normalization_backward;
  bn_fwd train_fwd, eval_fwd;
  bn_bwd bwd;
  bn_fwd::primitive_desc train_pd;
  memory::desc data_md;
  memory y, dx, mean, var, run_mean, run_var, scale, shift, dscale, dshift, workspace;
  onednn::Relayout src_in, dy_in;
  int n = 0;
  bool fused = false;  // ReLU applied here; its mask lives in the workspace

  void setup(Context<cpu>& ctx, int batch, const memory& x, Bound p, Links l) {
    using namespace onednn;
    using flags = dnnl::normalization_flags;
    n = batch, fused = l.fuse_next;
    // 2-D: take the layout the convolution chose. 1-D: N×C×1×1 nhwc (same bytes as N×C).
    data_md = D == 2 ? x.get_desc() : memory::desc({n, C, 1, 1}, x.get_desc().data_type(), tag::nhwc);
    const auto f = flags::use_scale | flags::use_shift | (l.fuse_next ? flags::fuse_norm_relu : flags::none);
    train_pd = {{dnnl::prop_kind::forward_training, data_md, E, f}, ctx.engine};
    train_fwd = bn_fwd(train_pd);
    eval_fwd = bn_fwd(bn_fwd::primitive_desc(
        {dnnl::prop_kind::forward_inference, data_md, E, f | flags::use_global_stats}, ctx.engine));
    bwd = bn_bwd(bn_bwd::primitive_desc({dnnl::prop_kind::backward, data_md, data_md, E, f}, ctx.engine, train_pd));
    const memory::desc vec({C}, dt::f32, tag::x);
    auto wrap = [&](float* ptr) { return memory(vec, ctx.engine, ptr); };
    scale = wrap(p.value[0]), shift = wrap(p.value[1]), run_mean = wrap(p.value[2]), run_var = wrap(p.value[3]);
    dscale = wrap(p.grad[0]), dshift = wrap(p.grad[1]);
    mean = memory(vec, ctx.engine), var = memory(vec, ctx.engine);
    y = memory(data_md, ctx.engine), dx = ctx.gradient(data_md);
    if (fused) workspace = memory(train_pd.workspace_desc(), ctx.engine);
  }
  const memory& output() const { return y; }

  const memory& forward(Context<cpu>& ctx, const memory& x) {
    const memory& s = src_in(ctx, x, data_md);
    if (!ctx.training) {
      eval_fwd.execute(ctx.stream, {{DNNL_ARG_SRC, s},
                                    {DNNL_ARG_DST, y},
                                    {DNNL_ARG_MEAN, run_mean},
                                    {DNNL_ARG_VARIANCE, run_var},
                                    {DNNL_ARG_SCALE, scale},
                                    {DNNL_ARG_SHIFT, shift}});
      return y;
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, s},        {DNNL_ARG_DST, y},       {DNNL_ARG_MEAN, mean},
                                         {DNNL_ARG_VARIANCE, var}, {DNNL_ARG_SCALE, scale}, {DNNL_ARG_SHIFT, shift}};
    if (fused) args.insert({DNNL_ARG_WORKSPACE, workspace});
    train_fwd.execute(ctx.stream, args);
    ctx.stream.wait();
    const double m = double(n) * In::h * In::w;
    if (m < 2) throw Error("BatchNorm: training needs more than 1 value per channel (batch of 1?)");
    const float* bm = static_cast<const float*>(mean.get_data_handle());
    const float* bv = static_cast<const float*>(var.get_data_handle());
    float* rm = static_cast<float*>(run_mean.get_data_handle());
    float* rv = static_cast<float*>(run_var.get_data_handle());
    for (int c = 0; c < C; ++c) core::batchnorm_running_update(rm[c], rv[c], bm[c], bv[c], m, Mr.value());
    return y;
  }

  const memory& backward(Context<cpu>& ctx, const memory& x, const memory& dy, bool) {
    if (!ctx.training) throw Error("BatchNorm (oneDNN): backward is only implemented in training mode");
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src_in(ctx, x, data_md)},
                                         {DNNL_ARG_DIFF_DST, dy_in(ctx, dy, data_md)},
                                         {DNNL_ARG_MEAN, mean},
                                         {DNNL_ARG_VARIANCE, var},
                                         {DNNL_ARG_SCALE, scale},
                                         {DNNL_ARG_SHIFT, shift},  // oneDNN 2.6 refuses to run without it
                                         {DNNL_ARG_DIFF_SRC, dx},
                                         {DNNL_ARG_DIFF_SCALE, dscale},
                                         {DNNL_ARG_DIFF_SHIFT, dshift}};
    if (fused) args.insert({DNNL_ARG_WORKSPACE, workspace});
    bwd.execute(ctx.stream, args);
    return dx;
  }
};

}  // namespace ctnn
