"""Wrong implementations for chapter 11 (fine-tuning and efficiency): each is a mistake learners make.

The mutants are edits of the reference solutions (read from the exercises notebook), so each one
differs from the reference in exactly the lines of its mistake; an edit that no longer matches
the reference fails loudly at import.
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("11_finetuning")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


MUTANTS = [
    # ---------------------------------------------------------------- LoRALinear
    Mutant(
        name="lora_scaled_by_alpha",
        cell="LoRALinear",
        fails=["test_LoRALinear", "hidden_LoRALinear_scaling"],
        code=_edit("LoRALinear", ("self.scaling = alpha / r", "self.scaling = alpha")),
    ),
    Mutant(
        name="lora_B_random_A_zero",
        cell="LoRALinear",
        fails=["hidden_LoRALinear_init"],
        code=_edit(
            "LoRALinear",
            (
                "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))",
                "nn.init.zeros_(self.lora_A)",
            ),
            (
                "torch.zeros(base.out_features, r,",
                "torch.randn(base.out_features, r,",
            ),
        ),
    ),
    Mutant(
        name="lora_both_zero",
        cell="LoRALinear",
        fails=["hidden_LoRALinear_init"],
        code=_edit(
            "LoRALinear",
            (
                "nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))",
                "nn.init.zeros_(self.lora_A)",
            ),
        ),
    ),
    Mutant(
        name="lora_base_not_frozen",
        cell="LoRALinear",
        fails=["hidden_LoRALinear_frozen"],
        code=_edit(
            "LoRALinear",
            (
                "for p in self.base.parameters():\n            p.requires_grad_(False)\n",
                "",
            ),
        ),
    ),
    Mutant(
        name="lora_merge_without_scaling",
        cell="LoRALinear",
        fails=["hidden_LoRALinear_merge"],
        code=_edit(
            "LoRALinear",
            (
                "merged.weight.copy_(b.weight + self.scaling * self.lora_B @ self.lora_A)",
                "merged.weight.copy_(b.weight + self.lora_B @ self.lora_A)",
            ),
        ),
    ),
    # ---------------------------------------------------------------- quantize_int8
    Mutant(
        name="quantize_round_half_up",
        cell="quantize_int8",
        fails=["test_quantize_int8", "hidden_quantize_int8_half_even"],
        code=_edit(
            "quantize_int8",
            ("q = torch.round(w / safe)", "q = torch.floor(w / safe + 0.5)"),
        ),
    ),
    Mutant(
        name="quantize_divides_by_zero",
        cell="quantize_int8",
        fails=["test_quantize_int8", "hidden_quantize_int8_zero_row"],
        code=_edit(
            "quantize_int8",
            (
                "q = torch.round(w / safe).clamp(-127, 127).to(torch.int8)",
                "q = torch.round(w / scale).clamp(-127, 127)",
            ),
        ),
    ),
    Mutant(
        name="quantize_one_scale_per_matrix",
        cell="quantize_int8",
        fails=["test_quantize_int8", "hidden_quantize_int8_error"],
        code=_edit(
            "quantize_int8",
            (
                "scale = w.abs().amax(dim=1, keepdim=True) / 127  # (out, 1)",
                "scale = (w.abs().max() / 127).expand(w.shape[0], 1)  # (out, 1)",
            ),
        ),
    ),
    # ---------------------------------------------------------------- distillation_loss
    Mutant(
        name="distillation_no_T_squared",
        cell="distillation_loss",
        fails=["test_distillation_loss", "hidden_distillation_loss_T2"],
        code=_edit("distillation_loss", ("alpha * T * T * kl", "alpha * kl")),
    ),
    Mutant(
        name="distillation_mean_over_entries",
        cell="distillation_loss",
        fails=["test_distillation_loss", "hidden_distillation_loss_batchmean"],
        code=_edit(
            "distillation_loss",
            (
                "(log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1).mean()",
                "(log_p_teacher.exp() * (log_p_teacher - log_p_student)).mean()",
            ),
        ),
    ),
    Mutant(
        name="distillation_reversed_kl",
        cell="distillation_loss",
        fails=["test_distillation_loss", "hidden_distillation_loss_batchmean"],
        code=_edit(
            "distillation_loss",
            (
                "(log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(-1).mean()",
                "(log_p_student.exp() * (log_p_student - log_p_teacher)).sum(-1).mean()",
            ),
        ),
    ),
    # ---------------------------------------------------------------- clip_loss
    Mutant(
        name="clip_not_normalised",
        cell="clip_loss",
        fails=["test_clip_loss", "hidden_clip_loss_normalised"],
        code=_edit(
            "clip_loss",
            ("image = image_emb / image_emb.norm(dim=-1, keepdim=True)", "image = image_emb"),
            ("text = text_emb / text_emb.norm(dim=-1, keepdim=True)", "text = text_emb"),
        ),
    ),
    Mutant(
        name="clip_one_direction",
        cell="clip_loss",
        fails=["test_clip_loss", "hidden_clip_loss_symmetric"],
        code=_edit(
            "clip_loss",
            (
                "(F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2",
                "F.cross_entropy(logits, labels)",
            ),
        ),
    ),
    # ---------------------------------------------------------------- sequence_logprob
    Mutant(
        name="seqlogprob_no_shift",
        cell="sequence_logprob",
        fails=["test_sequence_logprob", "hidden_sequence_logprob_shift"],
        code=_edit(
            "sequence_logprob",
            ("logits[:, :-1]", "logits[:, 1:]"),
        ),
    ),
    Mutant(
        name="seqlogprob_mask_ignored",
        cell="sequence_logprob",
        fails=[
            "test_sequence_logprob",
            "hidden_sequence_logprob_shift",
            "hidden_sequence_logprob_mask",
        ],
        code=_edit(
            "sequence_logprob",
            ("return (picked * mask[:, 1:].to(picked.dtype)).sum(-1)", "return picked.sum(-1)"),
        ),
    ),
    Mutant(
        name="seqlogprob_masked_mean",
        cell="sequence_logprob",
        fails=[
            "test_sequence_logprob",
            "hidden_sequence_logprob_shift",
            "hidden_sequence_logprob_mask",
        ],
        code=_edit(
            "sequence_logprob",
            (
                "return (picked * mask[:, 1:].to(picked.dtype)).sum(-1)",
                "m = mask[:, 1:].to(picked.dtype)\n    return (picked * m).sum(-1) / m.sum(-1)",
            ),
        ),
    ),
    # ---------------------------------------------------------------- dpo_loss
    Mutant(
        name="dpo_log_of_sigmoid",
        cell="dpo_loss",
        fails=["hidden_dpo_loss_stable"],
        code=_edit(
            "dpo_loss",
            (
                "loss = -F.logsigmoid(chosen - rejected).mean()",
                "loss = -torch.log(torch.sigmoid(chosen - rejected)).mean()",
            ),
        ),
    ),
    Mutant(
        name="dpo_rewards_not_detached",
        cell="dpo_loss",
        fails=["hidden_dpo_loss_detached"],
        code=_edit(
            "dpo_loss",
            ("return loss, chosen.detach(), rejected.detach()", "return loss, chosen, rejected"),
        ),
    ),
]
