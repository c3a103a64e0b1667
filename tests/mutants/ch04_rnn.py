"""Wrong implementations for chapter 04 (recurrent networks): each is a mistake learners make.

The cell mutants are written as edits of the reference classes (read from the exercises
notebook), so that each one differs from the reference in exactly the lines of its mistake; an
edit that no longer matches the reference fails loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("04_rnn")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


def lstm(*edits: tuple[str, str]) -> str:
    return _edit("LSTMCell", *edits)


def gru(*edits: tuple[str, str]) -> str:
    return _edit("GRUCell", *edits)


def lm_loss(*edits: tuple[str, str]) -> str:
    return _edit("lm_chunk_loss", *edits)


def bptt(*edits: tuple[str, str]) -> str:
    return _edit("rnn_bptt", *edits)


LSTM_FORWARD_BODY = """\
        if hx is None:
            zeros = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            hx = (zeros, zeros)
        h, c = hx  # (N, H) each
        gates = x @ self.weight_ih.T + self.bias_ih  # (N, 4H): the input's part
        gates = gates + h @ self.weight_hh.T + self.bias_hh  # (N, 4H): plus the state's part
        i, f, g, o = gates.chunk(4, dim=1)  # (N, H) each
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g  # (N, H)
        h = o * torch.tanh(c)  # (N, H)
        return h, c
