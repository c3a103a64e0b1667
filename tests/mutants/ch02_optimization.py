"""Wrong implementations for chapter 02 (optimization): each is a mistake learners really make.

The ``SGD``, ``Adam``, ``dropout`` and ``precision_recall_f1`` mutants are written as edits of the
reference solutions (read from the exercises notebook), so that each one differs from the
reference in exactly the lines of its mistake; an edit that no longer matches the reference fails
loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("02_optimization")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


# Lines of the reference solutions that the mutants below change.
BN_GRAD_X = "    grad_x = inv_std * (g - g.mean(dim=0) - x_hat * (g * x_hat).mean(dim=0))  # (N, D)"
SGD_DECAY = """\
            if self.weight_decay != 0:
                g = g + self.weight_decay * p  # a new tensor: p.grad stays as it was
"""
SGD_MOMENTUM = """\
            if self.momentum != 0:
                if self.buffers[i] is None:
                    self.buffers[i] = g.clone()  # the buffer starts as the first gradient
                else:
                    self.buffers[i] = self.momentum * self.buffers[i] + g
                g = self.buffers[i]
"""
SGD_SKIP = """\
            if p.grad is None:
                continue
"""
ADAM_DECAY = """\
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
"""
ADAM_UPDATE = "p -= self.lr * m_hat / (v_hat.sqrt() + self.eps)"
PRF_COUNTS = """\
    tp = int((pred & true).sum())
    fp = int((pred & ~true).sum())
    fn = int((~pred & true).sum())
"""
PRF_RATIOS = """\
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
"""

MUTANTS = [
    # ---------------------------------------------------------------- SGD
    Mutant(
        name="SGD_weight_decay_after_momentum",
        cell="SGD",
        fails=["hidden_SGD_weight_decay"],
        code=_edit(
            "SGD",
            (SGD_DECAY, ""),
            (
                "                g = self.buffers[i]\n",
                "                g = self.buffers[i]\n" + SGD_DECAY,
            ),
        ),
    ),
    Mutant(
        name="SGD_weight_decay_ignored",
        cell="SGD",
        fails=["hidden_SGD_weight_decay"],
        code=_edit("SGD", (SGD_DECAY, "")),
    ),
    Mutant(
        name="SGD_weight_decay_decoupled",
        cell="SGD",
        fails=["hidden_SGD_weight_decay"],
        code=_edit(
            "SGD",
            (SGD_DECAY, ""),
            (
                "            p -= self.lr * g\n",
                "            p -= self.lr * g\n"
                "            p -= self.lr * self.weight_decay * p  # shrinks the weights directly\n",
            ),
        ),
    ),
    Mutant(
        name="SGD_momentum_ema_from_zeros",
        cell="SGD",
        fails=["hidden_SGD_momentum_first_step", "hidden_SGD_momentum_accumulates"],
        code=_edit(
            "SGD",
            (
                SGD_MOMENTUM,
                """\
            if self.momentum != 0:
                if self.buffers[i] is None:
                    self.buffers[i] = torch.zeros_like(p)
                self.buffers[i] = self.momentum * self.buffers[i] + (1 - self.momentum) * g
                g = self.buffers[i]
""",
            ),
        ),
    ),
    Mutant(
        name="SGD_momentum_stale_buffer",
        cell="SGD",
        fails=["hidden_SGD_momentum_first_step", "hidden_SGD_momentum_accumulates"],
        code=_edit(
            "SGD",
            (
                SGD_MOMENTUM,
                """\
            if self.momentum != 0:
                if self.buffers[i] is None:
                    self.buffers[i] = torch.zeros_like(p)
                step = self.buffers[i]  # the velocity of the last step: zeros at first
                self.buffers[i] = self.momentum * self.buffers[i] + g
                g = step
