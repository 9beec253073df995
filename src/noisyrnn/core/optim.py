"""Batched optimisers for populations: one Adam or SGD per network, run as whole-tensor ops.

Every parameter carries the network axis first (:mod:`noisyrnn.core.population`). The step
count, betas, eps, momentum and dampening are shared; the learning rate and the weight decay
are per network. The arithmetic is torch's single-tensor Adam and SGD written so that a
per-network factor enters exactly where torch puts its Python scalar:

* ``param.add_(g, alpha=-lr)`` is a fused multiply-add; ``addcmul`` with a (K, 1, ...) column
  is the same fused multiply-add, so network k gets bitwise torch's update;
* Adam's ``param.addcdiv_(m, d, value=-s)`` computes ``param + (-s * m) / d``, as written here.

``step(active)`` updates the networks where ``active`` is True and leaves the others (diverged
or finished) exactly as they were, moments included. Per-network gradient clipping is
:func:`clip_grad_norm_`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def per_network(values, k: int, name: str) -> torch.Tensor:
    """(K,) float64 values of a parameter shared by all K networks (a float) or given per
    network (a sequence or (K,) tensor)."""
    t = torch.as_tensor(values, dtype=torch.float64).detach().cpu()
    t = t.expand(k) if t.ndim == 0 else t
    if t.shape != (k,):
        raise ValueError(f"{name} needs a float or {k} values (one value per network), "
                         f"got shape {tuple(t.shape)}")
    return t.clone()


def _column(values, k: int, like: torch.Tensor) -> torch.Tensor:
    """(K, 1, ..., 1) column of per-network values for a (K, ...) tensor, cast from float64
    (a Python float is cast the same way when torch applies it)."""
    return values.to(device=like.device, dtype=like.dtype).view(k, *([1] * (like.ndim - 1)))


class _Population:
    def __init__(self, params: Sequence[torch.Tensor], lr, weight_decay):
        self.params = list(params)
        if not self.params:
            raise ValueError("no parameters to optimise")
        self.k = self.params[0].shape[0]
        for p in self.params:
            if p.shape[0] != self.k:
                raise ValueError(f"parameter of shape {tuple(p.shape)} has no network axis of {self.k}")
        self.lr = per_network(lr, self.k, "lr")
        self.weight_decay = per_network(weight_decay, self.k, "weight_decay")
        if bool((self.lr < 0).any()) or bool((self.weight_decay < 0).any()):
            raise ValueError("learning rates and weight decays must be >= 0")
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in self.params]
        self.steps = 0
        self._shared_values()

    def _shared_values(self) -> None:
        """A value all networks share is applied as torch applies its Python float (checked
        once here, not at every step: the step of a small population is op-overhead bound)."""
        self._lr = float(self.lr[0]) if bool((self.lr == self.lr[0]).all()) else None
        wd = self.weight_decay
        self._wd = float(wd[0]) if bool((wd == wd[0]).all()) else None
        self._columns: dict[tuple, torch.Tensor] = {}

    def _column(self, name: str, values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        key = (name, like.ndim, like.device, like.dtype)
        if key not in self._columns:
            self._columns[key] = _column(values, self.k, like)
        return self._columns[key]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def _decayed(self, p: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
        if self._wd == 0.0:
            return grad
        if self._wd is not None:
            return grad.add(p, alpha=self._wd)
        return torch.addcmul(grad, p, self._column("weight_decay", self.weight_decay, p))

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None) -> None:
        """One step for the networks where ``active`` (K,) is True (all when None)."""
        frozen = None
        if active is not None:
            active = torch.as_tensor(active, dtype=torch.bool).cpu()
            if not bool(active.any()):
                return
            if not bool(active.all()):
                frozen = torch.nonzero(~active).flatten().to(self.params[0].device)
        if frozen is not None:
            kept = [(p.index_select(0, frozen), {n: s.index_select(0, frozen) for n, s in st.items()})
                    for p, st in zip(self.params, self.state)]
        self.steps += 1
        for p, st in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p, p.grad, st)
        if frozen is not None:
            for p, st, (old_p, old_st) in zip(self.params, self.state, kept):
                p.index_copy_(0, frozen, old_p)
                for n, old in old_st.items():
                    st[n].index_copy_(0, frozen, old)

    def state_dict(self) -> dict:
        return {"steps": self.steps, "lr": self.lr.clone(), "weight_decay": self.weight_decay.clone(),
                "state": [{n: s.clone() for n, s in st.items()} for st in self.state]}

    def load_state_dict(self, state: dict) -> None:
        if len(state["state"]) != len(self.params):
            raise ValueError("optimiser state holds a different number of parameters")
        self.steps = int(state["steps"])
        self.lr = state["lr"].clone()
        self.weight_decay = state["weight_decay"].clone()
        self._shared_values()
        self.state = [{n: s.to(p.device).clone() for n, s in st.items()}
                      for st, p in zip(state["state"], self.params)]


class PopulationAdam(_Population):
    """``torch.optim.Adam`` (L2 weight decay, no amsgrad) for each of K networks."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)

    def _update(self, p, grad, st):
        beta1, beta2 = self.betas
        grad = self._decayed(p, grad)
        if not st:
            st["exp_avg"] = torch.zeros_like(p)
            st["exp_avg_sq"] = torch.zeros_like(p)
        exp_avg, exp_avg_sq = st["exp_avg"], st["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** self.steps
        bias_correction2_sqrt = (1 - beta2 ** self.steps) ** 0.5
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
        if self._lr is not None:
            p.addcdiv_(exp_avg, denom, value=-(self._lr / bias_correction1))
        else:
            step_size = self.lr / bias_correction1  # float64, as torch's Python float
            p.add_((_column(-step_size, self.k, p) * exp_avg) / denom)


class PopulationSGD(_Population):
    """``torch.optim.SGD`` (momentum, dampening, L2 weight decay, optional Nesterov) for each
    of K networks."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr, weight_decay)
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), bool(nesterov)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and zero dampening")

    def _update(self, p, grad, st):
        grad = self._decayed(p, grad)
        if self.momentum != 0:
            if "momentum_buffer" not in st:
                st["momentum_buffer"] = grad.detach().clone()
            else:
                st["momentum_buffer"].mul_(self.momentum).add_(grad, alpha=1 - self.dampening)
            buf = st["momentum_buffer"]
            grad = grad.add(buf, alpha=self.momentum) if self.nesterov else buf
        if self._lr is not None:
            p.add_(grad, alpha=-self._lr)
        else:
            p.addcmul_(grad, self._column("-lr", -self.lr, p))


OPTIMISERS = {"adam": PopulationAdam, "sgd": PopulationSGD}


@torch.no_grad()
def clip_grad_norm_(params: Sequence[torch.Tensor], max_norm, eps: float = 1e-6) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` per network: each network's gradient (over all its
    parameters) is scaled to a 2-norm of at most ``max_norm`` (float or (K,)). Returns the
    (K,) norms before clipping."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(0)
    k = grads[0].shape[0]
    norms = torch.stack([torch.linalg.vector_norm(g.reshape(k, -1), dim=1) for g in grads])
    total = torch.linalg.vector_norm(norms, dim=0)
    if isinstance(max_norm, (int, float)):
        # torch computes float / tensor as reciprocal(tensor) * float; so does this
        coef = (total + eps).reciprocal() * float(max_norm)
    else:
        coef = torch.as_tensor(max_norm, dtype=total.dtype, device=total.device) / (total + eps)
    coef = torch.clamp(coef, max=1.0)
    for g in grads:
        g.mul_(coef.view(k, *([1] * (g.ndim - 1))))
    return total
