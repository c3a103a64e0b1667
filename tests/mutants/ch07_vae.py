"""Wrong implementations for chapter 07 (variational autoencoders): each is a mistake learners make.

The mutants are edits of the reference solutions (read from the exercises notebook), so that each
one differs from the reference in exactly the lines of its mistake; an edit that no longer
matches the reference fails loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("07_vae")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


REPARAM = "return mu + torch.exp(0.5 * logvar) * eps"
KL = "return 0.5 * (mu**2 + torch.exp(logvar) - logvar - 1).sum(dim=-1)"
REC = 'rec = F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(dim=-1)  # (B,)'
ELBO_RETURN = "return (rec + beta * gaussian_kl(mu, logvar)).mean()"
IWAE_RETURN = "return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])"

MUTANTS = [
    # ---------------------------------------------------------------- reparameterize
    Mutant(
        name="reparameterize_std_is_exp_logvar",
        cell="reparameterize",
        fails=["test_reparameterize", "hidden_reparameterize_std", "hidden_reparameterize_noise"],
        code=_edit("reparameterize", (REPARAM, "return mu + torch.exp(logvar) * eps")),
    ),
    Mutant(
        name="reparameterize_torch_normal",
        cell="reparameterize",
        fails=["hidden_reparameterize_gradients"],
        code=_edit(
            "reparameterize",
            (
                "        eps = torch.randn_like(mu)\n",
                "        return torch.normal(mu, torch.exp(0.5 * logvar))\n",
            ),
        ),
    ),
    Mutant(
        name="reparameterize_uniform_noise",
        cell="reparameterize",
        fails=["hidden_reparameterize_noise"],
        code=_edit("reparameterize", ("torch.randn_like(mu)", "torch.rand_like(mu)")),
    ),
    Mutant(
        name="reparameterize_no_noise_when_none",
        cell="reparameterize",
        fails=["hidden_reparameterize_noise"],
        code=_edit("reparameterize", ("torch.randn_like(mu)", "torch.zeros_like(mu)")),
    ),
    # ---------------------------------------------------------------- gaussian_kl
    Mutant(
        name="gaussian_kl_negated",
        cell="gaussian_kl",
        fails=["test_gaussian_kl", "hidden_gaussian_kl_sign"],
        code=_edit(
            "gaussian_kl",
            (KL, "return -0.5 * (mu**2 + torch.exp(logvar) - logvar - 1).sum(dim=-1)"),
        ),
    ),
    Mutant(
        name="gaussian_kl_mean_over_dims",
        cell="gaussian_kl",
        fails=["test_gaussian_kl", "hidden_gaussian_kl_sum"],
        code=_edit("gaussian_kl", (".sum(dim=-1)", ".mean(dim=-1)")),
    ),
    Mutant(
        name="gaussian_kl_sum_over_batch",
        cell="gaussian_kl",
        fails=["test_gaussian_kl", "hidden_gaussian_kl_sum"],
        code=_edit("gaussian_kl", (".sum(dim=-1)", ".sum()")),
    ),
    Mutant(
        name="gaussian_kl_via_std",
        cell="gaussian_kl",
        fails=["hidden_gaussian_kl_tiny_variance"],
        code=_edit(
            "gaussian_kl",
            (
                KL,
                "std = torch.exp(0.5 * logvar)\n"
                "    return 0.5 * (mu**2 + std**2 - torch.log(std**2) - 1).sum(dim=-1)",
            ),
        ),
    ),
    # ---------------------------------------------------------------- elbo_loss
    Mutant(
        name="elbo_loss_mean_over_pixels",
        cell="elbo_loss",
        fails=["test_elbo_loss", "hidden_elbo_loss_sum_pixels"],
        code=_edit("elbo_loss", (".sum(dim=-1)  # (B,)", ".mean(dim=-1)  # (B,)")),
    ),
    Mutant(
        name="elbo_loss_log_sigmoid",
        cell="elbo_loss",
        fails=["hidden_elbo_loss_stable"],
        code=_edit(
            "elbo_loss",
            (
                REC,
                "p = torch.sigmoid(x_logits)\n"
                "    rec = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(dim=-1)",
            ),
        ),
    ),
    Mutant(
        name="elbo_loss_bce_on_probabilities",
        cell="elbo_loss",
        fails=["hidden_elbo_loss_stable"],
        code=_edit(
            "elbo_loss",
            (
                REC,
                'rec = F.binary_cross_entropy(torch.sigmoid(x_logits), x, reduction="none").sum(dim=-1)',
            ),
        ),
    ),
    Mutant(
        name="elbo_loss_sigmoid_twice",
        cell="elbo_loss",
        fails=["test_elbo_loss", "hidden_elbo_loss_logits"],
        code=_edit(
            "elbo_loss",
            (
                "binary_cross_entropy_with_logits(x_logits,",
                "binary_cross_entropy_with_logits(torch.sigmoid(x_logits),",
            ),
        ),
    ),
    Mutant(
        name="elbo_loss_beta_on_reconstruction",
        cell="elbo_loss",
        fails=["hidden_elbo_loss_beta"],
        code=_edit(
            "elbo_loss", (ELBO_RETURN, "return (beta * rec + gaussian_kl(mu, logvar)).mean()")
        ),
    ),
    Mutant(
        name="elbo_loss_minus_kl",
        cell="elbo_loss",
        fails=["test_elbo_loss", "hidden_elbo_loss_beta"],
        code=_edit(
            "elbo_loss", (ELBO_RETURN, "return (rec - beta * gaussian_kl(mu, logvar)).mean()")
        ),
    ),
    Mutant(
        name="elbo_loss_sum_over_batch",
        cell="elbo_loss",
        fails=["test_elbo_loss", "hidden_elbo_loss_batch_mean"],
        code=_edit(
            "elbo_loss", (ELBO_RETURN, "return (rec + beta * gaussian_kl(mu, logvar)).sum()")
        ),
    ),
    # ---------------------------------------------------------------- iwae_bound
    Mutant(
        name="iwae_bound_naive_exp",
        cell="iwae_bound",
        fails=["hidden_iwae_bound_stable"],
        code=_edit("iwae_bound", (IWAE_RETURN, "return torch.log(torch.exp(log_w).mean(dim=0))")),
    ),
    Mutant(
        name="iwae_bound_no_log_k",
        cell="iwae_bound",
        fails=["test_iwae_bound", "hidden_iwae_bound_mean"],
        code=_edit("iwae_bound", (IWAE_RETURN, "return torch.logsumexp(log_w, dim=0)")),
    ),
    Mutant(
        name="iwae_bound_mean_of_logs",
        cell="iwae_bound",
        fails=["test_iwae_bound", "hidden_iwae_bound_mean"],
        code=_edit("iwae_bound", (IWAE_RETURN, "return log_w.mean(dim=0)")),
    ),
    Mutant(
        name="iwae_bound_wrong_axis",
        cell="iwae_bound",
        fails=["test_iwae_bound", "hidden_iwae_bound_axis"],
        code=_edit(
            "iwae_bound",
            (IWAE_RETURN, "return torch.logsumexp(log_w, dim=-1) - math.log(log_w.shape[-1])"),
        ),
    ),
    Mutant(
        name="iwae_bound_plus_log_q",
        cell="iwae_bound",
        fails=["test_iwae_bound", "hidden_iwae_bound_signs"],
        code=_edit(
            "iwae_bound",
            (
                "log_w = log_px_given_z + log_pz - log_qz_given_x",
                "log_w = log_px_given_z + log_pz + log_qz_given_x",
            ),
        ),
    ),
    # ---------------------------------------------------------------- VAE
    Mutant(
        name="vae_decodes_mu",
        cell="VAE",
        fails=["hidden_VAE_samples"],
        code=_edit(
            "VAE",
            ("z = reparameterize(mu, logvar)  # (B, latent_dim)", "z = mu  # (B, latent_dim)"),
        ),
    ),
    Mutant(
        name="vae_sigmoid_in_decoder",
        cell="VAE",
        fails=["hidden_VAE_logits", "test_train_vae"],
        code=_edit(
            "VAE",
            (
                "return self.decoder(z)  # (B, input_dim): logits",
                "return torch.sigmoid(self.decoder(z))",
            ),
        ),
    ),
    Mutant(
        name="vae_softplus_logvar",
        cell="VAE",
        fails=["hidden_VAE_logvar"],
        code=_edit("VAE", ("self.to_logvar(h)", "F.softplus(self.to_logvar(h))")),
    ),
    Mutant(
        name="vae_one_head",
        cell="VAE",
        fails=["hidden_VAE_logvar"],
        code=_edit(
            "VAE",
            ("return self.to_mu(h), self.to_logvar(h)", "return self.to_mu(h), self.to_mu(h)"),
        ),
    ),
]

TRAIN_STEP = "            optimizer.zero_grad()\n            loss.backward()\n"

MUTANTS += [
    # ---------------------------------------------------------------- train_vae
    Mutant(
        name="train_vae_no_zero_grad",
        cell="train_vae",
        fails=["test_train_vae"],
        code=_edit("train_vae", (TRAIN_STEP, "            loss.backward()\n")),
    ),
    Mutant(
        name="train_vae_zero_grad_after_backward",
        cell="train_vae",
        fails=["test_train_vae"],
        code=_edit(
            "train_vae",
            (TRAIN_STEP, "            loss.backward()\n            optimizer.zero_grad()\n"),
        ),
    ),
    Mutant(
        name="train_vae_loss_mean_over_pixels",
        cell="train_vae",
        fails=["test_train_vae"],
        code=_edit(
            "train_vae",
            (
                "            loss = elbo_loss(xb, *model(xb))\n",
                "            x_logits, mu, logvar = model(xb)\n"
                "            rec = F.binary_cross_entropy_with_logits(x_logits, xb)  # mean over pixels\n"
                "            loss = rec + gaussian_kl(mu, logvar).mean()\n",
            ),
        ),
    ),
]
