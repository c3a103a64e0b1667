"""Chapter 04's test cells to the reference_only contract (issue 10, item 2)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nbedit import apply, edits  # noqa: E402

S = {}

GRADS_LOOP_OLD = """for name, p_ref in {ref}.named_parameters():
    assert_close(
        cell.get_parameter(name).grad,
        p_ref.grad,"""
GRADS_LOOP_NEW = """for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):  # as in {ref}.named_parameters()
    assert_close(
        cell.get_parameter(name).grad,
        grads_ref[name],"""

S["test_LSTMCell"] = edits(
    (
        """hx = (torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64))  # (h, c)
x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
h, c = cell(x_ours, hx)
h_ref, c_ref = ref(x_ref, hx)
assert_close(h, h_ref, name="h'")
assert_close(c, c_ref, name="c'")
w_h, w_c = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
((h * w_h).sum() + (c * w_c).sum()).backward()  # any scalar of h' and c' will do
((h_ref * w_h).sum() + (c_ref * w_c).sum()).backward()
assert_close(x_ours.grad, x_ref.grad, name="the gradient of x")
""",
        """hx = (torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64))  # (h, c)
w_h, w_c = torch.randn(4, 5, dtype=torch.float64), torch.randn(4, 5, dtype=torch.float64)
with reference_only():  # nn.LSTMCell's outputs and gradients, on its own copy of x
    x_ref = x.clone().requires_grad_()
    h_ref, c_ref = ref(x_ref, hx)
    ((h_ref * w_h).sum() + (c_ref * w_c).sum()).backward()
    grads_ref = {name: p.grad for name, p in ref.named_parameters()}
x_ours = x.clone().requires_grad_()
h, c = cell(x_ours, hx)
assert_close(h, h_ref, name="h'")
assert_close(c, c_ref, name="c'")
((h * w_h).sum() + (c * w_c).sum()).backward()  # any scalar of h' and c' will do
assert_close(x_ours.grad, x_ref.grad, name="the gradient of x")
""",
    ),
    (GRADS_LOOP_OLD.format(ref="ref"), GRADS_LOOP_NEW.format(ref="ref")),
)

S["test_GRUCell"] = edits(
    (
        """h0 = torch.randn(4, 5, dtype=torch.float64)  # (N, H=5)
x_ours, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
h = cell(x_ours, h0)
h_ref = ref(x_ref, h0)
assert_close(h, h_ref, name="h'")
w_h = torch.randn(4, 5, dtype=torch.float64)
(h * w_h).sum().backward()  # any scalar of h' will do
(h_ref * w_h).sum().backward()
assert_close(x_ours.grad, x_ref.grad, name="the gradient of x")
""",
        """h0 = torch.randn(4, 5, dtype=torch.float64)  # (N, H=5)
w_h = torch.randn(4, 5, dtype=torch.float64)
with reference_only():  # nn.GRUCell's output and gradients, on its own copy of x
    x_ref = x.clone().requires_grad_()
    h_ref = ref(x_ref, h0)
    (h_ref * w_h).sum().backward()
    grads_ref = {name: p.grad for name, p in ref.named_parameters()}
x_ours = x.clone().requires_grad_()
h = cell(x_ours, h0)
assert_close(h, h_ref, name="h'")
(h * w_h).sum().backward()  # any scalar of h' will do
assert_close(x_ours.grad, x_ref.grad, name="the gradient of x")
""",
    ),
    (GRADS_LOOP_OLD.format(ref="ref"), GRADS_LOOP_NEW.format(ref="ref")),
)


def lstm_ref_first(call_ours, call_ref, indent=""):
    """Move `h_ref, c_ref = ...` into a block before the learner's call."""
    return (
        f"{indent}{call_ours}\n{indent}{call_ref}\n",
        f"{indent}with reference_only():\n{indent}    {call_ref}\n{indent}{call_ours}\n",
    )


