#!/usr/bin/python3
"""Golden float64 trajectories of pytorch_optimizer's SM3 for descent's `sm3`.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/sm3.py

It writes packages/core/test/fixtures/sm3/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/sm3.test.ts replays each
file through the reference.

pytorch_optimizer (kozistr/pytorch_optimizer) is not packaged for Debian. Its `SM3.step` for dense gradients and
`reduce_max_except_dim` (pytorch_optimizer/optimizer/sm3.py, commit 00fbae068636bc87d18aa2dda7368283c4bb6de0) use
only operations torch 1.13 has (min, max with keepdim, mul_, addcmul_, add_, rsqrt_), so they are transcribed
below statement for statement, with the state initialisation (momentum_buffer = zeros; accumulator_i of shape
[1]*i + [shape[i]] + [1]*(rank-1-i), or like the parameter for rank 0). The sparse branch is left out.

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly. ATEN_CPU_CAPABILITY=
default (portable kernels, no FMA) as in generate.py. Every operation is elementwise or a max/min, so the replay
is expected to agree bitwise.
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
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'sm3'
GENERATOR = f'tools/golden/sm3.py, PyTorch {torch.__version__}'


# --------------------------------------------------------------------------------------------------------
# pytorch_optimizer's SM3 (dense branch), transcribed.

@torch.no_grad()
def reduce_max_except_dim(x, dim):
    rank = len(x.shape)
    if rank == 0:
        return x
    if dim >= rank:
        raise ValueError(f'[-] given dim is bigger than rank. {dim} >= {rank}')
    for d in range(rank):
        if d != dim:
            x = x.max(dim=d, keepdim=True).values
    return x


class SM3(Optimizer):
    def __init__(self, params, lr=1e-1, momentum=0.0, beta=0.0, eps=1e-30):
        super().__init__(params, dict(lr=lr, momentum=momentum, beta=beta, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            momentum, beta = group['momentum'], group['beta']
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad
                shape = grad.shape
                rank = len(shape)
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0
                    state['momentum_buffer'] = torch.zeros_like(p)
                    if rank == 0:
                        state['accumulator_0'] = torch.zeros_like(p)
                    else:
                        for i in range(rank):
                            state[f'accumulator_{i}'] = torch.zeros(
                                [1] * i + [shape[i]] + [1] * (rank - 1 - i), dtype=grad.dtype, device=grad.device
                            )
                state['step'] += 1

                update = state['accumulator_0'].clone()
                for i in range(1, rank):
                    update = torch.min(update, state[f'accumulator_{i}'])
                if beta > 0.0:
                    update.mul_(beta)
                update.addcmul_(grad, grad, value=1.0 - beta)

                for i in range(rank):
                    acc = state[f'accumulator_{i}']
                    nu_max = reduce_max_except_dim(update, i)
                    if beta > 0.0:
                        torch.max(acc, nu_max, out=acc)
                    else:
                        acc.copy_(nu_max)

                update.add_(group['eps']).rsqrt_().mul_(grad)

                if momentum > 0.0:
                    m = state['momentum_buffer']
                    m.mul_(momentum).add_(update, alpha=1.0 - momentum)
                    update = m

                p.add_(update, alpha=-group['lr'])


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=0.1, momentum=0.0, beta=0.0, eps=1e-30)

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', []), ('t', [2, 3, 2]), ('c', [4, 1])]
MISSING = {2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}


def case(name, description, options=None, *, groups=None, steps=12, seed=0, scale=1.0, zeros=False, missing=None):
    return dict(name=name, description=description, options=options or {}, groups=groups, steps=steps, seed=seed,
                scale=scale, zeros=zeros, missing=missing or {})


CASES = [
    case('defaults', 'All defaults (lr 0.1, no momentum, beta 0: the paper\'s SM3).', seed=1),
    case('momentum', 'momentum 0.9.', dict(momentum=0.9, lr=0.05), seed=2),
    case('beta', 'beta 0.9: moving average of the accumulators, max with the old accumulator.', dict(beta=0.9), seed=3),
    case('beta-momentum', 'beta 0.99 and momentum 0.5.', dict(beta=0.99, momentum=0.5, lr=0.05), seed=4),
    case('eps', 'eps 1e-2 (visible in the step size).', dict(eps=1e-2), seed=5),
    case('groups', 'Param groups: w and t override lr, beta and momentum.', dict(lr=0.05),
         groups=[dict(params=['w', 't'], options=dict(lr=0.2, beta=0.5, momentum=0.8))], seed=6),
    case('missing-grads', 'Some steps have no gradient for some parameters (skipped, state untouched).',
         missing=MISSING, seed=7),
    case('zero-grads', 'Gradients with exact zeros, and an all-zero first gradient for w and c (u = 0/sqrt(eps)).',
         seed=8, zeros=True),
    case('scaled', 'Gradients scaled by 1e3 every other step and 1e-3 otherwise.', dict(momentum=0.9), seed=9,
         scale='alternating'),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full):
    return dict(lr=full['lr'], momentum=full['momentum'], beta=full['beta'], eps=full['eps'])


def run_case(spec):
    gen = torch.Generator().manual_seed(5000 + spec['seed'])
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
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_kwargs(full)))
    opt = SM3(torch_groups, **torch_kwargs(full))

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
        if st['step'] != updates[n]:
            sys.exit(f'{spec["name"]}: {st["step"]} torch updates != {updates[n]} of {n}')
        slots = dict(momentumBuffer=floats(st['momentum_buffer']))
        for key, value in st.items():
            if key.startswith('accumulator_'):
                slots['accumulator' + key[len('accumulator_'):]] = floats(value)
        state_out[n] = dict(step=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' pytorch_optimizer SM3 (dense) transcribed; float64, '
                   'ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer='sm3',
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
