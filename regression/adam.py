"""Adam over one flat tensor holding every parameter of every seed.

Adam is elementwise, so one Adam over the stacked parameters of S seeds is exactly S
independent Adams. The update is written as torch.optim.Adam computes it (Kingma & Ba,
2015, with eps outside the bias-corrected square root), with Keras' defaults.
"""

from __future__ import annotations

import math

import torch

__all__ = ["BETAS", "EPS", "FlatAdam"]

BETAS = (0.9, 0.999)
EPS = 1e-7  # Keras' default epsilon; torch.optim.Adam's own default is 1e-8


def _fused_adam_works() -> bool:
    """Whether torch has the one-kernel Adam update for CPU tensors (torch >= 2.4)."""
    x = torch.zeros(1)
    try:
        torch._fused_adam_(
            [x], [x.clone()], [x.clone()], [x.clone()], [], [torch.ones(())],
            lr=1e-3, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8,
            amsgrad=False, maximize=False,
        )  # fmt: skip
    except (AttributeError, RuntimeError, NotImplementedError):
        return False
    return True


class FlatAdam:
    """Adam over one flat tensor of parameters, as torch.optim.Adam computes it.

    `step` spells out the update; where torch has it, the same update runs as one fused
    kernel (what torch.optim.Adam(fused=True) calls), because on a one-seed run the
    seven elementwise passes cost as much time as the gradients. Keras adds eps to the
    uncorrected sqrt(v) instead; that moves eps by a factor sqrt(1 - 0.999^t), which is
    negligible at eps = 1e-7.
    """

    def __init__(self, params: torch.Tensor, lr: float) -> None:
        self.params = params
        self.lr = lr
        self.m = torch.zeros_like(params)
        self.v = torch.zeros_like(params)
        self.denom = torch.zeros_like(params)
        self.t = 0
        self.fused = _fused_adam_works()
        self.step_count = torch.zeros((), device=params.device)  # for the fused kernel

    def step(self, grad: torch.Tensor) -> None:
        beta1, beta2 = BETAS
        self.t += 1
        if self.fused:
            self.step_count.fill_(self.t)
            torch._fused_adam_(
                [self.params], [grad], [self.m], [self.v], [], [self.step_count],
                lr=self.lr, beta1=beta1, beta2=beta2, weight_decay=0.0, eps=EPS,
                amsgrad=False, maximize=False,
            )  # fmt: skip
            return

        self.m.lerp_(grad, 1 - beta1)
        self.v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**self.t
        bias_correction2_sqrt = math.sqrt(1 - beta2**self.t)
        torch.sqrt(self.v, out=self.denom).div_(bias_correction2_sqrt).add_(EPS)
        self.params.addcdiv_(self.m, self.denom, value=-self.lr / bias_correction1)
