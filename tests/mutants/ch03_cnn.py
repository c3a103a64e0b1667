"""Wrong implementations for chapter 03 (convolutional networks): mistakes learners really make.

Most mutants are edits of the reference solution (read from the exercises notebook), so that
each differs from the reference in exactly the lines of its mistake; an edit that no longer
matches the reference fails loudly at import. The others are whole functions written the way a
learner would (a loop with a running maximum, NumPy loops).
"""

from __future__ import annotations

from tests.mutants import Mutant, edited, reference_solutions

REFERENCES = reference_solutions("03_cnn")


def _edit(grade_id: str, *edits: tuple[str, str]) -> str:
    return edited(REFERENCES, grade_id, *edits)


MUTANTS = [
    # ---------------------------------------------------------------- conv2d
    Mutant(
        name="conv2d_flipped_kernel",
        cell="conv2d",
        fails=["test_conv2d", "hidden_conv2d_cross_correlation"],
        code=_edit(
            "conv2d",
            # a true convolution: the kernel rotated by 180 degrees
            ("weight[:, :, u, v]", "weight[:, :, kh - 1 - u, kw - 1 - v]"),
        ),
    ),
    Mutant(
        name="conv2d_stride_pair_first_value_only",
        cell="conv2d",
        fails=["hidden_conv2d_pairs"],
        code=_edit(
            "conv2d",
            (
                "sh, sw = (stride, stride) if isinstance(stride, int) else stride",
                "sh = sw = stride if isinstance(stride, int) else stride[0]",
            ),
        ),
    ),
    Mutant(
        name="conv2d_padding_pair_first_value_only",
        cell="conv2d",
        fails=["hidden_conv2d_pairs"],
        code=_edit(
            "conv2d",
            (
                "ph, pw = (padding, padding) if isinstance(padding, int) else padding",
                "ph = pw = padding if isinstance(padding, int) else padding[0]",
            ),
        ),
    ),
    Mutant(
        name="conv2d_pad_axes_swapped",
        cell="conv2d",
        fails=["hidden_conv2d_pairs"],
        # F.pad's pairs start with the last axis; this pads the rows by pw and the columns by ph
        code=_edit("conv2d", ("F.pad(x, (pw, pw, ph, ph))", "F.pad(x, (ph, ph, pw, pw))")),
    ),
    Mutant(
        name="conv2d_bias_ignored",
        cell="conv2d",
        fails=["hidden_conv2d_bias"],
        code=_edit(
            "conv2d",
            ("out = out + bias.view(1, -1, 1, 1)", "pass"),
        ),
    ),
    Mutant(
        name="conv2d_bias_on_last_axis",
        cell="conv2d",
        fails=["hidden_conv2d_bias"],
        # broadcasting adds bias[o] to column o of every channel
        code=_edit("conv2d", ("out = out + bias.view(1, -1, 1, 1)", "out = out + bias")),
    ),
    Mutant(
        name="conv2d_output_size_rounded_up",
        cell="conv2d",
        fails=["hidden_conv2d_output_size"],
        code=_edit(
            "conv2d",
            ("h_out = (h + 2 * ph - kh) // sh + 1", "h_out = -(-(h + 2 * ph - kh) // sh) + 1"),
            ("w_out = (w + 2 * pw - kw) // sw + 1", "w_out = -(-(w + 2 * pw - kw) // sw) + 1"),
        ),
    ),
    Mutant(
        name="conv2d_output_size_without_plus_one",
        cell="conv2d",
        fails=["test_conv2d", "hidden_conv2d_output_size"],
        code=_edit(
            "conv2d",
            ("h_out = (h + 2 * ph - kh) // sh + 1", "h_out = (h + 2 * ph - kh) // sh"),
            ("w_out = (w + 2 * pw - kw) // sw + 1", "w_out = (w + 2 * pw - kw) // sw"),
        ),
    ),
    Mutant(
        name="conv2d_calls_F_conv2d",
        cell="conv2d",
        fails=["hidden_conv2d_from_scratch"],
        code="""
        def conv2d(x, weight, bias=None, stride=1, padding=0):
            return F.conv2d(x, weight, bias, stride=stride, padding=padding)
        """,
    ),
    Mutant(
        name="conv2d_numpy_loops",
        cell="conv2d",
        fails=["hidden_conv2d_gradient"],
        # right values, but computed outside torch: no gradient reaches x, weight or bias
        code="""
        import numpy as np


        def conv2d(x, weight, bias=None, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            xp = np.pad(x.detach().cpu().numpy(), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
            wn = weight.detach().cpu().numpy()
            n, _, h, w = xp.shape
            c_out, _, kh, kw = wn.shape
            h_out, w_out = (h - kh) // sh + 1, (w - kw) // sw + 1
            out = np.zeros((n, c_out, h_out, w_out))
            for i in range(h_out):
                for j in range(w_out):
                    window = xp[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                    out[:, :, i, j] = np.einsum("nchw,ochw->no", window, wn)
            if bias is not None:
                out += bias.detach().cpu().numpy()[None, :, None, None]
            return torch.from_numpy(out).to(dtype=x.dtype, device=x.device)
        """,
    ),
    # ---------------------------------------------------------------- conv2d_backward
    Mutant(
        name="conv2d_backward_full_correlation_without_flip",
        cell="conv2d_backward",
        fails=["test_conv2d_backward", "hidden_conv2d_backward_flip"],
        # the "full convolution" route for grad_x, with the kernel not rotated by 180 degrees
        code="""
        def conv2d_backward(grad_out, x, weight, stride=1, padding=0):
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            ph, pw = (padding, padding) if isinstance(padding, int) else padding
            n, _, h, w = x.shape
            c_out, _, kh, kw = weight.shape
            h_out, w_out = grad_out.shape[2:]
            xp = F.pad(x, (pw, pw, ph, ph))
            grad_weight = torch.zeros_like(weight)
            for u in range(kh):
                for v in range(kw):
                    patch = xp[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
                    grad_weight[:, :, u, v] = torch.einsum("nohw,nchw->oc", grad_out, patch)
            spread = grad_out.new_zeros(n, c_out, sh * (h_out - 1) + 1, sw * (w_out - 1) + 1)
            spread[:, :, ::sh, ::sw] = grad_out  # zeros between the entries: the stride
            full = F.pad(spread, (kw - 1, kw - 1, kh - 1, kh - 1))
            grad_xp = F.conv2d(full, weight.transpose(0, 1))  # should be weight.flip(2, 3)
            missing = (xp.shape[3] - grad_xp.shape[3], xp.shape[2] - grad_xp.shape[2])
            grad_xp = F.pad(grad_xp, (0, missing[0], 0, missing[1]))  # rows no window reached
            return grad_xp[:, :, ph : ph + h, pw : pw + w], grad_weight, grad_out.sum(dim=(0, 2, 3))
        """,
    ),
    Mutant(
        name="conv2d_backward_bias_mean",
        cell="conv2d_backward",
        fails=["test_conv2d_backward", "hidden_conv2d_backward_bias_sum"],
        code=_edit(
            "conv2d_backward",
            ("grad_out.sum(dim=(0, 2, 3))", "grad_out.mean(dim=(0, 2, 3))"),
        ),
    ),
    Mutant(
        name="conv2d_backward_bias_averaged_over_the_batch",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_bias_sum", "hidden_conv2d_backward_batch"],
        # summed over the positions, averaged over the images: right for one image
        code=_edit(
            "conv2d_backward",
            ("grad_out.sum(dim=(0, 2, 3))", "grad_out.sum(dim=(2, 3)).mean(dim=0)"),
        ),
    ),
    Mutant(
        name="conv2d_backward_stride_ignored_in_grad_x",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_stride", "hidden_conv2d_backward_no_autograd"],
        # the gradient scattered into consecutive positions, as if the stride were 1
        code=_edit(
            "conv2d_backward",
            (
                "grad_xp[:, :, rows, cols] += ",
                "grad_xp[:, :, u : u + h_out, v : v + w_out] += ",
            ),
        ),
    ),
    Mutant(
        name="conv2d_backward_stride_ignored_in_grad_weight",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_stride", "hidden_conv2d_backward_no_autograd"],
        code=_edit(
            "conv2d_backward",
            (
                'torch.einsum("nohw,nchw->oc", grad_out, xp[:, :, rows, cols])',
                'torch.einsum("nohw,nchw->oc", grad_out, xp[:, :, u : u + h_out, v : v + w_out])',
            ),
        ),
    ),
    Mutant(
        name="conv2d_backward_padding_not_cropped",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_padding", "hidden_conv2d_backward_no_autograd"],
        # returns the gradient of the padded input, of shape (N, C_in, H + 2ph, W + 2pw)
        code=_edit(
            "conv2d_backward",
            ("grad_x = grad_xp[:, :, ph : ph + h, pw : pw + w]", "grad_x = grad_xp"),
        ),
    ),
    Mutant(
        name="conv2d_backward_padding_cropped_at_the_end",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_padding", "hidden_conv2d_backward_no_autograd"],
        # the right shape, but the first rows and columns kept instead of the middle
        code=_edit(
            "conv2d_backward",
            ("grad_x = grad_xp[:, :, ph : ph + h, pw : pw + w]", "grad_x = grad_xp[:, :, :h, :w]"),
        ),
    ),
    Mutant(
        name="conv2d_backward_weight_mean_over_the_batch",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_batch"],
        code=_edit(
            "conv2d_backward",
            (
                'torch.einsum("nohw,nchw->oc", grad_out, xp[:, :, rows, cols])',
                'torch.einsum("nohw,nchw->oc", grad_out, xp[:, :, rows, cols]) / x.shape[0]',
            ),
        ),
    ),
    Mutant(
        name="conv2d_backward_grad_x_summed_over_the_batch",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_batch"],
        # every image gets the gradient of the whole batch
        code=_edit(
            "conv2d_backward",
            (
                'torch.einsum("nohw,oc->nchw", grad_out, weight[:, :, u, v])',
                'torch.einsum("nohw,oc->chw", grad_out, weight[:, :, u, v])',
            ),
        ),
    ),
    Mutant(
        name="conv2d_backward_pair_first_value_only",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_pairs"],
        code=_edit(
            "conv2d_backward",
            (
                "sh, sw = (stride, stride) if isinstance(stride, int) else stride",
                "sh = sw = stride if isinstance(stride, int) else stride[0]",
            ),
            (
                "ph, pw = (padding, padding) if isinstance(padding, int) else padding",
                "ph = pw = padding if isinstance(padding, int) else padding[0]",
            ),
        ),
    ),
    Mutant(
        name="conv2d_backward_autograd",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_no_autograd"],
        code="""
        def conv2d_backward(grad_out, x, weight, stride=1, padding=0):
            x = x.detach().requires_grad_(True)
            weight = weight.detach().requires_grad_(True)
            bias = torch.zeros(weight.shape[0], dtype=x.dtype, device=x.device, requires_grad=True)
            y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
            return torch.autograd.grad(y, (x, weight, bias), grad_out)
        """,
    ),
    Mutant(
        name="conv2d_backward_tensor_backward",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_no_autograd"],
        code="""
        def conv2d_backward(grad_out, x, weight, stride=1, padding=0):
            x = x.detach().requires_grad_(True)
            weight = weight.detach().requires_grad_(True)
            bias = torch.zeros(weight.shape[0], dtype=x.dtype, device=x.device, requires_grad=True)
            F.conv2d(x, weight, bias, stride=stride, padding=padding).backward(grad_out)
            return x.grad, weight.grad, bias.grad
        """,
    ),
    Mutant(
        name="conv2d_backward_nn_grad",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_no_autograd"],
        code="""
        def conv2d_backward(grad_out, x, weight, stride=1, padding=0):
            grad_x = torch.nn.grad.conv2d_input(x.shape, weight, grad_out, stride, padding)
            grad_weight = torch.nn.grad.conv2d_weight(x, weight.shape, grad_out, stride, padding)
            return grad_x, grad_weight, grad_out.sum(dim=(0, 2, 3))
        """,
    ),
    Mutant(
        name="conv2d_backward_conv_transpose2d",
        cell="conv2d_backward",
        fails=["hidden_conv2d_backward_no_autograd"],
        # the input gradient is a transposed convolution: right values, the forbidden function
        code=_edit(
            "conv2d_backward",
            (
                "    grad_x = grad_xp[:, :, ph : ph + h, pw : pw + w]",
                "    extra = (h + 2 * ph - kh - sh * (h_out - 1), w + 2 * pw - kw - sw * (w_out - 1))\n"
                "    grad_x = F.conv_transpose2d(\n"
                "        grad_out, weight, stride=(sh, sw), padding=(ph, pw), output_padding=extra\n"
                "    )",
            ),
        ),
    ),
    # ---------------------------------------------------------------- max_pool2d
    Mutant(
        name="max_pool2d_stride_defaults_to_one",
        cell="max_pool2d",
        fails=["hidden_max_pool2d_default_stride"],
        code=_edit("max_pool2d", ("sh, sw = kh, kw", "sh, sw = 1, 1")),
    ),
    Mutant(
        name="max_pool2d_mean",
        cell="max_pool2d",
        fails=["hidden_max_pool2d_max"],
        code=_edit("max_pool2d", ("windows.amax(dim=(-2, -1))", "windows.mean(dim=(-2, -1))")),
    ),
    Mutant(
        name="max_pool2d_running_max_from_zero",
        cell="max_pool2d",
        fails=["hidden_max_pool2d_negative"],
        code="""
        def max_pool2d(x, kernel_size, stride=None):
            kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
            if stride is None:
                stride = (kh, kw)
            sh, sw = (stride, stride) if isinstance(stride, int) else stride
            n, c, h, w = x.shape
            h_out, w_out = (h - kh) // sh + 1, (w - kw) // sw + 1
            out = torch.zeros(n, c, h_out, w_out, dtype=x.dtype, device=x.device)
            for u in range(kh):
                for v in range(kw):
                    window = x[:, :, u : u + sh * (h_out - 1) + 1 : sh, v : v + sw * (w_out - 1) + 1 : sw]
                    out = torch.maximum(out, window)  # starts from 0, not from the window
            return out
        """,
    ),
    Mutant(
        name="max_pool2d_size_from_last_axis",
        cell="max_pool2d",
        fails=["hidden_max_pool2d_non_square"],
        code="""
        def max_pool2d(x, kernel_size, stride=None):
            k = kernel_size if isinstance(kernel_size, int) else kernel_size[0]
            s = k if stride is None else (stride if isinstance(stride, int) else stride[0])
            size = (x.shape[-1] - k) // s + 1  # one output size for both axes
            out = torch.empty(*x.shape[:2], size, size, dtype=x.dtype, device=x.device)
            for i in range(size):
                for j in range(size):
                    out[:, :, i, j] = x[:, :, i * s : i * s + k, j * s : j * s + k].amax(dim=(-2, -1))
            return out
        """,
    ),
    Mutant(
        name="max_pool2d_pair_axes_swapped",
        cell="max_pool2d",
        fails=["hidden_max_pool2d_non_square"],
        code=_edit(
            "max_pool2d",
            ("x.unfold(2, kh, sh).unfold(3, kw, sw)", "x.unfold(2, kw, sw).unfold(3, kh, sh)"),
        ),
    ),
    Mutant(
        name="max_pool2d_calls_F_max_pool2d",
        cell="max_pool2d",
        fails=["hidden_max_pool2d_from_scratch"],
        code="""
        def max_pool2d(x, kernel_size, stride=None):
            return F.max_pool2d(x, kernel_size, stride)
        """,
    ),
    # ---------------------------------------------------------------- batch_norm
    Mutant(
        name="batch_norm_statistics_over_batch_axis_only",
        cell="batch_norm",
        fails=["hidden_batch_norm_4d"],
        # right for (N, C); for (N, C, H, W) it normalizes each (c, h, w) position on its own
        code="""
        def batch_norm(
            x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
        ):
            shape = [1, -1] + [1] * (x.dim() - 2)
            if training:
                mean = x.mean(dim=0, keepdim=True)  # (1, C, H, W)
                var = x.var(dim=0, keepdim=True, correction=0)  # (1, C, H, W)
                n = x.shape[0]
                with torch.no_grad():
                    dims = [0, *range(2, x.dim())]
                    running_mean.mul_(1 - momentum).add_(momentum * mean.mean(dim=dims))
                    running_var.mul_(1 - momentum).add_(momentum * var.mean(dim=dims) * n / (n - 1))
                y = (x - mean) / torch.sqrt(var + eps)
            else:
                y = (x - running_mean.view(shape)) / torch.sqrt(running_var.view(shape) + eps)
            if weight is not None:
                y = y * weight.view(shape)
            if bias is not None:
                y = y + bias.view(shape)
            return y
        """,
    ),
    Mutant(
        name="batch_norm_running_var_biased",
        cell="batch_norm",
        fails=["hidden_batch_norm_running_var_unbiased"],
        code=_edit(
            "batch_norm",
            ("add_(momentum * var * m / (m - 1))", "add_(momentum * var)"),
        ),
    ),
    Mutant(
        name="batch_norm_updates_running_stats_in_eval",
        cell="batch_norm",
        fails=["hidden_batch_norm_eval"],
        code="""
        def batch_norm(
            x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
        ):
            dims = [0, *range(2, x.dim())]
            shape = [1, -1] + [1] * (x.dim() - 2)
            batch_mean = x.mean(dim=dims)
            batch_var = x.var(dim=dims, correction=0)
            if training:
                mean, var = batch_mean, batch_var
            else:
                mean, var = running_mean.clone(), running_var.clone()
            m = x.numel() // x.shape[1]
            with torch.no_grad():  # updated in both modes
                running_mean.mul_(1 - momentum).add_(momentum * batch_mean)
                running_var.mul_(1 - momentum).add_(momentum * batch_var * m / (m - 1))
            y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + eps)
            if weight is not None:
                y = y * weight.view(shape)
            if bias is not None:
                y = y + bias.view(shape)
            return y
        """,
    ),
    Mutant(
        name="batch_norm_training_normalizes_with_running_stats",
        cell="batch_norm",
        fails=["hidden_batch_norm_training_uses_batch_stats"],
        code=_edit(
            "batch_norm",
            (
                "    else:\n        mean, var = running_mean, running_var\n",
                "    mean, var = running_mean, running_var\n",
            ),
        ),
    ),
    Mutant(
        name="batch_norm_momentum_reversed",
        cell="batch_norm",
        fails=["hidden_batch_norm_momentum"],
        code=_edit(
            "batch_norm",
            (
                "running_mean.mul_(1 - momentum).add_(momentum * mean)",
                "running_mean.mul_(momentum).add_((1 - momentum) * mean)",
            ),
            (
                "running_var.mul_(1 - momentum).add_(momentum * var * m / (m - 1))",
                "running_var.mul_(momentum).add_((1 - momentum) * var * m / (m - 1))",
            ),
        ),
    ),
    Mutant(
        name="batch_norm_eps_outside_sqrt",
        cell="batch_norm",
        fails=["hidden_batch_norm_eps"],
        code=_edit(
            "batch_norm",
            ("torch.sqrt(var.view(shape) + eps)", "(torch.sqrt(var.view(shape)) + eps)"),
        ),
    ),
    Mutant(
        name="batch_norm_statistics_without_gradient",
        cell="batch_norm",
        fails=["hidden_batch_norm_gradient"],
        # the batch mean and variance computed under no_grad: right values, gradient too simple
        code=_edit(
            "batch_norm",
            (
                "        mean = x.mean(dim=dims)  # (C,)\n"
                "        var = x.var(dim=dims, correction=0)  # (C,) biased: divides by m\n",
                "        mean = x.detach().mean(dim=dims)  # (C,)\n"
                "        var = x.detach().var(dim=dims, correction=0)  # (C,)\n",
            ),
        ),
    ),
    Mutant(
        name="batch_norm_calls_F_batch_norm",
        cell="batch_norm",
        fails=["hidden_batch_norm_from_scratch"],
        code="""
        def batch_norm(
            x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
        ):
            return F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
        """,
    ),
    # ---------------------------------------------------------------- DigitsCNN, train_cnn
    Mutant(
        name="train_cnn_too_little_training",
        cell="train_cnn",
        fails=["test_train_cnn"],
        code="""
        def train_cnn(model, x_train, y_train):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.01)  # one slow epoch
            model.train()
            for start in range(0, len(x_train), 64):
                loss = F.cross_entropy(model(x_train[start : start + 64]), y_train[start : start + 64])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            return model
        """,
    ),
    Mutant(
        name="train_cnn_returns_nothing",
        cell="train_cnn",
        fails=["test_train_cnn"],
        code=_edit("train_cnn", ("    return model\n", "")),
    ),
    Mutant(
        name="cnn_wrong_flatten_size",
        cell="cnn",
        fails=["test_cnn_shape", "test_train_cnn", "hidden_cnn_batch_independent"],
        # the classifier expects the size before the second pooling: (N, 16 * 4 * 4)
        code=_edit("cnn", ("nn.Linear(16 * 2 * 2, 10)", "nn.Linear(16 * 4 * 4, 10)")),
    ),
    Mutant(
        name="cnn_over_the_budget",
        cell="cnn",
        fails=["test_cnn_shape"],
        # the lesson's LeNet, 13,802 parameters: it trains well, but the budget is 2,000
        code="""
        class DigitsCNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(
                    nn.Conv2d(1, 16, 3, padding=1),
                    nn.BatchNorm2d(16),
                    nn.ReLU(),
                    nn.MaxPool2d(2),
                    nn.Conv2d(16, 32, 3, padding=1),
                    nn.BatchNorm2d(32),
                    nn.ReLU(),
                    nn.MaxPool2d(2),
                )
                self.classifier = nn.Sequential(
                    nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10)
                )

            def forward(self, x):
                return self.classifier(self.features(x))
        """,
    ),
    Mutant(
        name="cnn_squeezes_the_batch_axis",
        cell="cnn",
        fails=["hidden_cnn_batch_independent"],
        # right for batches of several images; a single image comes out as (10,), not (1, 10)
        code=_edit(
            "cnn",
            (
                "return self.classifier(self.features(x))",
                "return self.classifier(self.features(x)).squeeze()",
            ),
        ),
    ),
    Mutant(
        name="cnn_functional_dropout_in_eval",
        cell="cnn",
        fails=["hidden_cnn_batch_independent"],
        # F.dropout defaults to training=True: it keeps dropping units after model.eval()
        code=_edit(
            "cnn",
            (
                "return self.classifier(self.features(x))",
                "return self.classifier(F.dropout(self.features(x), 0.2))",
            ),
        ),
    ),
]
