#include "seqpack/models/stepwise_lstm.h"

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include "seqpack/errors.h"

namespace seqpack::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The pack's steps: live rows and where they start.
struct Steps {
  std::vector<int64_t> live, offset;
  int64_t rows = 0;  // all packed rows
};

Steps steps_of(const at::Tensor& batch_sizes) {
  const auto sizes = batch_sizes.contiguous();
  Steps s;
  s.live.assign(sizes.const_data_ptr<int64_t>(), sizes.const_data_ptr<int64_t>() + sizes.numel());
  for (const int64_t b : s.live) {
    s.offset.push_back(s.rows);
    s.rows += b;
  }
  return s;
}

// For every packed row, where its previous state is in cat({initial, layer output}): step 0 reads
// the initial state, step t the same rank at step t-1.
at::Tensor previous_rows(const Steps& s) {
  std::vector<int64_t> index(s.rows);
  for (size_t t = 0; t < s.live.size(); ++t) {
    for (int64_t r = 0; r < s.live[t]; ++r) index[s.offset[t] + r] = t == 0 ? r : s.live[0] + s.offset[t - 1] + r;
  }
  return at::tensor(index);
}

// For every rank, its last step's packed row (later steps overwrite earlier ones).
at::Tensor last_rows(const Steps& s) {
  std::vector<int64_t> index(s.live.empty() ? 0 : s.live[0]);
  for (size_t t = 0; t < s.live.size(); ++t) {
    for (int64_t r = 0; r < s.live[t]; ++r) index[r] = s.offset[t] + r;
  }
  return at::tensor(index);
}

// gates rows hold activated (i, f, g, o), H each: c = f * c_prev + i * g.
template <typename T>
void cell_forward(const at::Tensor& gates, const at::Tensor& c_prev, at::Tensor& c) {
  const int64_t rows = c.size(0), H = c.size(1);
  const T* gp = gates.const_data_ptr<T>();
  const T* cp = c_prev.const_data_ptr<T>();
  T* cn = c.mutable_data_ptr<T>();
  for (int64_t r = 0; r < rows; ++r) {
    const T *i = gp + r * 4 * H, *f = i + H, *g = i + 2 * H;
    for (int64_t k = 0; k < H; ++k) cn[r * H + k] = f[k] * cp[r * H + k] + i[k] * g[k];
  }
}

// One step back through the cell. carry_h, carry_c: the gradients reaching this step's h and c
// from the next step; out_grad, cell_grad (or null): from the layer's outputs. Writes the gates'
// pre-activation gradients, and carry_c becomes the gradient of c_prev.
template <typename T>
void cell_backward(const at::Tensor& gates, const at::Tensor& tanh_c, const at::Tensor& c_prev, const T* out_grad,
                   const T* cell_grad, const at::Tensor& carry_h, at::Tensor& carry_c, at::Tensor& gates_grad) {
  const int64_t rows = tanh_c.size(0), H = tanh_c.size(1);
  const T* gp = gates.const_data_ptr<T>();
  const T* tp = tanh_c.const_data_ptr<T>();
  const T* cp = c_prev.const_data_ptr<T>();
  const T* hp = carry_h.const_data_ptr<T>();
  T* dcp = carry_c.mutable_data_ptr<T>();
  T* dgp = gates_grad.mutable_data_ptr<T>();
  for (int64_t r = 0; r < rows; ++r) {
    const T *i = gp + r * 4 * H, *f = i + H, *g = i + 2 * H, *o = i + 3 * H;
    T *di = dgp + r * 4 * H, *df = di + H, *dg = di + 2 * H, *d_o = di + 3 * H;
    for (int64_t k = 0; k < H; ++k) {
      const int64_t e = r * H + k;
      const T dh = hp[e] + (out_grad ? out_grad[e] : T(0));
      const T tc = tp[e];
      const T dc = dcp[e] + (cell_grad ? cell_grad[e] : T(0)) + dh * o[k] * (T(1) - tc * tc);
      di[k] = dc * g[k] * i[k] * (T(1) - i[k]);
      df[k] = dc * cp[e] * f[k] * (T(1) - f[k]);
      dg[k] = dc * i[k] * (T(1) - g[k] * g[k]);
      d_o[k] = dh * tc * o[k] * (T(1) - o[k]);
      dcp[e] = dc * f[k];
    }
  }
}