""",
            ),
        ),
    ),
    Mutant(
        name="SGD_momentum_dampened",
        cell="SGD",
        fails=["hidden_SGD_momentum_accumulates"],
        code=_edit(
            "SGD",
            (
                "self.momentum * self.buffers[i] + g",
                "self.momentum * self.buffers[i] + (1 - self.momentum) * g",
            ),
        ),
    ),
    Mutant(
        name="SGD_momentum_ignored",
        cell="SGD",
        fails=["hidden_SGD_momentum_accumulates"],
        code=_edit("SGD", (SGD_MOMENTUM, "")),
    ),
    Mutant(
        name="SGD_buffer_is_the_grad_tensor",
        cell="SGD",
        fails=["hidden_SGD_momentum_accumulates"],
        code=_edit(
            "SGD",
            ("self.buffers[i] = g.clone()", "self.buffers[i] = g"),
        ),
    ),
    Mutant(
        name="SGD_params_generator_not_listed",
        cell="SGD",
        fails=["hidden_SGD_momentum_accumulates", "hidden_SGD_weight_decay"],
        code=_edit(
            "SGD",
            ("self.params = list(params)", "self.params = params"),
            ("[None] * len(self.params)", "[None] * 1000"),
        ),
    ),
    Mutant(
        name="SGD_zero_grad_rebinds_a_local_name",
        cell="SGD",
        fails=["hidden_SGD_zero_grad"],
        code=_edit(
            "SGD",
            (
                "        for p in self.params:\n            p.grad = None\n",
                "        for p in self.params:\n            grad = p.grad\n            grad = None  # noqa\n",
            ),
        ),
    ),
    Mutant(
        name="SGD_zero_grad_assumes_a_grad",
        cell="SGD",
        fails=["hidden_SGD_zero_grad"],
        code=_edit(
            "SGD",
            (
                "            p.grad = None\n",
                "            p.grad.zero_()  # fails while p.grad is None\n",
            ),
        ),
    ),
    Mutant(
        name="SGD_zero_grad_first_parameter_only",
        cell="SGD",
        fails=["hidden_SGD_zero_grad"],
        code=_edit(
            "SGD",
            (
                "        for p in self.params:\n            p.grad = None\n",
                "        self.params[0].grad = None\n",
            ),
        ),
    ),
    Mutant(
        name="SGD_no_check_for_missing_grads",
        cell="SGD",
        fails=["hidden_SGD_skips_missing_grads"],
        code=_edit("SGD", (SGD_SKIP, "")),
    ),
    Mutant(
        name="SGD_decays_parameters_without_grads",
        cell="SGD",
        fails=["hidden_SGD_skips_missing_grads"],
        code=_edit(
            "SGD",
            (SGD_SKIP, ""),
            (
                "            g = p.grad\n",
                "            g = p.grad if p.grad is not None else torch.zeros_like(p)\n",
            ),
        ),
    ),
    Mutant(
        name="SGD_wraps_torch_optim",
        cell="SGD",
        fails=["hidden_SGD_from_scratch"],
        code="""
        class SGD:
            # Right numbers, none of the optimizer written: torch.optim.SGD does the work.
            def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
                self.inner = torch.optim.SGD(
                    list(params), lr=lr, momentum=momentum, weight_decay=weight_decay
                )

            def zero_grad(self):
                self.inner.zero_grad()

            @torch.no_grad()
            def step(self):
                self.inner.step()
        """,
    ),
    # ---------------------------------------------------------------- Adam
    Mutant(
        name="Adam_no_bias_correction",
        cell="Adam",
        fails=["hidden_Adam_bias_correction"],
        code=_edit(
            "Adam",
            ("m_hat = self.m[i] / (1 - beta1**t)", "m_hat = self.m[i]"),
            ("v_hat = self.v[i] / (1 - beta2**t)", "v_hat = self.v[i]"),
        ),
    ),
    Mutant(
        name="Adam_bias_correction_of_m_only",
        cell="Adam",
        fails=["hidden_Adam_bias_correction"],
        code=_edit("Adam", ("v_hat = self.v[i] / (1 - beta2**t)", "v_hat = self.v[i]")),
    ),
    Mutant(
        name="Adam_default_betas_hard_coded",
        cell="Adam",
        fails=["hidden_Adam_bias_correction"],
        code=_edit("Adam", ("beta1, beta2 = self.betas", "beta1, beta2 = 0.9, 0.999")),
    ),
    Mutant(
        name="Adam_eps_inside_sqrt",
        cell="Adam",
        fails=["hidden_Adam_eps"],
        code=_edit("Adam", (ADAM_UPDATE, "p -= self.lr * m_hat / (v_hat + self.eps).sqrt()")),
    ),
    Mutant(
        name="Adam_eps_before_bias_correction",
        cell="Adam",
        fails=["hidden_Adam_eps"],
        code=_edit(
            "Adam",
            (
                ADAM_UPDATE,
                "p -= self.lr * m_hat / ((self.v[i].sqrt() + self.eps) / (1 - beta2**t) ** 0.5)",
            ),
        ),
    ),
    Mutant(
        name="Adam_weight_decay_decoupled",
        cell="Adam",
        fails=["hidden_Adam_weight_decay"],
        code=_edit(
            "Adam",
            (ADAM_DECAY, ""),
            (
                ADAM_UPDATE,
                "p -= self.lr * self.weight_decay * p  # AdamW\n            " + ADAM_UPDATE,
            ),
        ),
    ),
    Mutant(
        name="Adam_weight_decay_ignored",
        cell="Adam",
        fails=["hidden_Adam_weight_decay"],
        code=_edit("Adam", (ADAM_DECAY, "")),
    ),
    Mutant(
        name="Adam_step_counted_per_parameter",
        cell="Adam",
        fails=["hidden_Adam_step_count"],
        code=_edit(
            "Adam",
            ("self.t = [0] * len(self.params)", "self.t = 0"),
            (
                "self.t[i] += 1\n            t = self.t[i]",
                "self.t += 1  # once per parameter\n            t = self.t",
            ),
        ),
    ),
    Mutant(
        name="Adam_step_count_starts_at_zero",
        cell="Adam",
        fails=["hidden_Adam_step_count"],
        code=_edit(
            "Adam",
            (
                "            self.t[i] += 1\n            t = self.t[i]\n",
                "            t = self.t[i]\n",
            ),
            (ADAM_UPDATE, ADAM_UPDATE + "\n            self.t[i] += 1"),
        ),
    ),
    Mutant(
        name="Adam_wraps_torch_optim",
        cell="Adam",
        fails=["hidden_Adam_from_scratch"],
        code="""
        class Adam:
            # Right numbers, none of the optimizer written: torch.optim.Adam does the work.
            def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
                self.inner = torch.optim.Adam(
                    list(params), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay
                )

            def zero_grad(self):
                self.inner.zero_grad()

            @torch.no_grad()
            def step(self):
                self.inner.step()
        """,
    ),
    # ---------------------------------------------------------------- dropout
    Mutant(
        name="dropout_scaled_by_1_over_p",
        cell="dropout",
        fails=["hidden_dropout_scaling"],
        code=_edit("dropout", ("return x * keep / (1 - p)", "return x * keep / p")),
    ),
    Mutant(
        name="dropout_scaled_by_1_minus_p",
        cell="dropout",
        fails=["hidden_dropout_scaling"],
        code=_edit("dropout", ("return x * keep / (1 - p)", "return x * keep * (1 - p)")),
    ),
    Mutant(
        name="dropout_not_scaled",
        cell="dropout",
        fails=["hidden_dropout_scaling"],
        code=_edit("dropout", ("return x * keep / (1 - p)", "return x * keep")),
    ),
    Mutant(
        name="dropout_keeps_with_probability_p",
        cell="dropout",
        fails=["hidden_dropout_rate"],
        code=_edit("dropout", ("torch.rand_like(x) >= p", "torch.rand_like(x) < p")),
    ),
    Mutant(
        name="dropout_nan_for_p_1",
        cell="dropout",
        fails=["hidden_dropout_edge_cases"],
        code=_edit("dropout", ("    if p == 1:\n        return torch.zeros_like(x)\n", "")),
    ),
    Mutant(
        name="dropout_in_place",
        cell="dropout",
        fails=["hidden_dropout_not_in_place"],
        code=_edit("dropout", ("return x * keep / (1 - p)", "return x.mul_(keep).div_(1 - p)")),
    ),
    Mutant(
        name="dropout_masked_assignment",
        cell="dropout",
        fails=["hidden_dropout_not_in_place"],
        code=_edit(
            "dropout",
            ("return x * keep / (1 - p)", "x[keep == 0] = 0\n    return x / (1 - p)"),
        ),
    ),
    Mutant(
        name="dropout_detached",
        cell="dropout",
        fails=["hidden_dropout_gradient"],
        code=_edit("dropout", ("return x * keep / (1 - p)", "return x.detach() * keep / (1 - p)")),
    ),
    Mutant(
        name="dropout_calls_F_dropout",
        cell="dropout",
        fails=["hidden_dropout_from_scratch"],
        code="""
        def dropout(x, p=0.5, training=True):
            return F.dropout(x, p=p, training=training)  # PyTorch's own, not written
        """,
    ),
    # ---------------------------------------------------------------- precision_recall_f1
    Mutant(
        name="prf_precision_recall_swapped",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_not_swapped"],
        code=_edit(
            "precision_recall_f1",
            (
                PRF_RATIOS,
                """\
    precision = tp / (tp + fn) if tp + fn > 0 else 0.0
    recall = tp / (tp + fp) if tp + fp > 0 else 0.0
