import sys
sys.path.insert(0, "/tmp/rw")
from nbedit import apply, edits

S = {}

S["test_cross_entropy"] = r'''
# By hand: equal logits over 4 classes give every class probability 1/4, so the loss is ln 4.
logits = torch.zeros(2, 4, device=device)  # (N=2, C=4)
targets = torch.tensor([0, 3], device=device)  # (2,)
loss = cross_entropy(logits, targets)
check_shape(loss, (), name="cross_entropy(logits, targets)")
assert_close(loss, torch.tensor(math.log(4.0)), name="the loss for equal logits over 4 classes")

# By hand: logits [0, ln 3] give probabilities [1/4, 3/4]. Example 1 has target 1 (loss -ln 3/4),
# example 2 has target 0 (loss -ln 1/4); the batch loss is their mean.
logits = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]], device=device)  # (2, 2)
targets = torch.tensor([1, 0], device=device)  # (2,)
with reference_only():
    expected = (-math.log(3 / 4) - math.log(1 / 4)) / 2
assert_close(cross_entropy(logits, targets), torch.tensor(expected), name="the loss of 2 examples")

# Against PyTorch: 8 examples, 5 classes.
torch.manual_seed(2)
logits = torch.randn(8, 5).to(device)  # (8, 5)
targets = torch.tensor([4, 0, 2, 1, 3, 4, 2, 0], device=device)  # (8,)
assert_close(cross_entropy(logits, targets), F.cross_entropy(logits, targets), name="cross_entropy")
print("cross_entropy: visible test passed")
'''

SOFTMAX_FS_OLD = '''torch.manual_seed(14)
x = torch.randn(5, 7, dtype=torch.float64).to(device)
expected = torch.softmax(x, dim=-1)
'''
SOFTMAX_FS_NEW = '''torch.manual_seed(14)
x = torch.randn(5, 7, dtype=torch.float64).to(device)
with reference_only():
    expected = torch.softmax(x, dim=-1)
'''
CE_FS_OLD = '''targets = torch.randint(0, 4, (6,)).to(device)
expected = F.cross_entropy(logits, targets)
'''
CE_FS_NEW = '''targets = torch.randint(0, 4, (6,)).to(device)
with reference_only():
    expected = F.cross_entropy(logits, targets)
'''

S["test_linear_backward"] = r'''
# By hand: one example, 2 inputs, 2 outputs. grad_out = [[1, 0]] asks for the gradient of y_0 alone:
# y_0 = 3 x_0 + 4 x_1 + b_0, so d y_0/dx = [3, 4] (row 0 of W), d y_0/dW = [[x_0, x_1], [0, 0]]
# and d y_0/db = [1, 0].
f64 = torch.float64
x = torch.tensor([[1.0, 2.0]], dtype=f64, device=device)  # (1, 2)
W = torch.tensor([[3.0, 4.0], [5.0, 6.0]], dtype=f64, device=device)  # (2, 2)
b = torch.tensor([0.5, -0.5], dtype=f64, device=device)  # (2,)
grad_out = torch.tensor([[1.0, 0.0]], dtype=f64, device=device)  # (1, 2)
grad_x, grad_W, grad_b = linear_backward(x, W, b, grad_out)
assert_close(grad_x, torch.tensor([[3.0, 4.0]], dtype=f64), name="grad_x (by hand)")
assert_close(grad_W, torch.tensor([[1.0, 2.0], [0.0, 0.0]], dtype=f64), name="grad_W (by hand)")
assert_close(grad_b, torch.tensor([1.0, 0.0], dtype=f64), name="grad_b (by hand)")

# Against torch.autograd: a batch of 4 examples through a square 3 x 3 layer, in float64.
torch.manual_seed(3)
x = torch.randn(4, 3, dtype=torch.float64)  # (N=4, in=3)
W = torch.randn(3, 3, dtype=torch.float64)  # (out=3, in=3)
b = torch.randn(3, dtype=torch.float64)  # (3,)
grad_out = torch.randn(4, 3, dtype=torch.float64)  # (4, 3)
# torch.autograd, on copies of the inputs, fills x_ref.grad, W_ref.grad and b_ref.grad.
with reference_only():
    x_ref, W_ref, b_ref = (t.detach().clone().requires_grad_() for t in (x, W, b))
    (x_ref @ W_ref.T + b_ref).backward(grad_out)
with torch.no_grad():
    grad_x, grad_W, grad_b = linear_backward(
        x.to(device), W.to(device), b.to(device), grad_out.to(device)
    )
check_shape(grad_x, tuple(x.shape), name="grad_x")
assert_close(grad_x, x_ref.grad, name="grad_x")
check_shape(grad_W, tuple(W.shape), name="grad_W")
assert_close(grad_W, W_ref.grad, name="grad_W")
check_shape(grad_b, tuple(b.shape), name="grad_b")
assert_close(grad_b, b_ref.grad, name="grad_b")
print("linear_backward: visible test passed")
'''

