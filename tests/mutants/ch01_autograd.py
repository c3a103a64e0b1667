"""Wrong implementations for chapter 01 (autograd): each is a mistake learners really make.

The ``Value`` mutants are written as edits of the reference class (read from the exercises
notebook), so that each one differs from the reference in exactly the lines of its mistake; an
edit that no longer matches the reference fails loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCES = reference_solutions("01_autograd")


def _value_with(*edits: tuple[str, str]) -> str:
    """The reference ``Value`` with each ``(old, new)`` replacement applied (all occurrences)."""
    return edited(REFERENCES, "Value", *edits)


MUTANTS = [
    # ---------------------------------------------------------------- softmax
    Mutant(
        name="softmax_no_max_subtraction",
        cell="softmax",
        fails=["hidden_softmax_stable", "hidden_softmax_global_max"],
        code="""
        def softmax(x, dim=-1):
            e = x.exp()  # overflows to inf for x near 1000, underflows to 0 near -1000
            return e / e.sum(dim=dim, keepdim=True)
        """,
    ),
    Mutant(
        name="softmax_global_max",
        cell="softmax",
        fails=["hidden_softmax_global_max"],
        code="""
        def softmax(x, dim=-1):
            e = (x - x.max()).exp()  # one maximum for the whole tensor, not one per row
            return e / e.sum(dim=dim, keepdim=True)
        """,
    ),
    Mutant(
        name="softmax_ignores_dim",
        cell="softmax",
        fails=["hidden_softmax_dim"],
        code="""
        def softmax(x, dim=-1):
            e = (x - x.amax(dim=-1, keepdim=True)).exp()  # always the last axis
            return e / e.sum(dim=-1, keepdim=True)
        """,
    ),
    Mutant(
        name="softmax_max_over_last_axis",
        cell="softmax",
        fails=["hidden_softmax_dim"],
        code="""
        def softmax(x, dim=-1):
            e = (x - x.amax(dim=-1, keepdim=True)).exp()  # the max along a hard-coded axis
            return e / e.sum(dim=dim, keepdim=True)
        """,
    ),
    Mutant(
        name="softmax_calls_torch",
        cell="softmax",
        fails=["hidden_softmax_from_scratch"],
        code="""
        def softmax(x, dim=-1):
            return torch.softmax(x, dim=dim)
        """,
    ),
    # ---------------------------------------------------------------- cross_entropy
    Mutant(
        name="cross_entropy_sum",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_mean"],
        code="""
        def cross_entropy(logits, targets):
            m = logits.amax(dim=1, keepdim=True)
            logsumexp = m.squeeze(1) + (logits - m).exp().sum(dim=1).log()
            correct = logits[torch.arange(logits.shape[0]), targets]
            return (logsumexp - correct).sum()  # the sum over the batch, not the mean
        """,
    ),
    Mutant(
        name="cross_entropy_mean_over_all_entries",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_mean"],
        code="""
        def cross_entropy(logits, targets):
            m = logits.amax(dim=1, keepdim=True)
            log_probs = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()
            one_hot = F.one_hot(targets, num_classes=logits.shape[1])
            return -(one_hot * log_probs).mean()  # divides by N * C instead of N
        """,
    ),
    Mutant(
        name="cross_entropy_log_of_softmax",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_stable"],
        code="""
        def cross_entropy(logits, targets):
            probs = softmax(logits, dim=1)  # a probability can underflow to 0: log(0) = -inf
            return -probs[torch.arange(logits.shape[0]), targets].log().mean()
        """,
    ),
    Mutant(
        name="cross_entropy_no_max_subtraction",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_stable"],
        code="""
        def cross_entropy(logits, targets):
            logsumexp = logits.exp().sum(dim=1).log()  # exp(1000) = inf
            correct = logits[torch.arange(logits.shape[0]), targets]
            return (logsumexp - correct).mean()
        """,
    ),
    Mutant(
        name="cross_entropy_one_hot_without_num_classes",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_gather"],
        code="""
        def cross_entropy(logits, targets):
            m = logits.amax(dim=1, keepdim=True)
            log_probs = logits - m - (logits - m).exp().sum(dim=1, keepdim=True).log()
            one_hot = F.one_hot(targets)  # max(targets) + 1 columns: too few if a class is absent
            return -(one_hot * log_probs).sum(dim=1).mean()
        """,
    ),
    Mutant(
        name="cross_entropy_targets_index_columns",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_gather"],
        code="""
        def cross_entropy(logits, targets):
            m = logits.amax(dim=1, keepdim=True)
            logsumexp = m.squeeze(1) + (logits - m).exp().sum(dim=1).log()
            correct = logits[:, targets]  # (N, N): every row's logit for every target
            return (logsumexp - correct).mean()
        """,
    ),
    Mutant(
        name="cross_entropy_calls_F",
        cell="cross_entropy",
        fails=["hidden_cross_entropy_from_scratch"],
        code="""
        def cross_entropy(logits, targets):
            return F.cross_entropy(logits, targets)
        """,
    ),
    # ---------------------------------------------------------------- linear_backward
    Mutant(
        name="linear_backward_grad_W_transposed",
        cell="linear_backward",
        fails=["hidden_linear_backward_grad_W"],
        code="""
        def linear_backward(x, W, b, grad_out):
            grad_x = grad_out @ W
            grad_W = x.T @ grad_out  # (in, out): the transpose of W's shape
            grad_b = grad_out.sum(dim=0)
            return grad_x, grad_W, grad_b
        """,
    ),
    Mutant(
        name="linear_backward_grad_W_reshaped",
        cell="linear_backward",
        fails=["hidden_linear_backward_grad_W"],
        code="""
        def linear_backward(x, W, b, grad_out):
            grad_x = grad_out @ W
            grad_W = (x.T @ grad_out).reshape(W.shape)  # the right shape, scrambled entries
            grad_b = grad_out.sum(dim=0)
            return grad_x, grad_W, grad_b
        """,
    ),
    Mutant(
        name="linear_backward_grad_b_mean",
        cell="linear_backward",
        fails=["hidden_linear_backward_grad_b"],
        code="""
        def linear_backward(x, W, b, grad_out):
            grad_x = grad_out @ W
            grad_W = grad_out.T @ x
            grad_b = grad_out.mean(dim=0)  # the mean over the batch, not the sum
            return grad_x, grad_W, grad_b
        """,
    ),
    Mutant(
        name="linear_backward_grad_b_not_summed",
        cell="linear_backward",
        fails=["hidden_linear_backward_grad_b"],
        code="""
        def linear_backward(x, W, b, grad_out):
            grad_x = grad_out @ W
            grad_W = grad_out.T @ x
            grad_b = grad_out  # (N, out): one row per example, not reduced
            return grad_x, grad_W, grad_b
        """,
    ),
    Mutant(
        name="linear_backward_grad_x_uses_W_T",
        cell="linear_backward",
        fails=["hidden_linear_backward_grad_x"],
        code="""
        def linear_backward(x, W, b, grad_out):
            grad_x = grad_out @ W.T  # the forward pass's W.T, again
            grad_W = grad_out.T @ x
            grad_b = grad_out.sum(dim=0)
            return grad_x, grad_W, grad_b
        """,
    ),
    Mutant(
        name="linear_backward_grad_x_transposed",
        cell="linear_backward",
        fails=["hidden_linear_backward_grad_x"],
        code="""
        def linear_backward(x, W, b, grad_out):
            grad_x = W.T @ grad_out.T  # (in, N): the transpose of x's shape
            grad_W = grad_out.T @ x
            grad_b = grad_out.sum(dim=0)
            return grad_x, grad_W, grad_b
        """,
    ),
    Mutant(
        name="linear_backward_autograd",
        cell="linear_backward",
        fails=["hidden_linear_backward_by_hand"],
        code="""
        def linear_backward(x, W, b, grad_out):
            x, W, b = (t.detach().requires_grad_() for t in (x, W, b))
            with torch.enable_grad():
                (x @ W.T + b).backward(grad_out)
            return x.grad, W.grad, b.grad
        """,
    ),
    # ---------------------------------------------------------------- Value
    Mutant(
        name="Value_no_accumulation",
        cell="Value",
        fails=["hidden_Value_accumulate", "hidden_Value_random_expressions"],
        code=_value_with(
            ("self.grad += ", "self.grad = "),
            ("other.grad += ", "other.grad = "),
        ),
    ),
    Mutant(
        name="Value_naive_recursion",
        cell="Value",
        fails=["hidden_Value_topological_order"],
        code=_value_with(
            (
                """\
        topo, visited = [], set()

        def build(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)  # after all the nodes v depends on

        build(self)
        self.grad = 1.0
        for v in reversed(topo):  # every node before the nodes it depends on
            v._backward()
