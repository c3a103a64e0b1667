"""Wrong implementations for chapter 10 (a LLaMA-style language model), as edits of the reference."""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCE = reference_solutions("10_llm")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCE, grade_id, *edits)


MUTANTS = [
    Mutant(
        name="rmsnorm_in_input_dtype",
        cell="RMSNorm",
        fails=["hidden_RMSNorm_float16"],
        code=_edit("RMSNorm", ("torch.promote_types(x.dtype, torch.float32)", "x.dtype")),
    ),
    Mutant(
        name="rmsnorm_eps_outside_sqrt",
        cell="RMSNorm",
        fails=["hidden_RMSNorm_no_mean"],
        code=_edit(
            "RMSNorm",
            (
                "torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + self.eps)",
                "1 / (xf.pow(2).mean(dim=-1, keepdim=True).sqrt() + self.eps)",
            ),
        ),
    ),
    Mutant(
        name="rope_half_split",
        cell="apply_rope",
        fails=["test_apply_rope", "hidden_apply_rope_pairs_and_freqs"],
        code=_edit(
            "apply_rope",
            ("x0, x1 = x[..., 0::2], x[..., 1::2]", "x0, x1 = x[..., : d // 2], x[..., d // 2 :]"),
            ("], dim=-1).flatten(-2)", "], dim=-1).transpose(-1, -2).flatten(-2)"),
        ),
    ),
    Mutant(
        name="rope_exponent_i_over_d",
        cell="apply_rope",
        fails=["hidden_apply_rope_pairs_and_freqs"],
        code=_edit("apply_rope", ("theta ** (-2 * i / d)", "theta ** (-i / d)")),
    ),
    Mutant(
        name="rope_ignores_positions",
        cell="apply_rope",
        fails=["hidden_apply_rope_positions"],
        code=_edit(
            "apply_rope",
            (
                "positions.to(torch.float64).unsqueeze(-1)",
                "torch.arange(x.shape[-2], dtype=torch.float64, device=x.device).unsqueeze(-1)",
            ),
        ),
    ),
    Mutant(
        name="swiglu_silu_on_w3",
        cell="SwiGLU",
        fails=["hidden_SwiGLU_gate_branch"],
        code=_edit(
            "SwiGLU",
            (
                "self.w2(F.silu(self.w1(x)) * self.w3(x))",
                "self.w2(self.w1(x) * F.silu(self.w3(x)))",
            ),
        ),
    ),
    Mutant(
        name="attention_scale_by_head_dim",
        cell="CausalSelfAttention",
        fails=["hidden_CausalSelfAttention_scale_heads"],
        code=_edit("CausalSelfAttention", ("/ math.sqrt(hd)", "/ hd")),
    ),
    Mutant(
        name="attention_rope_on_v",
        cell="CausalSelfAttention",
        fails=["hidden_CausalSelfAttention_rope"],
        code=_edit(
            "CausalSelfAttention",
            (
                "k = apply_rope(k, pos, self.rope_theta)",
                "k = apply_rope(k, pos, self.rope_theta)\n            v = apply_rope(v, pos, self.rope_theta)",
            ),
        ),
    ),
    Mutant(
        name="attention_top_left_mask_with_cache",
        cell="CausalSelfAttention",
        fails=["hidden_CausalSelfAttention_cache"],
        code=_edit(
            "CausalSelfAttention",
            (
                "query_index = torch.arange(past, past + T, device=x.device)",
                "query_index = torch.arange(T, device=x.device)",
            ),
        ),
    ),
    Mutant(
        name="attention_calls_sdpa",
        cell="CausalSelfAttention",
        fails=["hidden_CausalSelfAttention_from_scratch"],
        code=_edit(
            "CausalSelfAttention",
            (
                "out = (att @ v).transpose(-3, -2).flatten(-2)",
                "out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed).transpose(-3, -2).flatten(-2)",
            ),
        ),
    ),
    Mutant(
        name="block_post_norm",
        cell="TransformerBlock",
        fails=[
            "hidden_TransformerBlock_pre_norm",
            "hidden_TransformerLM_llama_weights",
            "test_TransformerLM",
        ],
        code=_edit(
            "TransformerBlock",
            (
                "x = x + self.attention(self.attention_norm(x), positions, cache)\n"
                "        return x + self.feed_forward(self.ffn_norm(x))",
                "x = self.attention_norm(x + self.attention(x, positions, cache))\n"
                "        return self.ffn_norm(x + self.feed_forward(x))",
            ),
        ),
    ),
    Mutant(
        name="lm_ignores_rope_theta",
        cell="TransformerLM",
        fails=["hidden_TransformerLM_llama_weights"],
        code=_edit(
            "TransformerLM",
            (
                "TransformerBlock(d_model, num_heads, d_ff, rope_theta)",
                "TransformerBlock(d_model, num_heads, d_ff)",
            ),
        ),
    ),
    Mutant(
        name="adamw_l2_coupled",
        cell="AdamW",
        fails=["hidden_AdamW_decoupled_and_bias_correction"],
        code=_edit(
            "AdamW",
            ("p.mul_(1 - lr * wd)  # decoupled weight decay", "p.grad.add_(p, alpha=wd)"),
        ),
    ),
    Mutant(
        name="adamw_no_bias_correction",
        cell="AdamW",
        fails=["hidden_AdamW_decoupled_and_bias_correction"],
        code=_edit(
            "AdamW",
            ("(v.sqrt() / math.sqrt(1 - beta2**t))", "v.sqrt()"),
            ("value=-lr / (1 - beta1**t)", "value=-lr"),
        ),
    ),
    Mutant(
        name="adamw_ignores_groups",
        cell="AdamW",
        fails=["hidden_AdamW_param_groups"],
        code=_edit(
            "AdamW",
            (
                'eps, wd = group["eps"], group["weight_decay"]',
                'eps, wd = group["eps"], self.defaults["weight_decay"]',
            ),
        ),
    ),
    Mutant(
        name="adamw_delegates_to_torch",
        cell="AdamW",
        fails=["hidden_AdamW_from_scratch"],
        code="""
class AdamW(torch.optim.AdamW):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
""",
    ),
    Mutant(
        name="cosine_over_whole_cycle",
        cell="cosine_lr",
        fails=["hidden_cosine_lr_ends"],
        code=_edit(
            "cosine_lr",
            (
                "frac = (it - warmup_iters) / (cosine_cycle_iters - warmup_iters)",
                "frac = it / cosine_cycle_iters",
            ),
        ),
    ),
    Mutant(
        name="get_batch_misses_last_start",
        cell="get_batch",
        fails=["hidden_get_batch_every_start"],
        code=_edit(
            "get_batch",
            (
                "torch.randint(len(data) - context_length, ",
                "torch.randint(len(data) - context_length - 1, ",
            ),
        ),
    ),
    Mutant(
        name="top_p_drops_crossing_token",
        cell="top_k_top_p_filter",
        fails=["hidden_top_p_crossing_and_at_least_one"],
        code=_edit(
            "top_k_top_p_filter",
            ("drop_sorted = mass_before >= top_p", "drop_sorted = probs.cumsum(dim=-1) > top_p"),
            ("drop_sorted[..., 0] = False  # always keep the most probable token\n", ""),
        ),
    ),
    Mutant(
        name="generate_without_cache",
        cell="generate",
        fails=["hidden_generate_uses_cache"],
        code=_edit(
            "generate",
            ("out, new, past = ids, ids, 0", "out = ids"),
            (
                "for _ in range(max_new_tokens):\n",
                "for _ in range(max_new_tokens):\n        caches, new, past = [KVCache() for _ in model.layers], out, 0\n",
            ),
        ),
    ),
    Mutant(
        name="generate_multiplies_by_temperature",
        cell="generate",
        fails=["hidden_generate_temperature"],
        code=_edit("generate", ("logits / temperature", "logits * temperature")),
    ),
    Mutant(
        name="power_law_through_end_points",
        cell="fit_power_law",
        fails=["hidden_fit_power_law_noisy"],
        code="""
def fit_power_law(N, L):
    N, L = list(N), list(L)
    alpha = -math.log(L[-1] / L[0]) / math.log(N[-1] / N[0])
    return float(L[0] * N[0] ** alpha), float(alpha)
""",
    ),
]

TRAIN_STEP = "        optimizer.zero_grad()\n        loss.backward()\n"

MUTANTS += [
    # ---------------------------------------------------------------- train_lm
    Mutant(
        name="train_lm_no_zero_grad",
        cell="train_lm",
        fails=["test_train_lm"],
        code=_edit("train_lm", (TRAIN_STEP, "        loss.backward()\n")),
    ),
    Mutant(
        name="train_lm_targets_not_shifted",
        cell="train_lm",
        fails=["test_train_lm"],
        code=_edit(
            "train_lm",
            (
                "loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())",
                "loss = F.cross_entropy(logits.flatten(0, 1), x.flatten())",
            ),
        ),
    ),
]