S["hidden_LSTMCell_gate_order"] = edits(
    lstm_ref_first("h, c = cell(x, hx)", "h_ref, c_ref = torch_cell(x, hx)")
)
S["hidden_LSTMCell_activations"] = edits(
    lstm_ref_first("h, c = cell(x, hx)", "h_ref, c_ref = torch_cell(x, hx)")
)
S["hidden_LSTMCell_cell_state"] = edits(
    lstm_ref_first("h, c = cell(x, (h0, c0))", "h_ref, c_ref = torch_cell(x, (h0, c0))")
)
S["hidden_LSTMCell_bias_hh"] = edits(
    lstm_ref_first("h, c = cell(x, hx)", "h_ref, c_ref = torch_cell(x, hx)", indent="    ")
)
S["hidden_LSTMCell_hx_none"] = edits(
    lstm_ref_first("h, c = cell(x)", "h_ref, c_ref = torch_cell(x)", indent="    ")
)
S["hidden_LSTMCell_from_scratch"] = edits(
    (
        "h_ref, c_ref = torch_cell(x, hx)\n",
        "with reference_only():\n    h_ref, c_ref = torch_cell(x, hx)\n",
    )
)
S["hidden_GRUCell_from_scratch"] = edits(
    ("h_ref = torch_cell(x, h0)\n", "with reference_only():\n    h_ref = torch_cell(x, h0)\n")
)

for gid in ("hidden_LSTMCell_init", "hidden_GRUCell_init"):
    S[gid] = edits(
        (
            "k = 1 / math.sqrt(64)\n",
            "with reference_only():  # the bound of PyTorch's initialization\n"
            "    k = 1 / math.sqrt(64)\n",
        )
    )

S["hidden_LSTMCell_bptt"] = edits(
    (
        """hs, leaves = unroll(cell)
hs_ref, leaves_ref = unroll(torch_cell)
""",
        """with reference_only():  # nn.LSTMCell unrolled, on its own copies of the inputs
    hs_ref, leaves_ref = unroll(torch_cell)
    grads_ref = {name: p.grad for name, p in torch_cell.named_parameters()}
hs, leaves = unroll(cell)
""",
    ),
    (
        """for what, ours, theirs in zip(
    ("x (all steps)", "the initial h", "the initial c"), leaves, leaves_ref, strict=True
):
    assert_close(ours.grad, theirs.grad, name=f"the gradient of {what}", hint=hint)
""",
        """for i, what in enumerate(("x (all steps)", "the initial h", "the initial c")):
    assert_close(leaves[i].grad, leaves_ref[i].grad, name=f"the gradient of {what}", hint=hint)
""",
    ),
    (GRADS_LOOP_OLD.format(ref="torch_cell"), GRADS_LOOP_NEW.format(ref="torch_cell")),
)

S["hidden_GRUCell_bptt"] = edits(
    (
        """hs, leaves = unroll(cell)
hs_ref, leaves_ref = unroll(torch_cell)
""",
        """with reference_only():  # nn.GRUCell unrolled, on its own copies of the inputs
    hs_ref, leaves_ref = unroll(torch_cell)
    grads_ref = {name: p.grad for name, p in torch_cell.named_parameters()}
hs, leaves = unroll(cell)
""",
    ),
    (
        """for what, ours, theirs in zip(("x (all steps)", "the initial h"), leaves, leaves_ref, strict=True):
    assert_close(ours.grad, theirs.grad, name=f"the gradient of {what}", hint=hint)
""",
        """for i, what in enumerate(("x (all steps)", "the initial h")):
    assert_close(leaves[i].grad, leaves_ref[i].grad, name=f"the gradient of {what}", hint=hint)
""",
    ),
    (GRADS_LOOP_OLD.format(ref="torch_cell"), GRADS_LOOP_NEW.format(ref="torch_cell")),
)

# ---------------------------------------------------------------- clip_grad_norm_
CLONES = """with reference_only():  # torch.nn.utils.clip_grad_norm_ on copies of the parameters
    clones = [p.detach().clone().requires_grad_() for p in params]
    for clone, p in zip(clones, params, strict=True):
        clone.grad = p.grad.clone()
    total_ref = torch.nn.utils.clip_grad_norm_(clones, max_norm={max_norm})
"""