""",
                """\
        def propagate(v):  # a node is processed as soon as one parent reaches it
            v._backward()
            for child in v._prev:
                propagate(child)

        self.grad = 1.0
        propagate(self)
""",
            )
        ),
    ),
    Mutant(
        name="Value_preorder_topology",
        cell="Value",
        fails=["hidden_Value_topological_order"],
        code=_value_with(
            (
                """\
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)  # after all the nodes v depends on
""",
                """\
                visited.add(v)
                topo.append(v)  # before its children: a node may come before a parent
                for child in v._prev:
                    build(child)
""",
            ),
            ("for v in reversed(topo):", "for v in topo:"),
        ),
    ),
    Mutant(
        name="Value_topology_without_visited",
        cell="Value",
        fails=["hidden_Value_topological_order"],
        code=_value_with(
            (
                """\
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build(child)
                topo.append(v)  # after all the nodes v depends on
""",
                """\
            for child in v._prev:  # no visited set: a shared node is listed once per path
                build(child)
            topo.append(v)
""",
            )
        ),
    ),
    Mutant(
        name="Value_tanh_derivative_of_input",
        cell="Value",
        fails=["hidden_Value_tanh"],
        code=_value_with(
            ("self.grad += (1 - t**2) * out.grad", "self.grad += (1 - self.data**2) * out.grad")
        ),
    ),
    Mutant(
        name="Value_exp_derivative_of_input",
        cell="Value",
        fails=["hidden_Value_exp"],
        code=_value_with(("self.grad += e * out.grad", "self.grad += self.data * out.grad")),
    ),
    Mutant(
        name="Value_pow_exponent_not_lowered",
        cell="Value",
        fails=["hidden_Value_pow"],
        code=_value_with(
            (
                "self.grad += k * self.data ** (k - 1) * out.grad",
                "self.grad += k * self.data**k * out.grad",
            )
        ),
    ),
    Mutant(
        name="Value_pow_int_only",
        cell="Value",
        fails=["hidden_Value_pow"],
        code=_value_with(
            (
                'assert isinstance(k, int | float), "only powers by a plain number are supported"',
                'assert isinstance(k, int), "only integer powers are supported"',
            )
        ),
    ),
    Mutant(
        name="Value_relu_gradient_everywhere",
        cell="Value",
        fails=["hidden_Value_relu"],
        code=_value_with(("self.grad += (self.data > 0) * out.grad", "self.grad += out.grad")),
    ),
    Mutant(
        name="Value_relu_derivative_is_output",
        cell="Value",
        fails=["hidden_Value_relu"],
        code=_value_with(
            ("self.grad += (self.data > 0) * out.grad", "self.grad += out.data * out.grad")
        ),
    ),
    Mutant(
        name="Value_rsub_reversed",
        cell="Value",
        fails=["hidden_Value_reflected"],
        code=_value_with(("return (-self) + other", "return self - other")),
    ),
    Mutant(
        name="Value_rtruediv_reversed",
        cell="Value",
        fails=["hidden_Value_reflected"],
        code=_value_with(("return self**-1 * other", "return self / other")),
    ),
    Mutant(
        name="Value_missing_rsub_rtruediv",
        cell="Value",
        fails=["hidden_Value_reflected"],
        code=_value_with(
            (
                """\
    def __rsub__(self, other):  # other - self
        return (-self) + other

    def __rtruediv__(self, other):  # other / self
        return self**-1 * other

