import re
import sys
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from nbedit import apply, edits

S = {}


def expected_in_block(indent, line):
    """`<indent>expected = ...` -> the same line inside a reference_only block."""
    return (f"{indent}{line}\n", f"{indent}with reference_only():\n{indent}    {line}\n")


S["test_conv2d"] = edits(expected_in_block("    ", "expected = F.conv2d(x, w, stride=stride, padding=padding)"))
S["hidden_conv2d_pairs"] = edits(expected_in_block("    ", "expected = F.conv2d(x, w, stride=stride, padding=padding)"))
S["hidden_conv2d_output_size"] = edits(expected_in_block("    ", "expected = F.conv2d(x, w, stride=s, padding=p)"))
S["hidden_conv2d_from_scratch"] = edits(expected_in_block("", "expected = F.conv2d(x, w, b, padding=1)"))
S["test_max_pool2d"] = edits(expected_in_block("    ", "expected = F.max_pool2d(x, kernel_size, stride)"))
S["hidden_max_pool2d_default_stride"] = edits(expected_in_block("    ", "expected = F.max_pool2d(x, k)"))
S["hidden_max_pool2d_non_square"] = edits(expected_in_block("    ", "expected = F.max_pool2d(x, k, s)"))
S["hidden_max_pool2d_from_scratch"] = edits(expected_in_block("", "expected = F.max_pool2d(x, 2)"))

S["hidden_conv2d_gradient"] = edits(
    (
        """expected = F.conv2d(x, w, b, stride=(2, 1), padding=(1, 1))
g = torch.randn(expected.shape, dtype=torch.float64, device=device)  # upstream gradient
y = conv2d(x, w, b, stride=(2, 1), padding=(1, 1))
check_shape(y, tuple(expected.shape), name="conv2d(x, w, bias, stride=(2, 1), padding=(1, 1))")
ours = torch.autograd.grad(y, (x, w, b), g)
theirs = torch.autograd.grad(expected, (x, w, b), g)
for what, a, e in zip(("x", "weight", "bias"), ours, theirs, strict=True):
    assert_close(
        a,
        e,
""",
        """# upstream gradient, of the output's shape (N, C_out, H_out, W_out) = (2, 4, 3, 6)
g = torch.randn(2, 4, 3, 6, dtype=torch.float64, device=device)
with reference_only():  # F.conv2d's gradients, on copies of the inputs
    refs = [t.detach().clone().requires_grad_() for t in (x, w, b)]
    expected = F.conv2d(*refs, stride=(2, 1), padding=(1, 1))
    theirs = torch.autograd.grad(expected, refs, g)
y = conv2d(x, w, b, stride=(2, 1), padding=(1, 1))
check_shape(y, tuple(expected.shape), name="conv2d(x, w, bias, stride=(2, 1), padding=(1, 1))")
ours = torch.autograd.grad(y, (x, w, b), g)
for i, what in enumerate(("x", "weight", "bias")):
    assert_close(
        ours[i],
        theirs[i],
""",
    ),
)

S["test_batch_norm"] = edits(
    (
        """a, b = 1 / math.sqrt(1 + 1e-5), 10 / math.sqrt(100 + 1e-5)  # 1 / sqrt(var + eps) * |x - mean|
f64 = torch.float64
""",
        """f64 = torch.float64
with reference_only():
    a, b = 1 / math.sqrt(1 + 1e-5), 10 / math.sqrt(100 + 1e-5)  # 1 / sqrt(var + eps) * |x - mean|
""",
    ),
    (
        """ref_mean, ref_var = ours_mean.clone(), ours_var.clone()
y = batch_norm(x, ours_mean, ours_var, weight, bias, training=True)
expected = F.batch_norm(x, ref_mean, ref_var, weight, bias, training=True)
assert_close(y, expected, name="batch_norm(x, ..., training=True)")
assert_close(ours_mean, ref_mean, name="running_mean after a training step")
y = batch_norm(x, ours_mean, ours_var, weight, bias, training=False)
expected = F.batch_norm(x, ref_mean, ref_var, weight, bias, training=False)
""",
        """with reference_only():  # F.batch_norm on its own copies of the running statistics
    ref_mean, ref_var = ours_mean.clone(), ours_var.clone()
    expected = F.batch_norm(x, ref_mean, ref_var, weight, bias, training=True)
y = batch_norm(x, ours_mean, ours_var, weight, bias, training=True)
assert_close(y, expected, name="batch_norm(x, ..., training=True)")
assert_close(ours_mean, ref_mean, name="running_mean after a training step")
y = batch_norm(x, ours_mean, ours_var, weight, bias, training=False)
with reference_only():
    expected = F.batch_norm(x, ref_mean, ref_var, weight, bias, training=False)
""",
    ),
)

BN_BOTH = '''def _bn_both(x, mean0, var0, **kwargs):
    # Run the learner's batch_norm and F.batch_norm on copies of the same running statistics.
    ours_mean, ours_var = mean0.clone(), var0.clone()
    ref_mean, ref_var = mean0.clone(), var0.clone()
    y = batch_norm(x, ours_mean, ours_var, **kwargs)
    expected = F.batch_norm(x, ref_mean, ref_var, **kwargs)
    return (y, ours_mean, ours_var), (expected, ref_mean, ref_var)
'''
BN_ONE = '''def _bn(fn, x, mean0, var0, **kwargs):
    # fn (batch_norm, or F.batch_norm for the expected side) on copies of the running statistics:
    # its output and the statistics after the call.
    mean, var = mean0.clone(), var0.clone()
    return fn(x, mean, var, **kwargs), mean, var
'''


