#!/usr/bin/python3
"""Golden float64 trajectories of optimizers PyTorch 1.13 lacks, transcribed from their reference implementations.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/pytorch_optimizer_family.py

It writes packages/core/test/fixtures/<optimizer>/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/golden-extra.test.ts
replays each file through the reference.

Transcribed, statement for statement, with torch 1.13 ops (each class names the upstream file and commit):
- diffgrad: shivram1987/diffGrad, diffGrad_v2.py at 93fb7fcdf1ddefea04d4273b91f42f1c6e0da4b4 (the authors' fixed
  version: the previous gradient is stored as a copy), plus descent's `maximize` (the gradient negated first).
- adanorm: kozistr/pytorch_optimizer, pytorch_optimizer/optimizer/adanorm.py (AdaNorm, the AdamNorm form).

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly.
ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in generate.py.
"""

import os

os.environ['ATEN_CPU_CAPABILITY'] = 'default'

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from torch.optim.optimizer import Optimizer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / 'packages' / 'core' / 'test' / 'fixtures'


# --------------------------------------------------------------------------------------------------------
# diffGrad, shivram1987/diffGrad diffGrad_v2.py @ 93fb7fcd (transcribed; `maximize` added).

class DiffGrad(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.clone()
                if group['maximize']:
                    grad = -grad
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['exp_avg'] = torch.zeros_like(p)
                    state['exp_avg_sq'] = torch.zeros_like(p)
                    state['previous_grad'] = torch.zeros_like(p)
                exp_avg, exp_avg_sq, previous_grad = state['exp_avg'], state['exp_avg_sq'], state['previous_grad']
                beta1, beta2 = group['betas']
                state['step'] += 1
                if group['weight_decay'] != 0:
                    grad.add_(p, alpha=group['weight_decay'])
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.sqrt().add_(group['eps'])
                bias_correction1 = 1 - beta1 ** state['step']
                bias_correction2 = 1 - beta2 ** state['step']
                diff = abs(previous_grad - grad)
                dfc = 1. / (1. + torch.exp(-diff))
                state['previous_grad'] = grad.clone()
                exp_avg1 = exp_avg * dfc
                step_size = group['lr'] * math.sqrt(bias_correction2) / bias_correction1
                p.addcdiv_(exp_avg1, denom, value=-step_size)


DIFFGRAD = dict(
    cls=DiffGrad,
    defaults=dict(lr=1e-3, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, maximize=False),
    kwargs=lambda o: dict(lr=o['lr'], betas=tuple(o['betas']), eps=o['eps'], weight_decay=o['weightDecay'],
                          maximize=o['maximize']),
    slots={'exp_avg': 'expAvg', 'exp_avg_sq': 'expAvgSq', 'previous_grad': 'previousGrad'},
    generator='tools/golden/pytorch_optimizer_family.py, shivram1987/diffGrad diffGrad_v2.py @ 93fb7fcd transcribed',
    cases=[
        dict(name='defaults', description='All defaults.', options={}, seed=1),
        dict(name='lr-betas', description='lr 0.05, betas (0.8, 0.99).', options=dict(lr=0.05, betas=[0.8, 0.99]), seed=2),
        dict(name='weight-decay', description='L2 weight decay (the stored previous gradient includes it).',
             options=dict(lr=0.05, weightDecay=0.1), seed=3),
        dict(name='maximize', description='maximize with weight decay.', options=dict(lr=0.05, maximize=True, weightDecay=0.1), seed=4),
        dict(name='eps', description='Large eps.', options=dict(lr=0.05, eps=0.3), seed=5),
        dict(name='groups', description='Param groups: w and t override lr and betas.', options=dict(lr=0.02),
             groups=[dict(params=['w', 't'], options=dict(lr=0.1, betas=[0.5, 0.9]))], seed=6),
        dict(name='missing-grads', description='Some steps have no gradient for some parameters (state untouched).',
             options=dict(lr=0.05), missing={2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}, seed=7),
        dict(name='large-grads', description='Gradients scaled by 50 (the friction saturates at 1).',
             options=dict(lr=0.05), scale=50.0, seed=8),
    ],
)

OPTIMIZERS = {'diffgrad': DIFFGRAD}

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('t', [2, 3, 2]), ('c', [])]
STEPS = 12


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run_case(name, info, spec):
    gen = torch.Generator().manual_seed(5000 + spec['seed'])
    full = dict(info['defaults'], **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}

    torch_groups, grouped = [], set()
    for g in spec.get('groups') or []:
        opts = dict(full, **g['options'])
        grouped.update(g['params'])
        torch_groups.append(dict(params=[params[n] for n in g['params']], **info['kwargs'](opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **info['kwargs'](full)))
    opt = info['cls'](torch_groups, **info['kwargs'](full))

    missing = spec.get('missing', {})
    grads_out, steps_out = [], []
    updates = {n: 0 for n in names}
    for k in range(STEPS):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            if n in missing.get(k, []):
                p.grad = None
                step_grads.append(None)
                continue
            with torch.no_grad():
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * spec.get('scale', 1.0)
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
            sys.exit(f'{name}/{spec["name"]}: torch step {st["step"]} != {updates[n]} updates of {n}')
        slots = {info['slots'][k]: floats(v) for k, v in st.items() if k in info['slots']}
        scalars = {info['scalars'][k]: float(v) for k, v in st.items() if k in info.get('scalars', {})}
        state_out[n] = dict(step=updates[n], scalars=scalars, slots=slots)

    fixture = dict(description=spec['description'] + ' Float64, ATEN_CPU_CAPABILITY=default.',
                   generator=f'{info["generator"]}, PyTorch {torch.__version__}', optimizer=name, options=spec['options'])
    if spec.get('groups'):
        fixture['groups'] = [dict(params=g['params'], options=g['options']) for g in spec['groups']]
    fixture['params'] = [dict(name=n, shape=shapes[n], data=initial[n]) for n in names]
    fixture['grads'] = grads_out
    fixture['expected'] = dict(steps=steps_out, state=state_out)
    return fixture


def check_all_finite(value, where):
    if isinstance(value, float) and not math.isfinite(value):
        sys.exit(f'{where}: non-finite number {value}')
    if isinstance(value, dict):
        for v in value.values():
            check_all_finite(v, where)
    if isinstance(value, list):
        for v in value:
            check_all_finite(v, where)


def main():
    config = torch.__config__.show()
    if 'CPU capability usage: NO AVX' not in config and 'CPU capability usage: DEFAULT' not in config:
        sys.exit('ATEN_CPU_CAPABILITY=default did not take effect')
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    only = sys.argv[1:]
    for name, info in OPTIMIZERS.items():
        if only and name not in only:
            continue
        out = FIXTURES / name
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob('*.json'):
            old.unlink()
        for spec in info['cases']:
            fixture = run_case(name, info, spec)
            check_all_finite(fixture, f'{name}/{spec["name"]}')
            path = out / f'{spec["name"]}.json'
            text = json.dumps(fixture, allow_nan=False, separators=(',', ':')) + '\n'
            path.write_text(text)
            print(f'{path.relative_to(ROOT)}  {len(text)} bytes')


if __name__ == '__main__':
    main()
