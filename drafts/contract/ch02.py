import sys
sys.path.insert(0, "/tmp/rw")
from nbedit import apply, edits

S = {}
S["test_SGD"] = edits(
    (
        """    theirs = quadratic_trajectory(partial(torch.optim.SGD, lr=0.05, momentum=momentum))
""",
        """    with reference_only():
        theirs = quadratic_trajectory(partial(torch.optim.SGD, lr=0.05, momentum=momentum))
""",
    ),
    (
        """    theirs = mlp_trajectory(partial(torch.optim.SGD, lr=0.1, momentum=momentum))
""",
        """    with reference_only():
        theirs = mlp_trajectory(partial(torch.optim.SGD, lr=0.1, momentum=momentum))
""",
    ),
)
S["hidden_SGD_momentum_first_step"] = edits(
    (
        """    plain = mlp_trajectory(partial(torch.optim.SGD, lr=0.1), steps=1, seed=101)
""",
        """    with reference_only():
        plain = mlp_trajectory(partial(torch.optim.SGD, lr=0.1), steps=1, seed=101)
""",
    ),
)
S["hidden_SGD_momentum_accumulates"] = edits(
    (
        """    theirs = mlp_trajectory(partial(torch.optim.SGD, lr=0.1, momentum=momentum), seed=102)
""",
        """    with reference_only():
        theirs = mlp_trajectory(partial(torch.optim.SGD, lr=0.1, momentum=momentum), seed=102)
""",
    ),
    (
        """# The buffer must survive a zero_grad() that clears the gradients in place.
torch.manual_seed(102)
p = torch.zeros(3, dtype=torch.float64, device=device, requires_grad=True)  # (3,)
q = p.detach().clone().requires_grad_(True)  # (3,)
ours, theirs = SGD([p], lr=0.1, momentum=0.9), torch.optim.SGD([q], lr=0.1, momentum=0.9)
for _ in range(3):
    for w, opt in ((p, ours), (q, theirs)):
        if w.grad is not None:
            w.grad.zero_()  # zeroing in place, as some training loops do
        ((w - 1.0) ** 2).sum().backward()
        opt.step()
assert_close(
    p.detach(),
    q.detach(),
""",
        """# The buffer must survive a zero_grad() that clears the gradients in place.
torch.manual_seed(102)


def _three_steps(make_optimizer):
    \"\"\"p after 3 momentum steps from p = 0, its gradient zeroed in place between the steps.\"\"\"
    p = torch.zeros(3, dtype=torch.float64, device=device, requires_grad=True)  # (3,)
    opt = make_optimizer([p], lr=0.1, momentum=0.9)
    for _ in range(3):
        if p.grad is not None:
            p.grad.zero_()  # zeroing in place, as some training loops do
        ((p - 1.0) ** 2).sum().backward()
        opt.step()
    return p.detach()


ours = _three_steps(SGD)
with reference_only():
    theirs = _three_steps(torch.optim.SGD)
assert_close(
    ours,
    theirs,
""",
    ),
)
S["hidden_SGD_weight_decay"] = edits(
    (
        """        theirs = mlp_trajectory(
            partial(torch.optim.SGD, lr=0.1, momentum=momentum, weight_decay=weight_decay),
            seed=103,
        )
""",
        """        with reference_only():
            theirs = mlp_trajectory(
                partial(torch.optim.SGD, lr=0.1, momentum=momentum, weight_decay=weight_decay),
                seed=103,
            )
""",
    ),
)
S["hidden_SGD_skips_missing_grads"] = edits(
    (
        """before = unused.detach().clone()
""",
        """with reference_only():
    before = unused.detach().clone()
""",
    ),
)
S["test_Adam"] = edits(
    (
        """theirs = quadratic_trajectory(partial(torch.optim.Adam, lr=0.1))
""",
        """with reference_only():
    theirs = quadratic_trajectory(partial(torch.optim.Adam, lr=0.1))
""",
    ),
    (
        """theirs = mlp_trajectory(partial(torch.optim.Adam, lr=0.01))
""",
        """with reference_only():
    theirs = mlp_trajectory(partial(torch.optim.Adam, lr=0.01))
""",
    ),
)
S["hidden_Adam_bias_correction"] = edits(
    (
        """    theirs = mlp_trajectory(partial(torch.optim.Adam, lr=0.01, betas=betas), seed=201)
""",
        """    with reference_only():
        theirs = mlp_trajectory(partial(torch.optim.Adam, lr=0.01, betas=betas), seed=201)
""",
    ),
)
S["hidden_Adam_eps"] = edits(
    (
        """    theirs = quadratic_trajectory(partial(torch.optim.Adam, lr=0.1, eps=eps), seed=202, scale=scale)
""",
        """    with reference_only():
        theirs = quadratic_trajectory(
            partial(torch.optim.Adam, lr=0.1, eps=eps), seed=202, scale=scale
        )
""",
    ),
)
S["hidden_Adam_weight_decay"] = edits(
    (
        """    theirs = mlp_trajectory(partial(torch.optim.Adam, lr=0.01, weight_decay=weight_decay), seed=203)
""",
        """    with reference_only():
        theirs = mlp_trajectory(
            partial(torch.optim.Adam, lr=0.01, weight_decay=weight_decay), seed=203
        )
""",
    ),
)
S["hidden_Adam_step_count"] = edits(
    (
        """start = [torch.randn(s, dtype=torch.float64, device=device) for s in shapes]
results = []
for make in (Adam, torch.optim.Adam):
    params = [s.clone().requires_grad_(True) for s in start]
    opt = make(params, lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        sum(((k + 1) * (p - 1) ** 2).sum() for k, p in enumerate(params)).backward()
        opt.step()
    results.append(torch.cat([p.detach().flatten() for p in params]))
check_finite(results[0], name="the parameters after 3 steps")
assert_close(
    results[0],
    results[1],
""",
        """start = [torch.randn(s, dtype=torch.float64, device=device) for s in shapes]


def _three_steps(make_optimizer):
    \"\"\"All 5 parameters, flattened, after 3 steps from copies of `start`.\"\"\"
    params = [s.clone().requires_grad_(True) for s in start]
    opt = make_optimizer(params, lr=0.05)
    for _ in range(3):
        opt.zero_grad()
        sum(((k + 1) * (p - 1) ** 2).sum() for k, p in enumerate(params)).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in params])


ours = _three_steps(Adam)
with reference_only():
    theirs = _three_steps(torch.optim.Adam)
check_finite(ours, name="the parameters after 3 steps")
assert_close(
    ours,
    theirs,
""",
    ),
)
S["test_dropout"] = edits(
    (
        """torch.manual_seed(3)
y_torch = F.dropout(x, p=0.5, training=True)
""",
        """with reference_only():
    torch.manual_seed(3)
    y_torch = F.dropout(x, p=0.5, training=True)
""",
    ),
)
S["hidden_dropout_not_in_place"] = edits(
    (
        """x_before = x.clone()
""",
        """with reference_only():
    x_before = x.clone()
""",
    ),
)
S["test_precision_recall_f1"] = edits(
    (
        """expected = torch.tensor([2 / 3, 1 / 2, 4 / 7], dtype=torch.float64)
""",
        """with reference_only():
    expected = torch.tensor([2 / 3, 1 / 2, 4 / 7], dtype=torch.float64)
""",
    ),
)
S["hidden_precision_recall_f1_harmonic"] = edits(
    (
        """expected = torch.tensor([1.0, 0.1, 2 * 0.1 / 1.1], dtype=torch.float64)
""",
        """with reference_only():
    expected = torch.tensor([1.0, 0.1, 2 * 0.1 / 1.1], dtype=torch.float64)
""",
    ),
)

apply(
    "02_optimization",
    S,
    setup_old="    check_shape,\n)",
    setup_new="    check_shape,\n    reference_only,\n)",
)
