#!/usr/bin/python3
"""Golden float64 trajectories of Prodigy for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/prodigy.py

It writes packages/core/test/fixtures/prodigy/<case>.json in the format of tools/golden/generate.py, plus the
groups' shared scalars (d, dMax, dNumerator, k) after every step; packages/core/test/golden-prodigy.test.ts replays
each file through the reference.

Prodigy is not in PyTorch. `Prodigy.step` of konstmish/prodigy (prodigyopt/prodigy.py as of commit
a1b4f0eff7ef988ac10d6f11f26b0da15d254588, its last change; repository head 3efb213ee8af5a6bf76f28726398433a847b38e9)
uses only operations PyTorch 1.13 has; it is transcribed below statement for statement. Left out: fsdp_in_use
(the torch.distributed all-reduce of the two sums; `_fsdp_flattened` detection) and the print of the constructor.
Every parameter stores p0 as the sliced clone (upstream stores a scalar 0 for an all-zero parameter: the same
values). The gradient given to the optimizer is a clone, so upstream's in-place L2 decay of p.grad does not
change the recorded gradient.

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly. ATEN_CPU_CAPABILITY=default
(portable kernels, no FMA) as in generate.py.
"""

import os

os.environ['ATEN_CPU_CAPABILITY'] = 'default'

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from common import write_fixtures  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'prodigy'
GENERATOR = f'tools/golden/prodigy.py, PyTorch {torch.__version__} running konstmish/prodigy prodigy.py (transcribed)'


# --------------------------------------------------------------------------------------------------------
# Transcribed upstream code (fsdp_in_use left out).