S["hidden_softmax_from_scratch"] = edits((SOFTMAX_FS_OLD, SOFTMAX_FS_NEW))
S["hidden_cross_entropy_from_scratch"] = edits((CE_FS_OLD, CE_FS_NEW))

LB_OLD = """    x = torch.randn(n, n_in, dtype=torch.float64, requires_grad=True)
    W = torch.randn(n_out, n_in, dtype=torch.float64, requires_grad=True)
    b = torch.randn(n_out, dtype=torch.float64, requires_grad=True)
    grad_out = torch.randn(n, n_out, dtype=torch.float64)
    (x @ W.T + b).backward(grad_out)
"""
LB_NEW = """    x = torch.randn(n, n_in, dtype=torch.float64)
    W = torch.randn(n_out, n_in, dtype=torch.float64)
    b = torch.randn(n_out, dtype=torch.float64)
    grad_out = torch.randn(n, n_out, dtype=torch.float64)
    with reference_only():  # autograd's gradients, on copies of the inputs
        x_ref, W_ref, b_ref = (t.detach().clone().requires_grad_() for t in (x, W, b))
        (x_ref @ W_ref.T + b_ref).backward(grad_out)
"""
S["hidden_linear_backward_grad_W"] = edits((LB_OLD, LB_NEW), ("        W.grad,\n", "        W_ref.grad,\n"))
S["hidden_linear_backward_grad_b"] = edits((LB_OLD, LB_NEW), ("        b.grad,\n", "        b_ref.grad,\n"))
S["hidden_linear_backward_grad_x"] = edits((LB_OLD, LB_NEW), ("        x.grad,\n", "        x_ref.grad,\n"))
S["hidden_linear_backward_by_hand"] = edits(
    (
        """x = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
W = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
b = torch.randn(3, dtype=torch.float64, requires_grad=True)
grad_out = torch.randn(5, 3, dtype=torch.float64)
(x @ W.T + b).backward(grad_out)
""",
        """x = torch.randn(5, 4, dtype=torch.float64)
W = torch.randn(3, 4, dtype=torch.float64)
b = torch.randn(3, dtype=torch.float64)
grad_out = torch.randn(5, 3, dtype=torch.float64)
with reference_only():  # autograd's gradients, on copies of the inputs
    x_ref, W_ref, b_ref = (t.detach().clone().requires_grad_() for t in (x, W, b))
    (x_ref @ W_ref.T + b_ref).backward(grad_out)
""",
    ),
    (
        """for name, ours, theirs in [
    ("grad_x", grad_x, x.grad),
    ("grad_W", grad_W, W.grad),
    ("grad_b", grad_b, b.grad),
]:
    assert_close(ours, theirs, name=name)
""",
        """assert_close(grad_x, x_ref.grad, name="grad_x")
assert_close(grad_W, W_ref.grad, name="grad_W")
assert_close(grad_b, b_ref.grad, name="grad_b")
""",
    ),
)

