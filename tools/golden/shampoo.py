#!/usr/bin/python3
"""Golden float64 trajectories of torch-optimizer's Shampoo for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/shampoo.py

It writes packages/core/test/fixtures/shampoo/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input: optimizer, options, groups, params, grads, plus description, generator and the expected
trajectory: every parameter after every step and the final state). packages/core/test/shampoo-adafactor.test.ts
replays each file through the reference.

torch-optimizer (jettify/pytorch-optimizer) is not packaged for Debian, so its `Shampoo.step` (file
torch_optimizer/shampoo.py, ~80 lines) is transcribed below with torch 1.13 operations, statement for statement:
the momentum mix `grad.mul_(1 - momentum).add_(buf, alpha=momentum)` with the buffer started as the first
gradient and replaced by the final preconditioned gradient, L2 weight decay, and the loop over dims that
transposes dim i to the front, views the gradient as (d_i, -1), adds grad @ grad.t() to precond_i, recomputes
inv_precond_i = precond_i^(-1/order) by SVD when state['step'] % update_freq == 0, and multiplies (on the left,
or for the last dim on the right of the transposed view). Like the original it modifies p.grad in place, so the
gradients are recorded before each step.

Variants that are not torch-optimizer (each case's description says which it uses):
* inverse_root='iterative': seed 000's `_compute_inv_root_iterative` (the coupled Newton-Schulz-type
  iteration with the `coefs` table and `abc(r, steps, scale=1.001)`) instead of the SVD, with the number of
  steps passed explicitly (descent's `iterSteps`) and eps = descent's `iterEps`. Only the root changes; the
  optimizer around it stays torch-optimizer's (the seed's copy also changed the momentum, which is not used).
* exponent='paper': the root order is 2*order instead of order (Gupta et al.).
* statistics='paper': precond_i accumulates the mode-i Gram matrix of the gradient as it was before any
  preconditioning, instead of the partly preconditioned `grad` of the loop (Gupta et al.).

Gradients are those of a noisy quadratic f(θ) = ½ Σ a (θ − c)² at torch's current parameters, recorded exactly.
ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in generate.py; torch.svd (LAPACK) and the matrix
products still round differently from the reference's Jacobi eigendecomposition and plain loops, so the replay
uses a looser tolerance than 1e-12.
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
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'shampoo'
GENERATOR = f'tools/golden/shampoo.py, PyTorch {torch.__version__}'


# --------------------------------------------------------------------------------------------------------
# torch-optimizer's Shampoo (transcribed) and seed 000's iterative inverse root.

def matrix_power_svd(matrix, power):
    u, s, v = torch.svd(matrix)
    return u @ s.pow_(power).diag() @ v.t()


COEFS = [
    None,
    [(14.2975, -31.2203, 18.9214), (7.12258, -7.78207, 2.35989), (6.9396, -7.61544, 2.3195),
     (5.98456, -6.77016, 2.12571), (3.79109, -4.18664, 1.39555), (3, -3, 1)],
    [(7.42487, -18.3958, 12.8967), (3.48773, -2.33004, 0.440469), (2.77661, -2.07064, 0.463023),
     (1.99131, -1.37394, 0.387593), (15 / 8, -5 / 4, 3 / 8)],
    [(5.05052, -13.5427, 10.2579), (2.31728, -1.06581, 0.144441), (1.79293, -0.913562, 0.186699),
     (1.56683, -0.786609, 0.220008), (14 / 9, -7 / 9, 2 / 9)],
    [(3.85003, -10.8539, 8.61893), (1.80992, -0.587778, 0.0647852), (1.50394, -0.594516, 0.121161),
     (45 / 32, -9 / 16, 5 / 32)],
    [(3.11194, -8.28217, 6.67716), (1.5752, -0.393327, 0.0380364), (1.3736, -0.44661, 0.0911259),
     (33 / 25, -11 / 25, 3 / 25)],
]


def abc(r, steps, scale):
    w = COEFS[r]
    for a, b, c in w[:steps] + w[-1:] * max(steps - len(w), 0):
        yield a / scale, b / scale ** (r + 1), c / scale ** (2 * r + 1)


def inv_root_iterative(P, r, eps, steps):
    assert 1 <= r < len(COEFS), 'the seed has coefficients for r = 1 ... 5 only'
    s = 1
    eye = torch.eye(P.shape[0], dtype=P.dtype)
    t = torch.sqrt((P * P).sum())
    P_norm = P / t + eps * eye
    G = eye.clone()
    for a, b, c in abc(r, steps, scale=1.001):
        W = a * eye + b * P_norm + c * (P_norm @ P_norm)
        W1 = torch.linalg.matrix_power(W, s)
        W2 = torch.linalg.matrix_power(W, r)
        G = G @ W1
        P_norm = P_norm @ W2
    return G * (t ** (-s / r))


class Shampoo(Optimizer):
    def __init__(self, params, lr=1e-1, momentum=0.0, weight_decay=0.0, epsilon=1e-4, update_freq=1,
                 exponent='code', statistics='code', inverse_root='svd', iter_steps=12, iter_eps=1e-5):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, epsilon=epsilon,
                        update_freq=update_freq, exponent=exponent, statistics=statistics,
                        inverse_root=inverse_root, iter_steps=iter_steps, iter_eps=iter_eps)
        super().__init__(params, defaults)

    def inverse_root(self, group, precond, root):
        if group['inverse_root'] == 'svd':
            return matrix_power_svd(precond, -1 / root)
        return inv_root_iterative(precond, root, group['iter_eps'], group['iter_steps'])

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.data
                order = grad.ndimension()
                original_size = grad.size()
                state = self.state[p]
                momentum = group['momentum']
                weight_decay = group['weight_decay']
                if len(state) == 0:
                    state['step'] = 0
                    if momentum > 0:
                        state['momentum_buffer'] = grad.clone()
                    for dim_id, dim in enumerate(grad.size()):
                        state['precond_{}'.format(dim_id)] = group['epsilon'] * torch.eye(dim, out=grad.new(dim, dim))
                        state['inv_precond_{dim_id}'.format(dim_id=dim_id)] = grad.new(dim, dim).zero_()

                if momentum > 0:
                    grad.mul_(1 - momentum).add_(state['momentum_buffer'], alpha=momentum)

                if weight_decay > 0:
                    grad.add_(p.data, alpha=group['weight_decay'])

                root = order * (2 if group['exponent'] == 'paper' else 1)
                raw = grad.clone()  # statistics='paper' (variant): the gradient before preconditioning

                for dim_id, dim in enumerate(grad.size()):
                    precond = state['precond_{}'.format(dim_id)]
                    inv_precond = state['inv_precond_{}'.format(dim_id)]

                    grad = grad.transpose_(0, dim_id).contiguous()
                    transposed_size = grad.size()
                    grad = grad.view(dim, -1)

                    grad_t = grad.t()
                    if group['statistics'] == 'paper':
                        raw_i = raw.transpose(0, dim_id).contiguous().view(dim, -1)
                        precond.add_(raw_i @ raw_i.t())
                    else:
                        precond.add_(grad @ grad_t)
                    if state['step'] % group['update_freq'] == 0:
                        inv_precond.copy_(self.inverse_root(group, precond, root))

                    if dim_id == order - 1:
                        grad = grad_t @ inv_precond
                        grad = grad.view(original_size)
                    else:
                        grad = inv_precond @ grad
                        grad = grad.view(transposed_size)

                state['step'] += 1
                state['momentum_buffer'] = grad
                p.data.add_(grad, alpha=-group['lr'])


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=1e-1, momentum=0.0, weightDecay=0.0, epsilon=1e-4, updateFreq=1, exponent='code',
                statistics='code', inverseRoot='eigh', iterSteps=12, iterEps=1e-5)

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('t', [2, 3, 2]), ('c', [])]
MISSING = {2: ['b'], 4: ['w', 's'], 5: ['t']}


def case(name, description, options=None, *, groups=None, steps=8, seed=0, scale=1.0, missing=None):
    return dict(name=name, description=description, options=options or {}, groups=groups, steps=steps,
                seed=seed, scale=scale, missing=missing or {})


TRANSCRIBED = 'torch-optimizer Shampoo (transcribed).'
CASES = [
    case('defaults', 'All defaults (lr 0.1, epsilon 1e-4, update_freq 1). ' + TRANSCRIBED, seed=1),
    case('momentum-weight-decay', 'Momentum 0.9 and L2 weight decay 0.1; epsilon 0.01. ' + TRANSCRIBED,
         dict(lr=0.05, momentum=0.9, weightDecay=0.1, epsilon=0.01), seed=2),
    # Between refreshes a stale root meets new gradient directions; with epsilon 1e-4 the vector b (5 elements,
    # rank-1 statistics) would be pushed along directions where the stale H^-1 is 1/epsilon = 1e4 and the
    # trajectory would blow up into numbers no two implementations agree on, so these cases use epsilon 0.1.
    # Likewise momentum mixes the previous update into the new direction, outside the span of b's statistics;
    # with epsilon 1e-4 the trajectory's condition number reaches ~1e8 (checked with mpmath at 60 digits: torch
    # and the reference are then both ~1e-8 from the exact trajectory), so the momentum cases use 0.01.
    case('update-freq', 'Inverse roots recomputed every 3 steps (steps 1, 4, 7, 10); epsilon 0.1. ' + TRANSCRIBED,
         dict(lr=0.05, updateFreq=3, epsilon=0.1), steps=10, seed=3),
    case('epsilon', 'Large epsilon 0.5. ' + TRANSCRIBED, dict(lr=0.2, epsilon=0.5), seed=4),
    case('groups', 'Param groups: b and t override lr, momentum and update frequency. ' + TRANSCRIBED,
         dict(lr=0.05, epsilon=0.1), groups=[dict(params=['b', 't'], options=dict(lr=0.1, momentum=0.5, updateFreq=2))],
         seed=5),
    case('missing-grads', 'Some steps have no gradient for some parameters (skipped, state untouched). '
         'Epsilon 0.01. ' + TRANSCRIBED, dict(lr=0.05, momentum=0.8, epsilon=0.01), missing=MISSING, seed=6),
    case('newton-schulz', 'Inverse roots by seed 000\'s coupled iteration (12 steps, iter_eps 1e-5) inside '
         'torch-optimizer\'s Shampoo (variant).', dict(lr=0.05, inverseRoot='newtonSchulz'), seed=7),
    case('newton-schulz-short', 'Inverse roots by seed 000\'s coupled iteration with 5 steps (about the seed\'s '
         'own count) and iter_eps 1e-3 (variant).',
         dict(lr=0.05, inverseRoot='newtonSchulz', iterSteps=5, iterEps=1e-3), seed=8),
    case('paper', 'Gupta et al.\'s exponent −1/(2k) and statistics from the unpreconditioned gradient '
         '(variant of the transcription).', dict(lr=0.05, exponent='paper', statistics='paper'), seed=9),
    case('paper-exponent', 'Exponent −1/(2k) with torch-optimizer\'s sequential statistics (variant).',
         dict(lr=0.05, exponent='paper', momentum=0.5), seed=10),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full):
    return dict(lr=full['lr'], momentum=full['momentum'], weight_decay=full['weightDecay'], epsilon=full['epsilon'],
                update_freq=full['updateFreq'], exponent=full['exponent'], statistics=full['statistics'],
                inverse_root='svd' if full['inverseRoot'] == 'eigh' else 'iterative',
                iter_steps=full['iterSteps'], iter_eps=full['iterEps'])


def slot_name(key):
    if key == 'momentum_buffer':
        return 'momentumBuffer'
    if key.startswith('inv_precond_'):
        return 'invPrecond' + key[len('inv_precond_'):]
    if key.startswith('precond_'):
        return 'precond' + key[len('precond_'):]
    sys.exit(f'unexpected state key {key!r}')


def run_case(spec):
    gen = torch.Generator().manual_seed(2000 + spec['seed'])
    full = dict(DEFAULTS, **spec['options'])
    names = [n for n, _ in SHAPES]
    shapes = dict(SHAPES)
    params = {n: torch.nn.Parameter(torch.randn(shapes[n], generator=gen)) for n in names}
    initial = {n: floats(params[n]) for n in names}
    target = {n: torch.randn(shapes[n], generator=gen) for n in names}
    curve = {n: 0.5 + 1.5 * torch.rand(shapes[n], generator=gen) for n in names}

    group_opts = {n: full for n in names}
    torch_groups, grouped = [], set()
    for g in spec['groups'] or []:
        opts = dict(full, **g['options'])
        for n in g['params']:
            group_opts[n] = opts
            grouped.add(n)
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_kwargs(full)))
    opt = Shampoo(torch_groups, **torch_kwargs(full))

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
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * spec['scale']
            step_grads.append(floats(g))
            updates[n] += 1
            p.grad = g.clone()  # Shampoo.step modifies p.grad in place
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
        slots = {}
        for key, value in st.items():
            if key == 'step':
                continue
            if key == 'momentum_buffer' and group_opts[n]['momentum'] == 0:
                continue  # torch-optimizer stores it even without momentum; descent has no such slot
            slots[slot_name(key)] = floats(value)
        state_out[n] = dict(step=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' float64, ATEN_CPU_CAPABILITY=default.',
                   generator=GENERATOR, optimizer='shampoo', options=spec['options'])
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