class Prodigy(torch.optim.Optimizer):
    def __init__(self, params, lr=1.0, betas=(0.9, 0.999), beta3=None, eps=1e-8, weight_decay=0, decouple=True,
                 use_bias_correction=False, safeguard_warmup=False, d0=1e-6, d_coef=1.0, growth_rate=float('inf'),
                 slice_p=1):
        if not 0.0 < d0:
            raise ValueError("Invalid d0 value: {}".format(d0))
        if not 0.0 < lr:
            raise ValueError("Invalid learning rate: {}".format(lr))
        if not 0.0 < eps:
            raise ValueError("Invalid epsilon value: {}".format(eps))
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError("Invalid beta parameter at index 0: {}".format(betas[0]))
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError("Invalid beta parameter at index 1: {}".format(betas[1]))
        defaults = dict(lr=lr, betas=betas, beta3=beta3, eps=eps, weight_decay=weight_decay, d=d0, d0=d0, d_max=d0,
                        d_numerator=0.0, d_coef=d_coef, k=0, growth_rate=growth_rate,
                        use_bias_correction=use_bias_correction, decouple=decouple, safeguard_warmup=safeguard_warmup,
                        slice_p=slice_p)
        self.d0 = d0
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        d_denom = 0.0

        group = self.param_groups[0]
        use_bias_correction = group['use_bias_correction']
        beta1, beta2 = group['betas']
        beta3 = group['beta3']
        if beta3 is None:
            beta3 = math.sqrt(beta2)
        k = group['k']

        d = group['d']
        d_max = group['d_max']
        d_coef = group['d_coef']
        lr = max(group['lr'] for group in self.param_groups)

        if use_bias_correction:
            bias_correction = ((1 - beta2**(k+1))**0.5) / (1 - beta1**(k+1))
        else:
            bias_correction = 1

        dlr = d*lr*bias_correction

        growth_rate = group['growth_rate']
        decouple = group['decouple']

        d_numerator = group['d_numerator']
        d_numerator *= beta3
        delta_numerator = 0.0

        for group in self.param_groups:
            decay = group['weight_decay']
            k = group['k']
            eps = group['eps']
            group_lr = group['lr']
            d0 = group['d0']
            safeguard_warmup = group['safeguard_warmup']
            slice_p = group['slice_p']

            if group_lr not in [lr, 0.0]:
                raise RuntimeError("Setting different lr values in different parameter groups is only supported for values of 0")

            for p in group['params']:
                if p.grad is None:
                    continue

                grad = p.grad.data

                # Apply weight decay (coupled variant)
                if decay != 0 and not decouple:
                    grad.add_(p.data, alpha=decay)

                state = self.state[p]

                # State initialization
                if 'step' not in state:
                    state['step'] = 0
                    state['s'] = torch.zeros_like(p.data.flatten()[::slice_p]).detach()
                    state['p0'] = p.flatten()[::slice_p].detach().clone()
                    if beta1 > 0:
                        state['exp_avg'] = torch.zeros_like(p.data).detach()
                    state['exp_avg_sq'] = torch.zeros_like(p.data).detach()

                exp_avg_sq = state['exp_avg_sq']

                s = state['s']
                p0 = state['p0']

                if group_lr > 0.0:
                    # we use d / d0 instead of just d to avoid getting values that are too small
                    sliced_grad = grad.flatten()[::slice_p]
                    delta_numerator += (d / d0) * dlr * torch.dot(sliced_grad, p0.data - p.data.flatten()[::slice_p]).item()

                    # Adam EMA updates
                    if beta1 > 0:
                        exp_avg = state['exp_avg']
                        exp_avg.mul_(beta1).add_(grad, alpha=d * (1-beta1))
                    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=d * d * (1-beta2))

                    if safeguard_warmup:
                        s.mul_(beta3).add_(sliced_grad, alpha=((d / d0) * d))
                    else:
                        s.mul_(beta3).add_(sliced_grad, alpha=((d / d0) * dlr))
                    d_denom += s.abs().sum().item()

        d_hat = d

        if d_denom == 0:
            return loss

        if lr > 0.0:
            global_d_numerator = d_numerator + delta_numerator
            global_d_denom = d_denom

            d_hat = d_coef * global_d_numerator / global_d_denom
            if d == group['d0']:
                d = max(d, d_hat)
            d_max = max(d_max, d_hat)
            d = min(d_max, d * growth_rate)

        for group in self.param_groups:
            group['d_numerator'] = global_d_numerator
            group['d_denom'] = global_d_denom
            group['d'] = d
            group['d_max'] = d_max
            group['d_hat'] = d_hat

            decay = group['weight_decay']
            k = group['k']
            eps = group['eps']

            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.data

                state = self.state[p]

                exp_avg_sq = state['exp_avg_sq']

                state['step'] += 1

                denom = exp_avg_sq.sqrt().add_(d * eps)

                # Apply weight decay (decoupled variant)
                if decay != 0 and decouple:
                    p.data.add_(p.data, alpha=-decay * dlr)

                ### Take step
                if beta1 > 0:
                    exp_avg = state['exp_avg']
                    p.data.addcdiv_(exp_avg, denom, value=-dlr)
                else:
                    p.data.addcdiv_(grad, denom, value=-dlr * d)

            group['k'] = k + 1

        return loss


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=1.0, betas=[0.9, 0.999], beta3=None, eps=1e-8, weightDecay=0.0, decouple=True,
                useBiasCorrection=False, safeguardWarmup=False, d0=1e-6, dCoef=1.0, growthRate=None, sliceP=1)
TORCH_NAMES = dict(lr='lr', betas='betas', beta3='beta3', eps='eps', weightDecay='weight_decay', decouple='decouple',
                   useBiasCorrection='use_bias_correction', safeguardWarmup='safeguard_warmup', d0='d0',
                   dCoef='d_coef', growthRate='growth_rate', sliceP='slice_p')

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('c', []), ('k', [2, 3, 2])]
MISSING = {2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['k']}


def case(name, description, options=None, *, steps=20, seed=0, missing=None, groups=None, zero_first=False):
    return dict(name=name, description=description, options=options or {}, steps=steps, seed=seed,
                missing=missing or {}, groups=groups, zero_first=zero_first)


