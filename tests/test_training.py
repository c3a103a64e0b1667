"""Do the training checks tell learning from not learning, and keep time honestly?"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

from autograder import CheckFailed, check_accuracy, check_loss_decreases, time_budget, train_within
from autograder.checks import training as training_module
from tests.check_helpers import cuda, failure

pytestmark = pytest.mark.filterwarnings("error")


def noisy_decay(n=200, noise=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    steps = torch.arange(n, dtype=torch.float64)
    return (
        2.3 * torch.exp(-steps / 40)
        + 0.1
        + noise * torch.rand(n, generator=gen, dtype=torch.float64)
    ).tolist()


# check_loss_decreases


def test_noisy_decreasing_loss_passes():
    check_loss_decreases(noisy_decay(), factor=0.5)
    check_loss_decreases([torch.tensor(v) for v in noisy_decay(50)])  # tensors, as recorded
    check_loss_decreases(np.array(noisy_decay(50)))
    check_loss_decreases([-1.0, -2.0, -3.0])  # a negative loss (log-likelihood) going down


def test_one_noisy_step_does_not_decide():
    losses = noisy_decay(noise=0.0)
    losses[-1] = 10.0  # a spike on the last minibatch: the window average still falls
    check_loss_decreases(losses, factor=0.5)


def test_flat_loss_fails_with_averages_and_cause():
    msg = failure(check_loss_decreases, [2.3] * 50)
    assert msg.startswith(
        "the loss did not decrease enough: the average of the last 5 values is 2.3, "
        "of the first 5 values 2.3 (ratio 1; at most 0.9 was required)."
    )
    assert "likely cause: the loss barely moved: optimizer.step() not called" in msg


def test_rising_loss_suggests_the_sign():
    msg = failure(check_loss_decreases, [1.0 + 0.1 * i for i in range(50)], name="training loss")
    assert msg.startswith("the training loss did not decrease enough")
    assert "wrong sign (p += lr * grad)" in msg


def test_oscillating_loss_suggests_the_learning_rate():
    losses = [2.0] * 10 + [1.5 if i % 2 else 3.0 for i in range(40)]
    assert "jumps around at the end" in failure(check_loss_decreases, losses)


def test_slow_loss_says_train_longer():
    msg = failure(check_loss_decreases, [2.3 - 0.001 * i for i in range(100)], factor=0.5)
    assert "it is learning, slowly" in msg


def test_window_is_respected():
    losses = [3.0, 1.0, 1.0, 1.0, 1.0, 3.0]
    check_loss_decreases(losses, window=1, factor=1.0)
    with pytest.raises(CheckFailed, match="last 3 values"):
        check_loss_decreases(losses, window=3)


def test_nan_loss_says_when():
    msg = failure(check_loss_decreases, [2.0, 1.5, float("nan"), 1.0])
    assert msg.startswith("the loss became nan at index 2 (value 3 of 4).")
    assert "learning rate too high" in msg


def test_too_few_and_unreduced_losses():
    assert "at least 2 are needed" in failure(check_loss_decreases, [1.0])
    msg = failure(check_loss_decreases, [torch.ones(3), torch.ones(3)])
    assert "should be one number, but one has shape (3,)" in msg and "not reduced" in msg


# check_accuracy


def classifier(correct: bool = True) -> nn.Module:
    """A linear classifier of 3 classes on 2-d points: class = which third of the angle."""
    model = nn.Linear(2, 3)
    with torch.no_grad():
        angles = torch.tensor([0.0, 2 * math.pi / 3, 4 * math.pi / 3])
        model.weight.copy_(torch.stack([angles.cos(), angles.sin()], dim=1))
        model.bias.zero_()
        if not correct:
            model.weight.zero_()
            model.bias.copy_(torch.tensor([0.0, 1.0, 0.0]))
    return model


def points(n=300, seed=0):
    gen = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=gen)
    angles = y * 2 * math.pi / 3 + 0.3 * torch.randn(n, generator=gen)
    return torch.stack([angles.cos(), angles.sin()], dim=1), y


def test_accuracy_of_a_module_passes_and_restores_its_mode():
    x, y = points()
    model = classifier().train()
    accuracy = check_accuracy(model, x, y, threshold=0.95)
    assert 0.95 <= accuracy <= 1.0
    assert model.training  # put back in training mode


def test_accuracy_from_functions_labels_probabilities_and_numpy():
    x, y = points()
    model = classifier()
    check_accuracy(lambda x: model(x).argmax(1), x, y, threshold=0.95)  # labels
    check_accuracy(lambda x: model(x).softmax(1), x.numpy(), y.numpy(), threshold=0.95)
    check_accuracy(model, x, y, threshold=0.95, batch_size=64)
    binary = (y == 1).long()
    scores = model(x)[:, 1] - model(x)[:, [0, 2]].max(1).values  # logits of "class 1"
    check_accuracy(lambda _: scores, x, binary, threshold=0.95)
    check_accuracy(lambda _: scores.sigmoid().unsqueeze(1), x, binary, threshold=0.95)


def test_accuracy_from_outputs_computed_already():
    x, y = points()
    model = classifier()
    with torch.no_grad():
        check_accuracy(model(x), None, y, threshold=0.95)
        msg = failure(
            check_accuracy, classifier(correct=False)(x), None, y, 0.9, hint="train longer"
        )
    assert msg.endswith("likely cause: train longer")
    assert "should be a tensor, but it is a object" in failure(
        check_accuracy, object(), None, y, 0.9
    )


def test_accuracy_of_a_float32_model_on_float64_data():
    x, y = points()
    check_accuracy(classifier(), x.double(), y, threshold=0.95)


def test_one_class_for_everything():
    x, y = points()
    msg = failure(check_accuracy, classifier(correct=False), x, y, threshold=0.9)
    assert msg.startswith("held-out accuracy is 0.3")
    assert "right), but at least 0.900 was required." in msg
    assert "predicts class 1 for every example" in msg


def test_chance_level_and_partial_learning():
    x, y = points()
    gen = torch.Generator().manual_seed(1)
    shuffled = y[torch.randperm(len(y), generator=gen)]
    msg = failure(check_accuracy, classifier(), x, shuffled, threshold=0.9, name="test accuracy")
    assert msg.startswith("test accuracy is 0.")
    assert "at chance level" in msg and "aligned" in msg
    half = y.clone()
    half[::3] = (half[::3] + 1) % 3
    assert "learned something, not enough" in failure(check_accuracy, classifier(), x, half, 0.9)


def test_wrong_number_of_predictions():
    x, y = points()
    msg = failure(check_accuracy, lambda x: torch.zeros(len(x) + 1, dtype=torch.long), x, y, 0.5)
    assert "gives 301 predictions for 300 labels" in msg
    msg = failure(check_accuracy, lambda x: torch.zeros(len(x) * 2), x, y, 0.5)
    assert "outputs of shape (600,) for 300 examples" in msg


# time_budget and train_within


def test_work_within_budget_passes_and_reports_time():
    with time_budget(5.0, what="training") as budget:
        assert budget.remaining <= 5.0
    assert 0 <= budget.elapsed < 5.0
    assert train_within(lambda a, b=0: a + b, 5.0, 1, b=2) == 3


def test_over_budget_fails_after_the_work(monkeypatch):
    readings = [100.0, 175.3]  # the start, then every later reading
    monkeypatch.setattr(
        training_module.time,
        "perf_counter",
        lambda: readings.pop(0) if len(readings) > 1 else readings[0],
    )
    done = []
    with pytest.raises(CheckFailed) as info:
        with time_budget(60, what="training the MLP"):
            done.append(True)  # the work is never interrupted
    assert done == [True]
    msg = str(info.value)
    assert msg.startswith("training the MLP took 75.3 s, more than its budget of 60 s (26% over).")
    assert "likely cause: a Python loop over single examples" in msg


def test_over_budget_for_real():
    with pytest.raises(CheckFailed, match="took 0.0"):
        train_within(time.sleep, 0.001, 0.02)


def test_an_error_inside_the_budget_goes_through_unchanged():
    with pytest.raises(ZeroDivisionError):
        with time_budget(0.0):
            1 / 0  # noqa: B018


@cuda
def test_training_checks_on_cuda():
    x, y = points()
    check_accuracy(classifier().cuda(), x, y, threshold=0.95)
    check_accuracy(classifier().cuda(), x.cuda(), y.cuda(), threshold=0.95)
    check_loss_decreases([torch.tensor(v, device="cuda") for v in noisy_decay(50)])
    with time_budget(5.0):
        torch.ones(10, device="cuda").sum()