""",
            ),
        ),
    ),
    Mutant(
        name="prf_tensor_division_nan",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_zero_division"],
        code=_edit(
            "precision_recall_f1",
            (
                PRF_COUNTS
                + PRF_RATIOS
                + "    if precision + recall == 0:\n        return precision, recall, 0.0\n",
                """\
    tp = (pred & true).sum().double()
    fp = (pred & ~true).sum().double()
    fn = (~pred & true).sum().double()
    precision = tp / (tp + fp)  # 0 / 0 = nan when nothing is predicted positive
    recall = tp / (tp + fn)
""",
            ),
        ),
    ),
    Mutant(
        name="prf_zero_division_error",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_zero_division"],
        code=_edit(
            "precision_recall_f1",
            (
                PRF_RATIOS
                + "    if precision + recall == 0:\n        return precision, recall, 0.0\n",
                "    precision = tp / (tp + fp)\n    recall = tp / (tp + fn)\n",
            ),
        ),
    ),
    Mutant(
        name="prf_f1_arithmetic_mean",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_harmonic"],
        code=_edit(
            "precision_recall_f1",
            ("f1 = 2 * precision * recall / (precision + recall)", "f1 = (precision + recall) / 2"),
        ),
    ),
    Mutant(
        name="prf_bitwise_and_on_raw_labels",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_dtypes"],
        code=_edit(
            "precision_recall_f1",
            ("pred = y_pred.bool()", "pred = y_pred"),
            ("true = y_true.bool()", "true = y_true"),
        ),
    ),
    Mutant(
        name="prf_one_minus_labels",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_dtypes"],
        code=_edit(
            "precision_recall_f1",
            (
                PRF_COUNTS,
                """\
    tp = int((y_pred * y_true).sum())
    fp = int((y_pred * (1 - y_true)).sum())  # 1 - x is not defined for bool tensors
    fn = int(((1 - y_pred) * y_true).sum())