CASES = [
    case('defaults', 'All defaults, five parameters in one group (the D estimate sums over all of them).', seed=1),
    case('decoupled-decay', 'Decoupled weight decay, dCoef 2, beta3 0.9.', dict(weightDecay=0.1, dCoef=2.0, beta3=0.9),
         seed=2),
    case('l2-decay', 'L2 (coupled) weight decay, other betas, eps 1e-3.',
         dict(weightDecay=0.05, decouple=False, betas=[0.8, 0.99], eps=1e-3), seed=3),
    case('bias-correction-safeguard', 'useBiasCorrection and safeguardWarmup, lr 0.5, d0 1e-4.',
         dict(useBiasCorrection=True, safeguardWarmup=True, lr=0.5, d0=1e-4), seed=4),
    case('no-first-moment', 'beta1 0: no expAvg, the step uses the gradient (with L2 decay).',
         dict(betas=[0.0, 0.99], weightDecay=0.02, decouple=False), seed=5),
    case('growth-slice', 'growthRate 1.5 binds; sliceP 3 (every third element in the D statistics).',
         dict(growthRate=1.5, sliceP=3, d0=1e-3), seed=6),
    case('missing-grads', 'Some steps have no gradient for some parameters (left out of both passes).',
         dict(d0=1e-4), seed=7, missing=MISSING),
    case('zero-first-step', 'Every gradient of the first step is 0: D = 0, so nothing moves and k stays.',
         dict(), seed=8, zero_first=True),
    case('two-groups', 'Two groups (w, k) and the default group: per-group weightDecay, eps, sliceP, safeguardWarmup; '
         'one D estimate over both.', dict(weightDecay=0.01, d0=1e-4), seed=9,
         groups=[dict(params=['w', 'k'], options=dict(weightDecay=0.2, eps=1e-4, sliceP=2, safeguardWarmup=True))]),
    case('group-lr-zero', 'A group at lr 0: it adds nothing to the D estimate but still moves with the shared dlr '
         '(decoupled decay), as upstream.', dict(weightDecay=0.1, d0=1e-4), seed=10,
         groups=[dict(params=['b'], options=dict(lr=0.0))]),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(opts):
    out = {}
    for k, v in opts.items():
        if k == 'betas':
            v = tuple(v)
        if k == 'growthRate' and v is None:
            v = float('inf')
        out[TORCH_NAMES[k]] = v
    return out


SLOTS = {'exp_avg': 'expAvg', 'exp_avg_sq': 'expAvgSq', 's': 's', 'p0': 'p0'}


def group_scalars(opt):
    return [dict(d=g['d'], dMax=g['d_max'], dNumerator=g['d_numerator'], k=g['k']) for g in opt.param_groups]


def run_case(spec):
    gen = torch.Generator().manual_seed(9000 + spec['seed'])
    full = dict(DEFAULTS, **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}
    # descent's groups: the user groups in order, then the default group (the parameters no group selected).
    torch_groups = []
    grouped = set()
    for g in spec['groups'] or []:
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(g['options'])))
        grouped.update(g['params'])
    rest = [n for n in names if n not in grouped]
    torch_groups.append(dict(params=[params[n] for n in rest]))
    opt = Prodigy(torch_groups, **torch_kwargs(full))

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
                g = curve[n] * (p - target[n]) + 0.3 * noise
                if spec['zero_first'] and k == 0:
                    g = torch.zeros_like(g)
            step_grads.append(floats(g))
            updates[n] += 1
            p.grad = g.clone()
        opt.step()
        grads_out.append(step_grads)
        steps_out.append(dict(params=[floats(params[n]) for n in names], groups=group_scalars(opt)))

    state_out = {}
    for n in names:
        st = opt.state.get(params[n], {})
        if not st:
            continue
        # descent counts a parameter's step in the first pass (upstream in the second): they differ only when a
        # first pass found D = 0 (the zero-first-step case), which the replay test accounts for.
        slots = {SLOTS[key]: floats(v) for key, v in st.items() if key in SLOTS}
        state_out[n] = dict(step=st['step'], updates=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' konstmish/prodigy transcribed; float64, '
                   'ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer='prodigy', options=spec['options'])
    if spec['groups']:
        fixture['groups'] = spec['groups']
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def main():
    write_fixtures(OUT, ROOT, CASES, run_case)


if __name__ == '__main__':
    main()