"""

GRU_CANDIDATE = "n = torch.tanh(i_n + r * h_n)  # (N, H): r multiplies W_hn h + b_hn"

MUTANTS = [
    # ---------------------------------------------------------------- LSTMCell
    Mutant(
        name="lstm_gate_order_ifog",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_gate_order", "hidden_LSTMCell_bptt"],
        code=lstm(("i, f, g, o = gates.chunk(4, dim=1)", "i, f, o, g = gates.chunk(4, dim=1)")),
    ),
    Mutant(
        name="lstm_sigmoid_on_g_tanh_on_o",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_gate_order", "hidden_LSTMCell_activations"],
        code=lstm(
            (
                "torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)",
                "torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(g), torch.tanh(o)",
            )
        ),
    ),
    Mutant(
        name="lstm_no_tanh_on_cell_state",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_activations"],
        code=lstm(("h = o * torch.tanh(c)", "h = o * c")),
    ),
    Mutant(
        name="lstm_cell_update_uses_h",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_cell_state"],
        code=lstm(("c = f * c + i * g", "c = f * h + i * g")),
    ),
    Mutant(
        name="lstm_hx_unpacked_as_c_h",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_cell_state"],
        code=lstm(("h, c = hx  # (N, H) each", "c, h = hx  # (N, H) each")),
    ),
    Mutant(
        name="lstm_h_from_the_old_cell_state",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_cell_state"],
        code=lstm(
            (
                "        c = f * c + i * g  # (N, H)\n        h = o * torch.tanh(c)  # (N, H)\n",
                "        h = o * torch.tanh(c)  # (N, H): still the previous c\n"
                "        c = f * c + i * g  # (N, H)\n",
            )
        ),
    ),
    Mutant(
        name="lstm_missing_bias_hh",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_bias_hh"],
        code=lstm(("h @ self.weight_hh.T + self.bias_hh", "h @ self.weight_hh.T")),
    ),
    Mutant(
        name="lstm_missing_bias_ih",
        cell="LSTMCell",
        fails=["test_LSTMCell", "hidden_LSTMCell_bias_hh"],
        code=lstm(("x @ self.weight_ih.T + self.bias_ih  #", "x @ self.weight_ih.T  #")),
    ),
    Mutant(
        name="lstm_hx_none_not_handled",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_hx_none"],
        code=lstm(
            (
                "        if hx is None:\n"
                "            zeros = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)\n"
                "            hx = (zeros, zeros)\n",
                "",
            )
        ),
    ),
    Mutant(
        name="lstm_hx_none_zeros_in_float32",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_hx_none"],
        code=lstm(
            (
                "torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)",
                "torch.zeros(x.shape[0], self.hidden_size)",
            )
        ),
    ),
    Mutant(
        name="lstm_hx_none_zeros_sized_by_input",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_hx_none"],
        code=lstm(
            (
                "torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)",
                "torch.zeros(x.shape[1], self.hidden_size, dtype=x.dtype, device=x.device)",
            )
        ),
    ),
    Mutant(
        name="lstm_detaches_the_state",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_bptt"],
        code=lstm(("h, c = hx  # (N, H) each", "h, c = hx[0].detach(), hx[1].detach()")),
    ),
    Mutant(
        name="lstm_init_by_input_size",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_init"],
        code=lstm(("k = 1 / math.sqrt(hidden_size)", "k = 1 / math.sqrt(input_size)")),
    ),
    Mutant(
        name="lstm_init_randn_and_zero_biases",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_init"],
        code=lstm(
            (
                "torch.empty(4 * hidden_size, input_size).uniform_(-k, k)",
                "torch.randn(4 * hidden_size, input_size) * k",
            ),
            (
                "torch.empty(4 * hidden_size, hidden_size).uniform_(-k, k)",
                "torch.randn(4 * hidden_size, hidden_size) * k",
            ),
            ("torch.empty(4 * hidden_size).uniform_(-k, k)", "torch.zeros(4 * hidden_size)"),
        ),
    ),
    Mutant(
        name="lstm_zero_biases",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_init"],
        code=lstm(("torch.empty(4 * hidden_size).uniform_(-k, k)", "torch.zeros(4 * hidden_size)")),
    ),
    Mutant(
        name="lstm_calls_torch",
        cell="LSTMCell",
        fails=["hidden_LSTMCell_from_scratch"],
        code=lstm(
            (LSTM_FORWARD_BODY, "        return nn.LSTMCell.forward(self, x, hx)\n"),
        ),
    ),
    # ---------------------------------------------------------------- GRUCell
    Mutant(
        name="gru_gate_order_zrn",
        cell="GRUCell",
        fails=["test_GRUCell", "hidden_GRUCell_gate_order"],
        code=gru(
            ("i_r, i_z, i_n = gi.chunk(3, dim=1)", "i_z, i_r, i_n = gi.chunk(3, dim=1)"),
            ("h_r, h_z, h_n = gh.chunk(3, dim=1)", "h_z, h_r, h_n = gh.chunk(3, dim=1)"),
        ),
    ),
    Mutant(
        name="gru_reset_before_the_product",
        cell="GRUCell",
        fails=["test_GRUCell", "hidden_GRUCell_reset_gate"],
        # the original paper's candidate: W_hn (r * h) + b_hn
        code=gru(
            (
                GRU_CANDIDATE,
                "W_hn, b_hn = self.weight_hh[2 * self.hidden_size :], self.bias_hh[2 * self.hidden_size :]\n"
                "        n = torch.tanh(i_n + (r * h) @ W_hn.T + b_hn)",
            )
        ),
    ),
    Mutant(
        name="gru_reset_outside_the_bias",
        cell="GRUCell",
        fails=["test_GRUCell", "hidden_GRUCell_reset_gate"],
        # r * (W_hn h) + b_hn: the bias left outside the reset gate
        code=gru(
            (
                GRU_CANDIDATE,
                "b_hn = self.bias_hh[2 * self.hidden_size :]\n"
                "        n = torch.tanh(i_n + r * (h_n - b_hn) + b_hn)",
            )
        ),
    ),
    Mutant(
        name="gru_update_gate_swapped",
        cell="GRUCell",
        fails=["test_GRUCell", "hidden_GRUCell_update_gate"],
        code=gru(("return (1 - z) * n + z * h", "return z * n + (1 - z) * h")),
    ),
    Mutant(
        name="gru_hx_none_not_handled",
        cell="GRUCell",
        fails=["hidden_GRUCell_hx_none"],
        code=gru(
            (
                "        if hx is None:\n"
                "            hx = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)\n",
                "",
            )
        ),
    ),
    Mutant(
        name="gru_hx_none_zeros_in_float32",
        cell="GRUCell",
        fails=["hidden_GRUCell_hx_none"],
        code=gru(
            (
                "torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)",
                "torch.zeros(x.shape[0], self.hidden_size)",
            )
        ),
    ),
    Mutant(
        name="gru_detaches_the_state",
        cell="GRUCell",
        fails=["hidden_GRUCell_bptt"],
        code=gru(("h = hx  # (N, H)", "h = hx.detach()  # (N, H)")),
    ),
    Mutant(
        name="gru_init_by_input_size",
        cell="GRUCell",
        fails=["hidden_GRUCell_init"],
        code=gru(("k = 1 / math.sqrt(hidden_size)", "k = 1 / math.sqrt(input_size)")),
    ),
    Mutant(
        name="gru_zero_biases",
        cell="GRUCell",
        fails=["hidden_GRUCell_init"],
        code=gru(("torch.empty(3 * hidden_size).uniform_(-k, k)", "torch.zeros(3 * hidden_size)")),
    ),
    Mutant(
        name="gru_calls_torch",
        cell="GRUCell",
        fails=["hidden_GRUCell_from_scratch"],
        code=gru(
            (
                "        h = hx  # (N, H)\n",
                "        return nn.GRUCell.forward(self, x, hx)\n        h = hx  # (N, H)\n",
            )
        ),
    ),
    # ---------------------------------------------------------------- clip_grad_norm_
    Mutant(
        name="clip_each_parameter_on_its_own",
        cell="clip_grad_norm_",
        fails=["test_clip_grad_norm_", "hidden_clip_grad_norm__global"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            norms = [g.norm() for g in grads]
            for g, norm in zip(grads, norms):
                g.mul_(torch.clamp(max_norm / (norm + 1e-6), max=1.0))  # one factor per parameter
            return torch.sqrt(sum(norm**2 for norm in norms))
        """,
    ),
    Mutant(
        name="clip_sum_of_norms",
        cell="clip_grad_norm_",
        fails=["test_clip_grad_norm_", "hidden_clip_grad_norm__global"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = sum(g.norm() for g in grads)  # a sum of norms, not the norm of all
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(scale)
            return total_norm
        """,
    ),
    Mutant(
        name="clip_returns_norm_after_clipping",
        cell="clip_grad_norm_",
        fails=["test_clip_grad_norm_", "hidden_clip_grad_norm__norm_before"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(scale)
            return torch.sqrt(sum((g**2).sum() for g in grads))  # measured again, after
        """,
    ),
    Mutant(
        name="clip_returns_a_float",
        cell="clip_grad_norm_",
        fails=["test_clip_grad_norm_", "hidden_clip_grad_norm__norm_before"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(scale)
            return total_norm.item()
        """,
    ),
    Mutant(
        name="clip_scales_up_small_gradients",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__no_scale_up"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
            for g in grads:
                g.mul_(max_norm / (total_norm + 1e-6))  # no clamp: small gradients grow
            return total_norm
        """,
    ),
    Mutant(
        name="clip_does_not_skip_none_grads",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__none_grads"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            parameters = list(parameters)
            total_norm = torch.sqrt(sum((p.grad**2).sum() for p in parameters))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for p in parameters:
                p.grad.mul_(scale)
            return total_norm
        """,
    ),
    Mutant(
        name="clip_fills_none_grads_with_zeros",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__none_grads"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            parameters = list(parameters)
            for p in parameters:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
            total_norm = torch.sqrt(sum((p.grad**2).sum() for p in parameters))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for p in parameters:
                p.grad.mul_(scale)
            return total_norm
        """,
    ),
    Mutant(
        name="clip_assigns_new_gradient_tensors",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__in_place"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            parameters = [p for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((p.grad**2).sum() for p in parameters))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for p in parameters:
                p.grad = p.grad * scale  # a new tensor: whoever held the old one sees no change
            return total_norm
        """,
    ),
    Mutant(
        name="clip_scales_a_local_copy",
        cell="clip_grad_norm_",
        fails=[
            "test_clip_grad_norm_",
            "hidden_clip_grad_norm__global",
            "hidden_clip_grad_norm__in_place",
        ],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g = g * scale  # rebinds the loop variable; p.grad is untouched
            return total_norm
        """,
    ),
    Mutant(
        name="clip_iterates_over_a_single_tensor",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__single_tensor"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            grads = [p.grad for p in list(parameters) if p.grad is not None]
            total_norm = torch.sqrt(sum((g**2).sum() for g in grads))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(scale)
            return total_norm
        """,
    ),
    Mutant(
        name="clip_loops_twice_over_a_generator",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__generator"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            if isinstance(parameters, torch.Tensor):
                parameters = [parameters]
            total_norm = torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for p in parameters:  # a generator is already exhausted here
                if p.grad is not None:
                    p.grad.mul_(scale)
            return total_norm
        """,
    ),
    Mutant(
        name="clip_calls_torch",
        cell="clip_grad_norm_",
        fails=["hidden_clip_grad_norm__from_scratch"],
        code="""
        def clip_grad_norm_(parameters, max_norm):
            return torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        """,
    ),
    # ---------------------------------------------------------------- lm_chunk_loss
    Mutant(
        name="lm_targets_are_the_inputs",
        cell="lm_chunk_loss",
        fails=["test_lm_chunk_loss", "hidden_lm_chunk_loss_shifted_targets"],
        code=lm_loss(
            ("targets = chunk[:, :-1], chunk[:, 1:]", "targets = chunk[:, :-1], chunk[:, :-1]")
        ),
    ),
    Mutant(
        name="lm_sum_over_time",
        cell="lm_chunk_loss",
        fails=["test_lm_chunk_loss", "hidden_lm_chunk_loss_mean_over_all"],
        code=lm_loss(
            (
                "loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))",
                'loss = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").sum(1).mean()',
            )
        ),
    ),
    Mutant(
        name="lm_ignores_the_state",
        cell="lm_chunk_loss",
        fails=["hidden_lm_chunk_loss_uses_state"],
        code=lm_loss(("logits, h_new = model(inputs, h)", "logits, h_new = model(inputs)")),
    ),
    Mutant(
        name="lm_state_not_detached",
        cell="lm_chunk_loss",
        fails=["hidden_lm_chunk_loss_detached_state"],
        code=lm_loss(("return loss, h_new.detach()", "return loss, h_new")),
    ),
    # ---------------------------------------------------------------- rnn_bptt
    Mutant(
        name="bptt_no_gradient_through_h_prev",
        cell="rnn_bptt",
        fails=["test_rnn_bptt", "hidden_rnn_bptt_through_time"],
        code=bptt(("dh = grad_hs[t] + dh_next  #", "dh = grad_hs[t]  #")),
    ),
    Mutant(
        name="bptt_tanh_derivative_of_the_preactivation",
        cell="rnn_bptt",
        fails=["test_rnn_bptt", "hidden_rnn_bptt_tanh_derivative"],
        code=bptt(
            ("hs, h = [], h0", "hs, pre, h = [], [], h0"),
            (
                "h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b_h)  # (N, H)",
                "a = x_t @ W_xh.T + h @ W_hh.T + b_h\n        pre.append(a)\n        h = torch.tanh(a)",
            ),
            ("delta = dh * (1 - hs[t] ** 2)", "delta = dh * (1 - pre[t] ** 2)"),
        ),
    ),
    Mutant(
        name="bptt_transposed_recurrent_weight",
        cell="rnn_bptt",
        fails=["test_rnn_bptt", "hidden_rnn_bptt_transposes"],
        code=bptt(("dh_next = delta @ W_hh  #", "dh_next = delta @ W_hh.T  #")),
    ),
    Mutant(
        name="bptt_mean_over_the_batch",
        cell="rnn_bptt",
        fails=["test_rnn_bptt", "hidden_rnn_bptt_batch_sum"],
        code=bptt(
            ("grad_W_xh += delta.T @ x[t]", "grad_W_xh += delta.T @ x[t] / len(x[t])"),
            ("grad_W_hh += delta.T @ h_prev", "grad_W_hh += delta.T @ h_prev / len(x[t])"),
            ("grad_b_h += delta.sum(dim=0)", "grad_b_h += delta.mean(dim=0)"),
        ),
    ),
    Mutant(
        name="bptt_grad_h0_before_the_tanh",
        cell="rnn_bptt",
        fails=["test_rnn_bptt", "hidden_rnn_bptt_grad_h0"],
        code=bptt(
            (
                "dh_next = torch.zeros_like(h0)  # (N, H)",
                "dh_next = dh_first = torch.zeros_like(h0)  # (N, H)",
            ),
            ("dh = grad_hs[t] + dh_next  #", "dh = dh_first = grad_hs[t] + dh_next  #"),
            ("return grad_x, dh_next, grad_W_xh", "return grad_x, dh_first, grad_W_xh"),
        ),
    ),
    Mutant(
        name="bptt_calls_autograd",
        cell="rnn_bptt",
        fails=["hidden_rnn_bptt_from_scratch"],
        code="""
def rnn_bptt(x, h0, W_xh, W_hh, b_h, grad_hs):
    leaves = [t.detach().clone().requires_grad_() for t in (x, h0, W_xh, W_hh, b_h)]
    h, hs = leaves[1], []
    for x_t in leaves[0]:
        h = torch.tanh(x_t @ leaves[2].T + h @ leaves[3].T + leaves[4])
        hs.append(h)
    return torch.autograd.grad(torch.stack(hs), leaves, grad_hs)
""",
    ),
]