def split_bn(src):
    assert src.count(BN_BOTH) == 1
    src = src.replace(BN_BOTH, BN_ONE)
    pattern = re.compile(r"^( *)ours, ref = _bn_both\((.*)\)$", re.M)
    assert len(pattern.findall(src)) == 1
    return pattern.sub(
        lambda m: f"{m[1]}ours = _bn(batch_norm, {m[2]})\n"
        f"{m[1]}with reference_only():\n{m[1]}    ref = _bn(F.batch_norm, {m[2]})",
        src,
    )


for gid in [
    "hidden_batch_norm_4d",
    "hidden_batch_norm_running_var_unbiased",
    "hidden_batch_norm_eval",
    "hidden_batch_norm_training_uses_batch_stats",
    "hidden_batch_norm_momentum",
    "hidden_batch_norm_eps",
]:
    S[gid] = split_bn

S["hidden_batch_norm_gradient"] = edits(
    (
        """    ours = torch.autograd.grad(y, (x, weight, bias), g)
    ref_stats = [torch.zeros(3, dtype=f64, device=device), torch.ones(3, dtype=f64, device=device)]
    expected = F.batch_norm(x, *ref_stats, weight, bias, training=True)
    theirs = torch.autograd.grad(expected, (x, weight, bias), g)
    for what, a, e in zip(("x", "weight", "bias"), ours, theirs, strict=True):
        assert_close(
            a,
            e,
""",
        """    ours = torch.autograd.grad(y, (x, weight, bias), g)
    with reference_only():  # F.batch_norm's gradients, on copies of the inputs and statistics
        refs = [t.detach().clone().requires_grad_() for t in (x, weight, bias)]
        ref_stats = [torch.zeros(3, dtype=f64, device=device), torch.ones(3, dtype=f64, device=device)]
        expected = F.batch_norm(refs[0], *ref_stats, refs[1], refs[2], training=True)
        theirs = torch.autograd.grad(expected, refs, g)
    for i, what in enumerate(("x", "weight", "bias")):
        assert_close(
            ours[i],
            theirs[i],
""",
    ),
)
S["hidden_batch_norm_from_scratch"] = edits(
    (
        """ref_stats = [s.clone() for s in ours_stats]
expected = F.batch_norm(x, *ref_stats, training=True)
""",
        """with reference_only():
    ref_stats = [s.clone() for s in ours_stats]
    expected = F.batch_norm(x, *ref_stats, training=True)
""",
    ),
)

S["test_train_cnn"] = edits(
    (
        """digits = load_digits()
x_all = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
y_all = torch.tensor(digits.target)  # (1797,)
order = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(0))  # (1797,)
test_idx, train_idx = order[:360], order[360:]
torch.manual_seed(0)
start = time.perf_counter()
model = train_cnn(DigitsCNN(), x_all[train_idx].clone(), y_all[train_idx].clone())
""",
        """digits = load_digits()
x_all = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
order = torch.randperm(len(x_all), generator=torch.Generator().manual_seed(0))  # (1797,)
test_idx, train_idx = order[:360], order[360:]
y_train = torch.tensor(digits.target)[train_idx]  # (1437,): the training labels only
with reference_only():
    y_heldout = torch.tensor(digits.target)[test_idx]  # (360,): the held-out labels
del digits
torch.manual_seed(0)
start = time.perf_counter()
model = train_cnn(DigitsCNN(), x_all[train_idx].clone(), y_train)
""",
    ),
    (
        """accuracy = (logits.argmax(dim=1).cpu() == y_all[test_idx]).float().mean().item()
print(f"held-out accuracy {accuracy:.1%}, trained in {seconds:.1f} s")
check_accuracy(
    logits,
    None,
    y_all[test_idx],
""",
        """with reference_only():
    accuracy = (logits.argmax(dim=1).cpu() == y_heldout).float().mean().item()
    print(f"held-out accuracy {accuracy:.1%}, trained in {seconds:.1f} s")
check_accuracy(
    logits,
    None,
    y_heldout,
""",
    ),
)

# The expected side came from the learner's own model (its batched logits), which the grader
# takes from the reference run: an honest network of another design failed there. The check now
# compares the difference of the learner's two results with zeros, which no model decides.
S["hidden_cnn_batch_independent"] = edits(
    (
        """        assert_close(
            single[0], batched[i], name="the logits of an image alone and in a batch", hint=hint
        )
""",
        """        assert_close(
            single[0] - batched[i],  # (10,): zero when the batch does not matter
            torch.zeros(10),
            atol=1e-4,
            name="the logits of an image alone and in a batch",
            hint=hint,
        )
""",
    ),
)

apply(
    "03_cnn",
    S,
    setup_old="from autograder import assert_close, check_accuracy, check_between, check_equal, check_shape",
    setup_new="from autograder import (\n    assert_close,\n    check_accuracy,\n    check_between,\n    check_equal,\n    check_shape,\n    reference_only,\n)",
)