S["test_Value"] = edits(
    (
        """ours = torch.tensor([a.grad, b.grad, c.grad, f.grad, d.grad], dtype=torch.float64)
expected = torch.tensor([6.0, -4.0, -2.0, 4.0, -2.0], dtype=torch.float64)
""",
        """ours = torch.tensor([a.grad, b.grad, c.grad, f.grad, d.grad], dtype=torch.float64)
with reference_only():
    expected = torch.tensor([6.0, -4.0, -2.0, 4.0, -2.0], dtype=torch.float64)
""",
    ),
    (
        """v = {k: Value(x) for k, x in inputs.items()}
t = {k: torch.tensor(x, dtype=torch.float64, requires_grad=True) for k, x in inputs.items()}
o = (v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]).tanh()
o_t = (t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]).tanh()
o.backward()
o_t.backward()
""",
        """v = {k: Value(x) for k, x in inputs.items()}
o = (v["x1"] * v["w1"] + v["x2"] * v["w2"] + v["b"]).tanh()
o.backward()
with reference_only():  # the same neuron from float64 tensors, through torch.autograd
    t = {k: torch.tensor(x, dtype=torch.float64, requires_grad=True) for k, x in inputs.items()}
    o_t = (t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]).tanh()
    o_t.backward()
""",
    ),
)

COMPARE_OLD = '''def _compare(build, leaves, what, hint):
    """Build the same expression from Values and from float64 tensors; compare data and grads."""
    vs = [Value(x) for x in leaves]
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    params = build.__code__.co_varnames[: build.__code__.co_argcount]
    names = params[: len(leaves)] if len(params) >= len(leaves) else "abcdefgh"[: len(leaves)]
    out, out_t = build(*vs), build(*ts)
    out.backward()
    out_t.backward()
    assert_close(
        torch.tensor(float(out.data), dtype=torch.float64),
        out_t.detach(),
'''
COMPARE_NEW = '''def _autograd(build, leaves):
    """The expected side: build(*leaves) from float64 tensors; its value and torch.autograd's
    gradients of the leaves (0 for a leaf the expression does not use)."""
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in leaves]
    out_t = build(*ts)
    out_t.backward()
    grads = [t.grad if t.grad is not None else torch.zeros((), dtype=torch.float64) for t in ts]
    return out_t.detach(), torch.stack(grads)


def _compare(build, leaves, what, hint):
    """Build the expression from Values, call backward(); compare data and grads with autograd's."""
    vs = [Value(x) for x in leaves]
    params = build.__code__.co_varnames[: build.__code__.co_argcount]
    names = params[: len(leaves)] if len(params) >= len(leaves) else "abcdefgh"[: len(leaves)]
    out = build(*vs)
    out.backward()
    with reference_only():
        value_t, grads_t = _autograd(build, leaves)
    assert_close(
        torch.tensor(float(out.data), dtype=torch.float64),
        value_t,
'''
COMPARE_OLD2 = '''    ours = torch.tensor([float(v.grad) for v in vs], dtype=torch.float64)
    theirs = torch.stack(
        [t.grad if t.grad is not None else torch.zeros((), dtype=torch.float64) for t in ts]
    )
    grads = "[" + ", ".join(f"{n}.grad" for n in names) + "]"
    assert_close(ours, theirs, name=f"{grads} for {what}", hint=hint)
'''
COMPARE_NEW2 = '''    ours = torch.tensor([float(v.grad) for v in vs], dtype=torch.float64)
    grads = "[" + ", ".join(f"{n}.grad" for n in names) + "]"
    assert_close(ours, grads_t, name=f"{grads} for {what}", hint=hint)
'''
for gid in [
    "hidden_Value_accumulate", "hidden_Value_topological_order", "hidden_Value_tanh",
    "hidden_Value_exp", "hidden_Value_pow", "hidden_Value_relu", "hidden_Value_reflected",
    "hidden_Value_division", "hidden_Value_random_expressions",
]:
    S[gid] = edits((COMPARE_OLD, COMPARE_NEW), (COMPARE_OLD2, COMPARE_NEW2))

apply(
    "01_autograd",
    S,
    setup_old="from autograder import assert_close, check_finite, check_shape",
    setup_new="from autograder import assert_close, check_finite, check_shape, reference_only",
)
