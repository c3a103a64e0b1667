"""Wrong implementations for chapter 08 (GANs): each is a mistake learners make.

The cell mutants are edits of the reference solutions (read from the exercises notebook), so
that each one differs from the reference in exactly the lines of its mistake.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("08_gan")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


D_REAL = "real_terms = F.softplus(-real_logits.flatten())"
D_FAKE = "fake_terms = F.softplus(fake_logits.flatten())"
D_MEAN = "return torch.cat([real_terms, fake_terms]).mean()"
SAT = "return (-F.softplus(fake_logits)).mean()"
NONSAT = "return F.softplus(-fake_logits).mean()  #"
X_HAT = "x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)"
GRAD = "(grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)"

MUTANTS = [
    # ------------------------------------------------------------ discriminator_loss
    Mutant(
        name="d_loss_log_sigmoid",
        cell="discriminator_loss",
        fails=["hidden_discriminator_loss_stable"],
        code=_edit(
            "discriminator_loss",
            (D_REAL, "real_terms = -torch.log(torch.sigmoid(real_logits.flatten()))"),
            (D_FAKE, "fake_terms = -torch.log(1 - torch.sigmoid(fake_logits.flatten()))"),
        ),
    ),
    Mutant(
        name="d_loss_labels_swapped",
        cell="discriminator_loss",
        fails=["test_discriminator_loss", "hidden_discriminator_loss_labels"],
        code=_edit(
            "discriminator_loss",
            (D_REAL, "real_terms = F.softplus(real_logits.flatten())"),
            (D_FAKE, "fake_terms = F.softplus(-fake_logits.flatten())"),
        ),
    ),
    Mutant(
        name="d_loss_average_of_two_means",
        cell="discriminator_loss",
        fails=["hidden_discriminator_loss_sizes"],
        code=_edit(
            "discriminator_loss", (D_MEAN, "return 0.5 * (real_terms.mean() + fake_terms.mean())")
        ),
    ),
    Mutant(
        name="d_loss_sum_of_two_means",
        cell="discriminator_loss",
        fails=["test_discriminator_loss", "hidden_discriminator_loss_sizes"],
        code=_edit("discriminator_loss", (D_MEAN, "return real_terms.mean() + fake_terms.mean()")),
    ),
    # ------------------------------------------------------------ generator_loss
    Mutant(
        name="g_loss_log_sigmoid",
        cell="generator_loss",
        fails=["hidden_generator_loss_stable"],
        code=_edit(
            "generator_loss",
            (SAT, "return torch.log(1 - torch.sigmoid(fake_logits)).mean()"),
            (NONSAT, "return -torch.log(torch.sigmoid(fake_logits)).mean()  #"),
        ),
    ),
    Mutant(
        name="g_loss_saturating_is_log_d",
        cell="generator_loss",
        fails=["hidden_generator_loss_saturating_gradient"],
        code=_edit("generator_loss", (SAT, "return (-F.softplus(-fake_logits)).mean()")),
    ),
    Mutant(
        name="g_loss_default_saturating",
        cell="generator_loss",
        fails=["test_generator_loss", "hidden_generator_loss_default"],
        code=_edit(
            "generator_loss",
            (
                "def generator_loss(fake_logits, saturating=False):",
                "def generator_loss(fake_logits, saturating=True):",
            ),
        ),
    ),
    # ------------------------------------------------------------ gradient_penalty
    Mutant(
        name="gp_no_create_graph",
        cell="gradient_penalty",
        fails=["test_gradient_penalty", "hidden_gradient_penalty_create_graph"],
        code=_edit(
            "gradient_penalty", (GRAD, "(grad,) = torch.autograd.grad(scores.sum(), x_hat)")
        ),
    ),
    Mutant(
        name="gp_norm_over_dim_1",
        cell="gradient_penalty",
        fails=["hidden_gradient_penalty_images"],
        code=_edit("gradient_penalty", ("grad.flatten(1).norm(dim=1)", "grad.norm(dim=1)")),
    ),
    Mutant(
        name="gp_x_hat_without_requires_grad",
        cell="gradient_penalty",
        fails=["test_gradient_penalty", "hidden_gradient_penalty_generator_sample"],
        code=_edit(
            "gradient_penalty",
            (X_HAT, "x_hat = (eps * real + (1 - eps) * fake).detach()"),
        ),
    ),
    Mutant(
        name="gp_backward_instead_of_autograd_grad",
        cell="gradient_penalty",
        fails=["hidden_gradient_penalty_no_grads"],
        code=_edit(
            "gradient_penalty",
            (GRAD, "scores.sum().backward(create_graph=True)\n    grad = x_hat.grad"),
        ),
    ),
    Mutant(
        name="gp_norm_squared",
        cell="gradient_penalty",
        fails=["test_gradient_penalty", "hidden_gradient_penalty_create_graph"],
        code=_edit("gradient_penalty", ("((norms - 1) ** 2).mean()", "(norms**2).mean()")),
    ),
    # ------------------------------------------------------------ train_gan_step
    Mutant(
        name="step_no_detach_zero_grads_first",
        cell="train_gan_step",
        fails=["hidden_train_gan_step_detach"],
        code=_edit(
            "train_gan_step",
            (
                "    fake = G(z)\n",
                "    opt_D.zero_grad()\n    opt_G.zero_grad()\n    fake = G(z)\n",
            ),
            ("D(fake.detach())", "D(fake)"),
            (
                "    opt_D.zero_grad()\n    d_loss.backward()",
                "    d_loss.backward(retain_graph=True)",
            ),
            ("    opt_G.zero_grad()\n    g_loss.backward()", "    g_loss.backward()"),
        ),
    ),
    Mutant(
        name="step_no_zero_grad_for_D",
        cell="train_gan_step",
        fails=["hidden_train_gan_step_zero_grad"],
        code=_edit("train_gan_step", ("    opt_D.zero_grad()\n", "")),
    ),
    Mutant(
        name="step_saturating_generator",
        cell="train_gan_step",
        fails=["test_train_gan_step", "hidden_train_gan_step_losses"],
        code=_edit(
            "train_gan_step",
            ("generator_loss(D(fake))", "generator_loss(D(fake), saturating=True)"),
        ),
    ),
    # ------------------------------------------------------------ train_ring_gan
    Mutant(
        name="ring_gan_too_few_steps",
        cell="train_ring_gan",
        fails=["test_train_ring_gan", "hidden_train_ring_gan_quality"],
        code=_edit("train_ring_gan", ("range(1000)", "range(60)")),
    ),
]