""",
            ),
        ),
    ),
    Mutant(
        name="prf_counts_true_negatives",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_not_swapped", "hidden_precision_recall_f1_dtypes"],
        code=_edit(
            "precision_recall_f1",
            ("tp = int((pred & true).sum())", "tp = int((pred == true).sum())  # TN counted too"),
        ),
    ),
    Mutant(
        name="prf_calls_sklearn",
        cell="precision_recall_f1",
        fails=["hidden_precision_recall_f1_from_scratch"],
        code="""
        from sklearn.metrics import precision_recall_fscore_support


        def precision_recall_f1(y_pred, y_true):
            # scikit-learn's answer, not computed: the exercise is the counting itself.
            p, r, f, _ = precision_recall_fscore_support(
                y_true.cpu().numpy(), y_pred.cpu().numpy(), average="binary", zero_division=0
            )
            return float(p), float(r), float(f)
        """,
    ),
    # ---------------------------------------------------------------- batchnorm_backward
    Mutant(
        name="batchnorm_backward_direct_path_only",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_mean_variance"],
        code=_edit(
            "batchnorm_backward",
            (
                BN_GRAD_X,
                "    grad_x = g * inv_std  # (N, D): as if mean and variance were constants",
            ),
        ),
    ),
    Mutant(
        name="batchnorm_backward_no_variance_path",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_mean_variance"],
        code=_edit(
            "batchnorm_backward",
            (
                BN_GRAD_X,
                "    grad_x = inv_std * (g - g.mean(dim=0))  # (N, D): the variance's path forgotten",
            ),
        ),
    ),
    Mutant(
        name="batchnorm_backward_no_mean_path",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_mean_variance"],
        code=_edit(
            "batchnorm_backward",
            (
                BN_GRAD_X,
                "    grad_x = inv_std * (g - x_hat * (g * x_hat).mean(dim=0))  # the mean's path forgotten",
            ),
        ),
    ),
    Mutant(
        name="batchnorm_backward_unbiased_variance",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_biased_variance"],
        code=_edit(
            "batchnorm_backward",
            (
                "var = ((x - mu) ** 2).mean(dim=0)  # (D,): biased, divided by N",
                "var = x.var(dim=0)  # (D,): unbiased, divided by N - 1",
            ),
        ),
    ),
    Mutant(
        name="batchnorm_backward_over_features",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_batch_dim"],
        code=_edit(
            "batchnorm_backward",
            ("mu = x.mean(dim=0)  # (D,)", "mu = x.mean(dim=1, keepdim=True)  # (N, 1)"),
            (
                "var = ((x - mu) ** 2).mean(dim=0)  # (D,): biased, divided by N",
                "var = ((x - mu) ** 2).mean(dim=1, keepdim=True)  # (N, 1)",
            ),
            (BN_GRAD_X, BN_GRAD_X.replace(".mean(dim=0)", ".mean(dim=1, keepdim=True)")),
        ),
    ),
    Mutant(
        name="batchnorm_backward_eps_outside_sqrt",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_eps"],
        code=_edit(
            "batchnorm_backward",
            ("inv_std = 1.0 / torch.sqrt(var + eps)", "inv_std = 1.0 / (torch.sqrt(var) + eps)"),
        ),
    ),
    Mutant(
        name="batchnorm_backward_autograd",
        cell="batchnorm_backward",
        fails=["hidden_batchnorm_backward_no_autograd"],
        code="""
        def batchnorm_backward(grad_out, x, gamma, eps=1e-5):
            x = x.detach().clone().requires_grad_(True)
            gamma = gamma.detach().clone().requires_grad_(True)
            beta = torch.zeros_like(gamma, requires_grad=True)
            y = F.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
            return torch.autograd.grad(y, (x, gamma, beta), grad_out)  # derived by nobody
        """,
    ),
]
