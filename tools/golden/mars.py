#!/usr/bin/python3
"""Golden float64 trajectories of MARS (mars-adamw) for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/mars.py

It writes packages/core/test/fixtures/mars/<case>.json in the format of tools/golden/generate.py;
packages/core/test/golden-mars.test.ts replays each file through the reference.

MARS is not in PyTorch. `MARS.step` and `update_fn` of AGI-Arena/MARS (MARS/optimizers/mars.py at commit
20c60c1ca25ea88d03ed3ce2b7a079480fe81c86) use only operations PyTorch 1.13 has; the mars-adamw branch and the
AdamW branch for other parameters are transcribed below statement for statement, with is_approx=True (the
upstream default). Left out: mars-lion, mars-shampoo (NewtonSchulz under torch.compile), is_approx=False and its
update_last_grad/update_previous_grad. The state key 'step' is recorded as the parameter's step.

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly (some cases scale them
so that the clipping of c_t to norm 1 binds or not). ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in
generate.py.
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
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'mars'
GENERATOR = f'tools/golden/mars.py, PyTorch {torch.__version__} running AGI-Arena/MARS mars.py (mars-adamw, transcribed)'


# --------------------------------------------------------------------------------------------------------
# Transcribed upstream code (mars-adamw, is_approx=True).

def update_fn(p, grad, exp_avg, exp_avg_sq, lr, wd, beta1, beta2, last_grad, eps, amsgrad, max_exp_avg_sq, step, gamma,
              is_grad_2d, optimize_1d, lr_1d_factor, betas_1d, weight_decay_1d):
    if optimize_1d or is_grad_2d:
        c_t = (grad - last_grad).mul(gamma * (beta1 / (1. - beta1))).add(grad)
        c_t_norm = torch.norm(c_t)
        if c_t_norm > 1.:
            c_t = c_t / c_t_norm
        exp_avg.mul_(beta1).add_(c_t, alpha=1. - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(c_t, c_t, value=1. - beta2)
        bias_correction1 = 1.0 - beta1 ** step
        bias_correction2 = 1.0 - beta2 ** step
        if amsgrad:
            torch.max(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            denom = max_exp_avg_sq.sqrt().mul(1 / math.sqrt(bias_correction2)).add(eps).mul(bias_correction1)
        else:
            denom = exp_avg_sq.sqrt().mul(1 / math.sqrt(bias_correction2)).add(eps).mul(bias_correction1)
        real_update_tmp = -lr * torch.mul(p.data, wd).add(exp_avg.div(denom))
        p.data.add_(real_update_tmp)
    else:
        beta1_1d, beta2_1d = betas_1d
        exp_avg.mul_(beta1_1d).add_(grad, alpha=1. - beta1_1d)
        exp_avg_sq.mul_(beta2_1d).addcmul_(grad, grad, value=1. - beta2_1d)
        bias_correction1 = 1.0 - beta1_1d ** step
        bias_correction2 = 1.0 - beta2_1d ** step
        if amsgrad:
            torch.max(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            denom = max_exp_avg_sq.sqrt().mul(1 / math.sqrt(bias_correction2)).add(eps).mul(bias_correction1)
        else:
            denom = exp_avg_sq.sqrt().mul(1 / math.sqrt(bias_correction2)).add(eps).mul(bias_correction1)
        real_update_tmp = -lr * lr_1d_factor * torch.mul(p.data, weight_decay_1d).add(exp_avg.div(denom))
        p.data.add_(real_update_tmp)
    return exp_avg, exp_avg_sq


class MARS(Optimizer):
    def __init__(self, params, lr=3e-3, betas=(0.95, 0.99), eps=1e-8, weight_decay=0., amsgrad=False, gamma=0.025,
                 optimize_1d=False, lr_1d=3e-3, betas_1d=(0.9, 0.95), weight_decay_1d=0.1):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, gamma=gamma,
                        optimize_1d=optimize_1d, weight_decay_1d=weight_decay_1d)
        super().__init__(params, defaults)
        self.eps = eps
        self.weight_decay = weight_decay
        self.gamma = gamma
        self.optimize_1d = optimize_1d
        self.lr_1d_factor = lr_1d / lr
        self.weight_decay_1d = weight_decay_1d
        self.betas_1d = betas_1d

    @torch.no_grad()
    def step(self):
        gamma = self.gamma
        for group in self.param_groups:
            for p in filter(lambda p: p.grad is not None, group['params']):
                grad = p.grad.data
                amsgrad = group['amsgrad']
                state = self.state[p]
                if len(state) <= 1:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p.data)
                    state['last_grad'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p.data)
                    if amsgrad:
                        state['max_exp_avg_sq'] = torch.zeros_like(p.data)
                exp_avg, exp_avg_sq = state['exp_avg'], state['exp_avg_sq']
                last_grad = state['last_grad']
                lr, wd, beta1, beta2 = group['lr'], group['weight_decay'], *group['betas']
                max_exp_avg_sq = state['max_exp_avg_sq'] if amsgrad else 0
                state['step'] += 1
                step = state['step']
                is_grad_2d = (len(grad.shape) == 2)
                update_fn(p, grad, exp_avg, exp_avg_sq, lr, wd, beta1, beta2, last_grad, self.eps, amsgrad,
                          max_exp_avg_sq, step, gamma, is_grad_2d=is_grad_2d, optimize_1d=self.optimize_1d,
                          lr_1d_factor=self.lr_1d_factor, betas_1d=self.betas_1d,
                          weight_decay_1d=self.weight_decay if self.optimize_1d else self.weight_decay_1d)
                state['last_grad'] = grad


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=3e-3, betas=[0.95, 0.99], eps=1e-8, weightDecay=0.0, amsgrad=False, gamma=0.025, optimize1d=False,
                lr1d=3e-3, betas1d=[0.9, 0.95], weightDecay1d=0.1)

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('c', []), ('k', [2, 3, 2]), ('h', [4, 2])]
MISSING = {2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['k']}


def case(name, description, options=None, *, steps=12, seed=0, scale=1.0, missing=None):
    return dict(name=name, description=description, options=options or {}, steps=steps, seed=seed, scale=scale,
                missing=missing or {})


CASES = [
    case('defaults', 'All defaults; gradients of norm ~1-3, so the clipping of c_t binds on some steps.', seed=1),
    case('small-grads', 'Gradients scaled by 1/20, so ||c_t|| < 1: no clipping.', dict(lr=0.01), seed=2, scale=0.05),
    case('large-grads', 'Gradients scaled by 30 and gamma 1/2: clipping every step.', dict(lr=0.01, gamma=0.5), seed=3,
         scale=30.0),
    case('weight-decay', 'Weight decay in both branches, other betas.',
         dict(lr=0.02, weightDecay=0.1, weightDecay1d=0.05, betas=[0.9, 0.999], betas1d=[0.8, 0.9], lr1d=0.01), seed=4),
    case('amsgrad', 'AMSGrad in both branches; gradient scale changes so the maximum binds.',
         dict(lr=0.02, amsgrad=True, lr1d=0.02), seed=5, scale='alternating'),
    case('optimize-1d', 'optimize_1d: MARS for every parameter (weight_decay_1d unused).',
         dict(lr=0.02, optimize1d=True, weightDecay=0.05, eps=1e-3), seed=6),
    case('missing-grads', 'Some steps have no gradient for some parameters (skipped; last_grad kept).',
         dict(lr=0.02, gamma=0.2), seed=7, missing=MISSING),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full):
    return dict(lr=full['lr'], betas=tuple(full['betas']), eps=full['eps'], weight_decay=full['weightDecay'],
                amsgrad=full['amsgrad'], gamma=full['gamma'], optimize_1d=full['optimize1d'], lr_1d=full['lr1d'],
                betas_1d=tuple(full['betas1d']), weight_decay_1d=full['weightDecay1d'])


SLOTS = {'exp_avg': 'expAvg', 'last_grad': 'lastGrad', 'exp_avg_sq': 'expAvgSq', 'max_exp_avg_sq': 'maxExpAvgSq'}


def run_case(spec):
    gen = torch.Generator().manual_seed(7000 + spec['seed'])
    full = dict(DEFAULTS, **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}
    opt = MARS([params[n] for n in names], **torch_kwargs(full))

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
            scale = (10.0 if k % 3 == 0 else 0.1) if spec['scale'] == 'alternating' else spec['scale']
            with torch.no_grad():
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * scale
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
        if st['step'] != updates[n]:
            sys.exit(f'{spec["name"]}: torch step {st["step"]} != {updates[n]} updates of {n}')
        slots = {SLOTS[k]: floats(v) for k, v in st.items() if k in SLOTS}
        state_out[n] = dict(step=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' AGI-Arena/MARS mars-adamw transcribed; float64, '
                   'ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer='mars', options=spec['options'])
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def main():
    write_fixtures(OUT, ROOT, CASES, run_case)


if __name__ == '__main__':
    main()