S["test_clip_grad_norm_"] = edits(
    (
        """twins = [p.detach().clone().requires_grad_() for p in params]
for p, twin in zip(params, twins, strict=True):
    p.grad = torch.randn_like(p)
    twin.grad = p.grad.clone()
total = clip_grad_norm_(params, max_norm=0.5)
total_ref = torch.nn.utils.clip_grad_norm_(twins, max_norm=0.5)
""",
        """for p in params:
    p.grad = torch.randn_like(p)
with reference_only():  # torch.nn.utils.clip_grad_norm_ on copies of the parameters
    twins = [p.detach().clone().requires_grad_() for p in params]
    for twin, p in zip(twins, params, strict=True):
        twin.grad = p.grad.clone()
    total_ref = torch.nn.utils.clip_grad_norm_(twins, max_norm=0.5)
total = clip_grad_norm_(params, max_norm=0.5)
""",
    ),
    (
        """for i, (p, twin) in enumerate(zip(params, twins, strict=True)):
    assert_close(p.grad, twin.grad, name=""",
        """for i, p in enumerate(params):
    assert_close(p.grad, twins[i].grad, name=""",
    ),
)

S["hidden_clip_grad_norm__global"] = edits(
    (
        """clones = [p.detach().clone().requires_grad_() for p in params]
for p, clone in zip(params, clones, strict=True):
    g = torch.randn(5, dtype=torch.float64)
    p.grad = 0.8 * g / g.norm()  # each gradient has norm 0.8; all four together have norm 1.6
    clone.grad = p.grad.clone()
total_norm = clip_grad_norm_(params, max_norm=1.0)
total_ref = torch.nn.utils.clip_grad_norm_(clones, max_norm=1.0)
""",
        """for p in params:
    g = torch.randn(5, dtype=torch.float64)
    p.grad = 0.8 * g / g.norm()  # each gradient has norm 0.8; all four together have norm 1.6
"""
        + CLONES.format(max_norm="1.0")
        + """total_norm = clip_grad_norm_(params, max_norm=1.0)
""",
    ),
    (
        """for i, (p, clone) in enumerate(zip(params, clones, strict=True)):
    assert_close(p.grad, clone.grad, name=""",
        """for i, p in enumerate(params):
    assert_close(p.grad, clones[i].grad, name=""",
    ),
)

S["hidden_clip_grad_norm__norm_before"] = edits(
    (
        """clones = [p.detach().clone().requires_grad_() for p in params]
for p, clone in zip(params, clones, strict=True):
    p.grad = 10 * torch.randn(4, 3, dtype=torch.float64)
    clone.grad = p.grad.clone()
total_norm = clip_grad_norm_(params, max_norm=2.0)
total_ref = torch.nn.utils.clip_grad_norm_(clones, max_norm=2.0)
""",
        """for p in params:
    p.grad = 10 * torch.randn(4, 3, dtype=torch.float64)
"""
        + CLONES.format(max_norm="2.0")
        + """total_norm = clip_grad_norm_(params, max_norm=2.0)
""",
    ),
)

S["hidden_clip_grad_norm__no_scale_up"] = edits(
    (
        """before = [p.grad.clone() for p in params]
""",
        """with reference_only():  # the gradients as they are: clipping must leave them so
    before = [p.grad.clone() for p in params]
""",
    ),
    (
        """for i, (p, g) in enumerate(zip(params, before, strict=True)):
    assert_close(
        p.grad,
        g,
""",
        """for i, p in enumerate(params):
    assert_close(
        p.grad,
        before[i],
""",
    ),
)

S["hidden_clip_grad_norm__none_grads"] = edits(
    (
        """clones = [p.detach().clone().requires_grad_() for p in params]
for i in (0, 2):  # parameters 1 and 3 have no gradient (unused in the loss, say)
    params[i].grad = 3 * torch.randn(4, dtype=torch.float64)
    clones[i].grad = params[i].grad.clone()
total_norm = clip_grad_norm_(params, max_norm=1.0)
total_ref = torch.nn.utils.clip_grad_norm_(clones, max_norm=1.0)
""",
        """for i in (0, 2):  # parameters 1 and 3 have no gradient (unused in the loss, say)
    params[i].grad = 3 * torch.randn(4, dtype=torch.float64)
with reference_only():  # torch.nn.utils.clip_grad_norm_ on copies of the parameters
    clones = [p.detach().clone().requires_grad_() for p in params]
    for i in (0, 2):
        clones[i].grad = params[i].grad.clone()
    total_ref = torch.nn.utils.clip_grad_norm_(clones, max_norm=1.0)
total_norm = clip_grad_norm_(params, max_norm=1.0)
""",
    ),
)