""",
                "",
            )
        ),
    ),
    Mutant(
        name="Value_division_denominator_constant",
        cell="Value",
        fails=["hidden_Value_division"],
        code=_value_with(
            (
                "return self * other**-1",
                "return self * (1 / (other.data if isinstance(other, Value) else other))",
            )
        ),
    ),
    Mutant(
        name="Value_division_gradient_sign",
        cell="Value",
        fails=["hidden_Value_division"],
        code=_value_with(
            (
                """\
    def __truediv__(self, other):  # self / other
        return self * other**-1
""",
                """\
    def __truediv__(self, other):  # self / other
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():
            self.grad += out.grad / other.data
            other.grad += self.data / other.data**2 * out.grad  # the minus sign is missing

        out._backward = _backward
        return out
""",
            )
        ),
    ),
    Mutant(
        name="Value_delegates_to_torch_autograd",
        cell="Value",
        fails=["hidden_Value_from_scratch"],
        code="""
        import torch


        class Value:
            # Wraps a float64 tensor and lets torch.autograd find the gradients: right numbers,
            # none of the engine written.
            def __init__(self, data, _t=None):
                self._t = _t if _t is not None else torch.tensor(
                    float(data), dtype=torch.float64, requires_grad=True
                )
                if self._t.grad_fn is not None:
                    self._t.retain_grad()
                self._grad = 0.0

            @property
            def data(self):
                return self._t.item()

            @property
            def grad(self):
                g = self._t.grad
                return self._grad if g is None else g.item()

            @grad.setter
            def grad(self, value):
                self._grad = value

            @staticmethod
            def _wrap(x):
                return x._t if isinstance(x, Value) else x

            def __add__(self, other):
                return Value(None, self._t + self._wrap(other))

            __radd__ = __add__

            def __mul__(self, other):
                return Value(None, self._t * self._wrap(other))

            __rmul__ = __mul__

            def __neg__(self):
                return Value(None, -self._t)

            def __sub__(self, other):
                return Value(None, self._t - self._wrap(other))

            def __rsub__(self, other):
                return Value(None, self._wrap(other) - self._t)

            def __truediv__(self, other):
                return Value(None, self._t / self._wrap(other))

            def __rtruediv__(self, other):
                return Value(None, self._wrap(other) / self._t)

            def __pow__(self, k):
                return Value(None, self._t**k)

            def tanh(self):
                return Value(None, self._t.tanh())

            def relu(self):
                return Value(None, self._t.relu())

            def exp(self):
                return Value(None, self._t.exp())

            def backward(self):
                self._t.backward()
        """,
    ),
    # ---------------------------------------------------------------- numerical_grad
    Mutant(
        name="numerical_grad_one_sided",
        cell="numerical_grad",
        fails=["hidden_numerical_grad_central", "hidden_numerical_grad_eps"],
        code=edited(
            REFERENCES,
            "numerical_grad",
            (
                """        flat[i] = old - eps
        f_minus = float(f(xc))
        flat[i] = old  # restore the entry before the next one
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)""",
                """        flat[i] = old
        f_zero = float(f(xc))
        flat_grad[i] = (f_plus - f_zero) / eps  # one-sided: an error of order eps""",
            ),
        ),
    ),
    Mutant(
        name="numerical_grad_eps_too_large",
        cell="numerical_grad",
        fails=["hidden_numerical_grad_eps"],
        code=edited(
            REFERENCES,
            "numerical_grad",
            (
                "def numerical_grad(f, x, eps=1e-6):",
                "def numerical_grad(f, x, eps=1e-3):  # 'safer'",
            ),
        ),
    ),
    Mutant(
        name="numerical_grad_not_restored",
        cell="numerical_grad",
        fails=["hidden_numerical_grad_restores"],
        code=edited(
            REFERENCES,
            "numerical_grad",
            ("        flat[i] = old  # restore the entry before the next one\n", ""),
        ),
    ),
    Mutant(
        name="numerical_grad_changes_callers_x",
        cell="numerical_grad",
        fails=["hidden_numerical_grad_restores"],
        code=edited(
            REFERENCES,
            "numerical_grad",
            (
                "xc = x.detach().to(torch.float64).clone()  # our own float64 copy: x stays as it was",
                "xc = x.detach().to(torch.float64)  # no copy: shares memory with a float64 x",
            ),
            ("        old = flat[i].item()\n", ""),
            ("flat[i] = old + eps", "flat[i] += eps"),
            ("flat[i] = old - eps", "flat[i] -= 2 * eps"),
            ("flat[i] = old  # restore", "flat[i] += eps  # 'restore'"),
        ),
    ),
    Mutant(
        name="numerical_grad_float32",
        cell="numerical_grad",
        fails=["hidden_numerical_grad_float64"],
        code=edited(
            REFERENCES,
            "numerical_grad",
            (
                "xc = x.detach().to(torch.float64).clone()  # our own float64 copy: x stays as it was",
                "xc = x.detach().clone()  # a copy, but in x's own dtype",
            ),
        ),
    ),
    Mutant(
        name="numerical_grad_autograd",
        cell="numerical_grad",
        fails=["hidden_numerical_grad_no_autograd"],
        code="""
        def numerical_grad(f, x, eps=1e-6):
            xc = x.detach().to(torch.float64).clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(f(xc), xc)  # not a numerical gradient at all
            return grad
        """,
    ),
]