// Runs fn(first row, rows) over a step's live rows in at most one parallel region: rows are
// independent within a step, so the threads meet once a step instead of inside every small GEMM
// and element-wise op (which then run single-threaded: ATen and MKL do not nest parallelism).
template <typename F>
void over_rows(int64_t rows, const F& fn) {
  constexpr int64_t kRowsPerThread = 16;
  at::parallel_for(0, rows, kRowsPerThread, [&](int64_t begin, int64_t end) { fn(begin, end - begin); });
}

// One layer over the pack. Inputs: x (N, in), h0 and c0 (B, H) in rank order, the weights, the
// pack's batch_sizes. Outputs: h and c at every packed row, (N, H) each.
struct StepwiseLayer : torch::autograd::Function<StepwiseLayer> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& h0_in,
                               const at::Tensor& c0_in, const at::Tensor& w_ih, const at::Tensor& w_hh,
                               const at::Tensor& b_ih, const at::Tensor& b_hh, const at::Tensor& batch_sizes) {
    const auto s = steps_of(batch_sizes);
    const int64_t H = w_hh.size(1);
    const auto h0 = h0_in.contiguous(), c0 = c0_in.contiguous();
    // The input projection of every row at once; each step adds its recurrence in place.
    auto gates = at::addmm(b_ih + b_hh, x, w_ih.t());
    auto out = at::empty({s.rows, H}, x.options());
    auto cell = at::empty({s.rows, H}, x.options());
    auto tanh_cell = at::empty({s.rows, H}, x.options());
    const auto w_hh_t = w_hh.t();
    for (size_t t = 0; t < s.live.size(); ++t) {
      const int64_t o = s.offset[t];
      const auto& h_prev = t == 0 ? h0 : out.narrow(0, s.offset[t - 1], s.live[t - 1]);
      const auto& c_prev = t == 0 ? c0 : cell.narrow(0, s.offset[t - 1], s.live[t - 1]);
      over_rows(s.live[t], [&](int64_t r, int64_t n) {
        auto g = gates.narrow(0, o + r, n);
        g.addmm_(h_prev.narrow(0, r, n), w_hh_t);
        g.narrow(1, 0, 2 * H).sigmoid_();
        g.narrow(1, 2 * H, H).tanh_();
        g.narrow(1, 3 * H, H).sigmoid_();
        auto c = cell.narrow(0, o + r, n);
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "stepwise_lstm_cell",
                                   [&] { cell_forward<scalar_t>(g, c_prev.narrow(0, r, n), c); });
        auto tc = tanh_cell.narrow(0, o + r, n);
        at::tanh_out(tc, c);
        auto h = out.narrow(0, o + r, n);
        at::mul_out(h, g.narrow(1, 3 * H, H), tc);
      });
    }
    ctx->save_for_backward({x, h0, c0, w_ih, w_hh, out, cell, tanh_cell, gates});
    ctx->saved_data["batch_sizes"] = batch_sizes;
    return {out, cell};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &h0 = saved[1], &c0 = saved[2], &w_ih = saved[3], &w_hh = saved[4];
    const auto &out = saved[5], &cell = saved[6], &tanh_cell = saved[7], &gates = saved[8];
    const auto s = steps_of(ctx->saved_data["batch_sizes"].toTensor());
    const int64_t H = w_hh.size(1), batch = h0.size(0);
    const auto out_grad = grads[0].defined() ? grads[0].contiguous() : at::Tensor();
    const auto cell_grad = grads[1].defined() ? grads[1].contiguous() : at::Tensor();
    auto gates_grad = at::empty_like(gates);
    auto carry_h = at::zeros({batch, H}, x.options());  // rows not yet reached stay zero
    auto carry_c = at::zeros({batch, H}, x.options());
    for (size_t t = s.live.size(); t-- > 0;) {
      const int64_t o = s.offset[t];
      const auto& c_prev = t == 0 ? c0 : cell.narrow(0, s.offset[t - 1], s.live[t - 1]);
      over_rows(s.live[t], [&](int64_t r, int64_t n) {
        auto dh = carry_h.narrow(0, r, n);
        auto dc = carry_c.narrow(0, r, n);
        auto dg = gates_grad.narrow(0, o + r, n);
        AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "stepwise_lstm_cell_backward", [&] {
          const scalar_t* og = out_grad.defined() ? out_grad.const_data_ptr<scalar_t>() + (o + r) * H : nullptr;
          const scalar_t* cg = cell_grad.defined() ? cell_grad.const_data_ptr<scalar_t>() + (o + r) * H : nullptr;
          cell_backward<scalar_t>(gates.narrow(0, o + r, n), tanh_cell.narrow(0, o + r, n), c_prev.narrow(0, r, n), og,
                                  cg, dh, dc, dg);
        });
        at::mm_out(dh, dg, w_hh);  // the gradient reaching h_prev
      });
    }
    // The weights' gradients: one GEMM each over all packed rows.
    at::Tensor dx, dw_ih, dw_hh, db;
    if (ctx->needs_input_grad(0)) dx = gates_grad.mm(w_ih);
    if (ctx->needs_input_grad(3)) dw_ih = gates_grad.t().mm(x);
    if (ctx->needs_input_grad(4)) dw_hh = gates_grad.t().mm(at::cat({h0, out}).index_select(0, previous_rows(s)));
    if (ctx->needs_input_grad(5) || ctx->needs_input_grad(6)) db = gates_grad.sum(0);
    return {dx, carry_h, carry_c, dw_ih, dw_hh, db, db, at::Tensor()};
  }
};

}  // namespace

