#!/usr/bin/python3
"""Golden float64 trajectories of pytorch_optimizer's Amos for descent's `amos`.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/amos.py

It writes packages/core/test/fixtures/amos/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/amos.test.ts replays
each file through the reference.

pytorch_optimizer (kozistr/pytorch_optimizer) is not packaged for Debian. `Amos._step_per_param`, `get_scale`,
`init_group` and `debias` (pytorch_optimizer/optimizer/amos.py and base/optimizer.py, commit
094254a1f49ce776716e4d1d95f21932473b5688) use only operations torch 1.13 has (pow, mean, lerp_, rsqrt,
reciprocal, clone, mul_, add_), so they are transcribed below statement for statement (the foreach path, not
taken on CPU, is left out). The step count is the group's, as upstream; the cases give every parameter a
gradient at every step, so it equals descent's per-parameter count.

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly. ATEN_CPU_CAPABILITY=
default (portable kernels, no FMA) as in generate.py. torch's mean sums in another order than the reference's
loop, so the agreement is to rounding, not bitwise.
"""

import os

os.environ['ATEN_CPU_CAPABILITY'] = 'default'

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from common import write_fixtures  # noqa: E402
from torch.optim.optimizer import Optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'amos'
GENERATOR = f'tools/golden/amos.py, PyTorch {torch.__version__}'


# --------------------------------------------------------------------------------------------------------
# pytorch_optimizer's Amos (per-parameter path), transcribed.

class Amos(Optimizer):
    def __init__(self, params, lr=1e-3, beta=0.999, momentum=0.0, extra_l2=0.0, c_coef=0.25, d_coef=0.25,
                 eps=1e-18, maximize=False):
        self.c_coef = c_coef
        self.d_coef = d_coef
        self.maximize = maximize
        super().__init__(params, dict(lr=lr, beta=beta, momentum=momentum, extra_l2=extra_l2, eps=eps))

    @staticmethod
    def debias(beta, step):
        return 1.0 - math.pow(beta, step)

    @staticmethod
    def get_scale(p):
        if len(p.shape) == 1:
            return 0.5
        if len(p.shape) == 2:
            return math.sqrt(2 / p.size(1))
        return math.sqrt(1 / p.size(1))

    def init_group(self, group):
        if 'step' not in group:
            group['step'] = 0
        for p in group['params']:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state['exp_avg_sq'] = torch.zeros((1,), dtype=p.dtype, device=p.device)
                state['decay'] = torch.zeros((1,), dtype=p.dtype, device=p.device)
                if group['momentum'] > 0.0:
                    state['exp_avg'] = torch.zeros_like(p)

    def _step_per_param(self, group):
        momentum, beta = group['momentum'], group['beta']
        lr_sq = math.sqrt(group['lr'])
        lr_p2 = math.pow(group['lr'], 2)
        bias_correction = self.debias(beta, group['step'])
        for p in group['params']:
            if p.grad is None:
                continue
            grad = p.grad
            if self.maximize:
                grad.neg_()
            state = self.state[p]
            g2 = grad.pow(2).mean()
            init_lr = group['lr'] * self.get_scale(p)
            exp_avg_sq = state['exp_avg_sq']
            exp_avg_sq.lerp_(g2, weight=1.0 - beta)
            r_v_hat = bias_correction / (exp_avg_sq + group['eps'])
            decay = state['decay']
            decay_factor_c = torch.rsqrt(1.0 + self.c_coef * lr_sq * decay)
            decay_factor_d = torch.reciprocal(1.0 + self.d_coef * math.sqrt(init_lr) * decay)
            gamma = decay_factor_c * lr_p2 * r_v_hat * g2
            update = p.clone()
            update.mul_((gamma - group['extra_l2']) / 2.0)
            update.add_(r_v_hat.sqrt() * grad, alpha=init_lr)
            update.mul_(decay_factor_d)
            decay.mul_(1.0 + gamma).add_(gamma)
            if momentum > 0.0:
                exp_avg = state['exp_avg']
                exp_avg.lerp_(update, weight=1.0 - momentum)
                update.copy_(exp_avg)
            p.add_(-update)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            self.init_group(group)
            group['step'] += 1
            self._step_per_param(group)


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=1e-3, beta=0.999, momentum=0.0, extraL2=0.0, cCoef=0.25, dCoef=0.25, eps=1e-18, maximize=False)