S["hidden_clip_grad_norm__in_place"] = edits(
    (
        """clones = [p.detach().clone().requires_grad_() for p in params]
for p, clone in zip(params, clones, strict=True):
    p.grad = 5 * torch.randn(3, 2, dtype=torch.float64)
    clone.grad = p.grad.clone()
grads_before = [p.grad for p in params]  # the very tensors, not copies
clip_grad_norm_(params, max_norm=1.0)
torch.nn.utils.clip_grad_norm_(clones, max_norm=1.0)
for i, (g, clone) in enumerate(zip(grads_before, clones, strict=True)):
    assert_close(
        g,
        clone.grad,
""",
        """for p in params:
    p.grad = 5 * torch.randn(3, 2, dtype=torch.float64)
grads_before = [p.grad for p in params]  # the very tensors, not copies
"""
        + CLONES.format(max_norm="1.0").replace("    total_ref = ", "    ")
        + """clip_grad_norm_(params, max_norm=1.0)
for i, g in enumerate(grads_before):
    assert_close(
        g,
        clones[i].grad,
""",
    ),
)

S["hidden_clip_grad_norm__single_tensor"] = edits(
    (
        """clone = w.detach().clone().requires_grad_()
clone.grad = w.grad.clone()
""",
        """with reference_only():  # torch.nn.utils.clip_grad_norm_ on a copy of the tensor
    clone = w.detach().clone().requires_grad_()
    clone.grad = w.grad.clone()
    total_ref = torch.nn.utils.clip_grad_norm_(clone, max_norm=1.0)
""",
    ),
    (
        """total_norm = clip_grad_norm_(w, max_norm=1.0)
total_ref = torch.nn.utils.clip_grad_norm_(clone, max_norm=1.0)
""",
        """total_norm = clip_grad_norm_(w, max_norm=1.0)
""",
    ),
)

S["hidden_clip_grad_norm__generator"] = edits(
    (
        """### BEGIN HIDDEN TESTS
torch.manual_seed(47)
model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
clone = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
clone.load_state_dict(model.state_dict())
x = torch.randn(8, 4, dtype=torch.float64)
(model(x) ** 2).sum().backward()
(clone(x) ** 2).sum().backward()
total_norm = clip_grad_norm_(model.parameters(), max_norm=0.1)
total_ref = torch.nn.utils.clip_grad_norm_(clone.parameters(), max_norm=0.1)
""",
        """### BEGIN HIDDEN TESTS
import copy

torch.manual_seed(47)
model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)).double()
x = torch.randn(8, 4, dtype=torch.float64)
with reference_only():  # torch.nn.utils.clip_grad_norm_ on a copy of the model
    clone = copy.deepcopy(model)
    (clone(x) ** 2).sum().backward()
    total_ref = torch.nn.utils.clip_grad_norm_(clone.parameters(), max_norm=0.1)
    grads_ref = [p.grad for p in clone.parameters()]
(model(x) ** 2).sum().backward()
total_norm = clip_grad_norm_(model.parameters(), max_norm=0.1)
""",
    ),
    (
        """for (name, p), p_ref in zip(model.named_parameters(), clone.parameters(), strict=True):
    assert_close(p.grad, p_ref.grad, name=""",
        """for i, (name, p) in enumerate(model.named_parameters()):
    assert_close(p.grad, grads_ref[i], name=""",
    ),
)

S["hidden_clip_grad_norm__from_scratch"] = edits(
    (
        """clones = [p.detach().clone().requires_grad_() for p in params]
for p, clone in zip(params, clones, strict=True):
    p.grad = 4 * torch.randn(3, 3, dtype=torch.float64)
    clone.grad = p.grad.clone()
total_ref = torch.nn.utils.clip_grad_norm_(clones, max_norm=1.0)
""",
        """for p in params:
    p.grad = 4 * torch.randn(3, 3, dtype=torch.float64)
"""
        + CLONES.format(max_norm="1.0"),
    ),
    (
        """for i, (p, clone) in enumerate(zip(params, clones, strict=True)):
    assert_close(p.grad, clone.grad, name=""",
        """for i, p in enumerate(params):
    assert_close(p.grad, clones[i].grad, name=""",
    ),
)

apply(
    "04_rnn",
    S,
    setup_old="from autograder import assert_close, check_equal, check_shape, check_uniform",
    setup_new="from autograder import (\n    assert_close,\n    check_equal,\n    check_shape,\n"
    "    check_uniform,\n    reference_only,\n)",
)