SegmentedRun run_stepwise_lstm(torch::nn::LSTM& lstm, const PackedSequence& packed,
                               const std::optional<std::tuple<at::Tensor, at::Tensor>>& initial) {
  const auto& o = lstm->options;
  if (o.bidirectional() || o.proj_size() != 0)
    reject("lstm", "the stepwise run needs a unidirectional LSTM without projections");
  const auto& data = packed.data();
  if (!data.device().is_cpu())
    reject("packed_lstm", "\"stepwise\" runs on the CPU only (the data is on {}); use \"segments\" or \"pytorch\"",
           data.device().str());
  // Under autocast the run computes in autocast's dtype, as PyTorch's own CPU LSTM does there (its
  // kernel, mkldnn_rnn_layer, is on autocast's lower-precision list): float32 input, state and weights
  // are cast once, differentiably, so that the float32 weights still get their gradients.
  const bool autocast = data.scalar_type() == at::kFloat && at::autocast::is_autocast_enabled(at::kCPU);
  const auto compute = autocast ? at::autocast::get_autocast_dtype(at::kCPU) : data.scalar_type();
  auto in_compute = [&](const at::Tensor& t) { return t.scalar_type() == at::kFloat ? t.to(compute) : t; };
  const auto s = steps_of(packed.batch_sizes());
  const int64_t batch = s.live.empty() ? 0 : s.live[0];
  const std::vector<int64_t> state_shape{o.num_layers(), batch, o.hidden_size()};
  auto to_ranks = [&](const at::Tensor& state) {
    return packed.sorted_indices().defined() ? state.index_select(1, packed.sorted_indices()) : state;
  };
  const auto options = data.options().dtype(compute);
  const auto h0 = initial ? in_compute(to_ranks(std::get<0>(*initial))) : at::zeros(state_shape, options);
  const auto c0 = initial ? in_compute(to_ranks(std::get<1>(*initial))) : at::zeros(state_shape, options);
  const auto weights = lstm->all_weights();
  const size_t per_layer = o.bias() ? 4 : 2;
  const auto batch_sizes = packed.batch_sizes().to(at::kLong).contiguous();
  const auto last = last_rows(s);
  at::Tensor input = in_compute(data);
  std::vector<at::Tensor> final_h, final_c;
  for (int64_t layer = 0; layer < o.num_layers(); ++layer) {
    const auto* w = &weights[layer * per_layer];
    // Without a bias, zeros that need no gradient (the autograd Function takes no undefined input).
    const auto no_bias = o.bias() ? at::Tensor() : at::zeros({4 * o.hidden_size()}, options);
    const auto outputs = StepwiseLayer::apply(input, h0[layer], c0[layer], in_compute(w[0]), in_compute(w[1]),
                                              o.bias() ? in_compute(w[2]) : no_bias,
                                              o.bias() ? in_compute(w[3]) : no_bias, batch_sizes);
    final_h.push_back(outputs[0].index_select(0, last));
    final_c.push_back(outputs[1].index_select(0, last));
    input = outputs[0];
    // Between layers only, as torch.nn.LSTM.
    if (layer + 1 < o.num_layers() && o.dropout() > 0) input = at::dropout(input, o.dropout(), lstm->is_training());
  }
  auto in_batch_order = [&](std::vector<at::Tensor>& per_layer_state) {
    const auto ranked = at::stack(per_layer_state);
    return packed.unsorted_indices().defined() ? ranked.index_select(1, packed.unsorted_indices()) : ranked;
  };
  return {PackedSequence(input, packed.batch_sizes(), packed.sorted_indices(), packed.unsorted_indices()),
          {in_batch_order(final_h), in_batch_order(final_c)}};
}

}  // namespace seqpack::models