SHAPES = [('w', [3, 4]), ('b', [5]), ('t', [2, 3, 2]), ('c', [4, 1]), ('e', [7, 2])]


def case(name, description, options=None, *, groups=None, steps=12, seed=0, scale=1.0, zeros=False, missing=None):
    return dict(name=name, description=description, options=options or {}, groups=groups, steps=steps, seed=seed,
                scale=scale, zeros=zeros, missing=missing or {})


CASES = [
    case('defaults', 'All defaults (lr 1e-3, beta 0.999, no momentum).', seed=1),
    case('large-lr', 'lr 0.1 and beta 0.9, so the adaptive decay grows visibly.', dict(lr=0.1, beta=0.9), seed=2,
         steps=30),
    case('momentum', 'momentum 0.9 (expAvg).', dict(lr=0.05, beta=0.99, momentum=0.9), seed=3),
    case('extra-l2', 'extra_l2 0.01 and other decay coefficients.', dict(lr=0.05, extraL2=0.01, cCoef=0.5, dCoef=1.0),
         seed=4),
    case('maximize', 'maximize with momentum.', dict(lr=0.05, maximize=True, momentum=0.5), seed=5),
    case('eps', 'eps 1e-2 (visible in r_v_hat).', dict(lr=0.05, eps=1e-2), seed=6),
    case('groups', 'Param groups: w and t override lr, beta and momentum.', dict(lr=0.02),
         groups=[dict(params=['w', 't'], options=dict(lr=0.1, beta=0.9, momentum=0.8))], seed=7),
    case('zero-grads', 'Gradients with exact zeros, and an all-zero first gradient for w and c.', dict(lr=0.05),
         seed=8, zeros=True),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full):
    return dict(lr=full['lr'], beta=full['beta'], momentum=full['momentum'], extra_l2=full['extraL2'],
                c_coef=full['cCoef'], d_coef=full['dCoef'], eps=full['eps'], maximize=full['maximize'])


def torch_group_kwargs(full):
    return dict(lr=full['lr'], beta=full['beta'], momentum=full['momentum'], extra_l2=full['extraL2'], eps=full['eps'])


def run_case(spec):
    gen = torch.Generator().manual_seed(6000 + spec['seed'])
    full = dict(DEFAULTS, **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}

    torch_groups, grouped = [], set()
    for g in spec['groups'] or []:
        opts = dict(full, **g['options'])
        grouped.update(g['params'])
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_group_kwargs(opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_group_kwargs(full)))
    opt = Amos(torch_groups, **torch_kwargs(full))

    grads_out, steps_out = [], []
    updates = {n: 0 for n in names}
    for k in range(spec['steps']):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            if n in spec['missing'].get(k, []):
                p.grad = None
                step_grads.append(None)
                continue
            with torch.no_grad():
                scale = (1e3 if k % 2 == 0 else 1e-3) if spec['scale'] == 'alternating' else spec['scale']
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * scale
                if full['maximize']:
                    g = -g
                if spec['zeros']:
                    g[torch.rand(shapes[n], generator=gen) < 0.3] = 0.0
                    if k == 0 and n in ('w', 'c'):
                        g.zero_()
            step_grads.append(floats(g))
            updates[n] += 1
            p.grad = g.clone()
        opt.step()
        grads_out.append(step_grads)
        steps_out.append(dict(params=[floats(params[n]) for n in names]))

    state_out = {}
    for n in names:
        st = opt.state.get(params[n], {})
        if not st:
            continue
        slots = dict(expAvgSq=floats(st['exp_avg_sq']), decay=floats(st['decay']))
        if 'exp_avg' in st:
            slots['expAvg'] = floats(st['exp_avg'])
        state_out[n] = dict(step=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' pytorch_optimizer Amos (per-parameter path) transcribed; float64, '
                   'ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer='amos',
                   options=spec['options'])
    if spec['groups']:
        fixture['groups'] = [dict(params=g['params'], options=g['options']) for g in spec['groups']]
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def main():
    write_fixtures(OUT, ROOT, CASES, run_case)


if __name__ == '__main__':
    main()
