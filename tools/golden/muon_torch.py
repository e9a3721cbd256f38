#!/usr/bin/python3
"""Golden float64 trajectories of PyTorch 2.9's torch.optim.Muon for descent's `muonTorch`.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/muon_torch.py

It writes packages/core/test/fixtures/muon-torch/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/muon-torch.test.ts
replays each file through the reference.

torch.optim.Muon first shipped in PyTorch 2.9; Debian has 1.13. Its for-loop kernel `_single_tensor_muon` and
`_zeropower_via_newtonschulz` (torch/optim/_muon.py of pytorch/pytorch, commit
b5ee4d7a797023e11507aea90811559872ce8ff6; the later 098e03f91de9384cc3afdf5c8b9a6bbc442bd66a only adds the
`use_addmm` switch, default False, whose path is the one below) use only operations 1.13 has (lerp, norm, clamp,
matmul, transpose), so they are transcribed below statement for statement, with `_adjust_lr` and the state
initialisation of `Muon._init_group` (momentum_buffer = zeros). One deliberate change: PyTorch casts the matrix
to bfloat16 before Newton-Schulz (`grad.bfloat16()`); here it stays float64, as in descent's Float64 reference.

Note: PyTorch's docstring writes the momentum as B = mu*B + g, but the code runs buf.lerp_(grad, 1 - momentum)
(B = mu*B + (1 - mu)*g) and grad.lerp(buf, momentum) for Nesterov; the code is transcribed.

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly. ATEN_CPU_CAPABILITY=
default (portable kernels, no FMA) as in generate.py; the matrix products are BLAS's (a different summation order
from the reference's plain loops), so agreement is to rounding, not bitwise.
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
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'muon-torch'
GENERATOR = f'tools/golden/muon_torch.py, PyTorch {torch.__version__}'


# --------------------------------------------------------------------------------------------------------
# PyTorch 2.9's torch/optim/_muon.py, transcribed (float64 instead of bfloat16 in Newton-Schulz).

def zeropower_via_newtonschulz(grad, ns_coefficients, ns_steps, eps):
    if ns_steps >= 100:
        raise ValueError('Number of steps must be less than 100 for computational efficiency')
    if len(grad.shape) != 2:
        raise ValueError('Input tensor gradient must be a 2D matrix')
    a, b, c = ns_coefficients
    ortho_grad = grad.clone()  # PyTorch: grad.bfloat16()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = b * gram_matrix + c * gram_matrix @ gram_matrix
        ortho_grad = a * ortho_grad + gram_update @ ortho_grad
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def adjust_lr(lr, adjust_lr_fn, param_shape):
    A, B = param_shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == 'original':
        adjusted_ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == 'match_rms_adamw':
        adjusted_ratio = 0.2 * math.sqrt(max(A, B))
    else:
        adjusted_ratio = 1.0
    return lr * adjusted_ratio


class Muon(Optimizer):
    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group['params']:
                if p.ndim != 2:
                    raise ValueError(f'Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}')

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, weight_decay, momentum = group['lr'], group['weight_decay'], group['momentum']
            for param in group['params']:
                if param.grad is None:
                    continue
                grad = param.grad
                state = self.state[param]
                if 'momentum_buffer' not in state:
                    state['momentum_buffer'] = torch.zeros_like(grad, memory_format=torch.preserve_format)
                state['updates'] = state.get('updates', 0) + 1
                # _single_tensor_muon
                buf = state['momentum_buffer']
                buf.lerp_(grad, 1 - momentum)
                update = grad.lerp(buf, momentum) if group['nesterov'] else buf
                update = zeropower_via_newtonschulz(update, group['ns_coefficients'], group['ns_steps'], group['eps'])
                adjusted_lr = adjust_lr(lr, group['adjust_lr_fn'], param.shape)
                param.mul_(1 - lr * weight_decay)
                param.add_(update, alpha=-adjusted_lr)


# --------------------------------------------------------------------------------------------------------
# Cases.

DEFAULTS = dict(lr=1e-3, weightDecay=0.1, momentum=0.95, nesterov=True, nsA=3.4445, nsB=-4.775, nsC=2.0315,
                eps=1e-7, nsSteps=5, adjustLrFn='original')

SHAPES = [('w', [3, 4]), ('t', [5, 2]), ('s', [4, 4]), ('r', [1, 3]), ('c', [3, 1])]
MISSING = {2: ['t'], 5: ['w', 's'], 6: ['w'], 9: ['r']}


def case(name, description, options=None, *, groups=None, steps=12, seed=0, scale=1.0, zeros=False, missing=None):
    return dict(name=name, description=description, options=options or {}, groups=groups, steps=steps, seed=seed,
                scale=scale, zeros=zeros, missing=missing or {})


CASES = [
    case('defaults', 'All defaults (lr 1e-3, weight decay 0.1, momentum 0.95, Nesterov, Keller\'s quintic).', seed=1),
    case('larger-lr', 'lr 0.05, so the parameters move visibly.', dict(lr=0.05), seed=2),
    case('plain-momentum', 'nesterov=False (B itself is orthogonalized), no weight decay.',
         dict(lr=0.05, nesterov=False, weightDecay=0.0), seed=3),
    case('match-rms-adamw', 'adjust_lr_fn="match_rms_adamw" (0.2 sqrt(max(A, B))) with weight decay 0.2.',
         dict(lr=0.02, weightDecay=0.2, adjustLrFn='matchRmsAdamw'), seed=4),
    case('cubic', 'ns_coefficients (1.5, -0.5, 0), the classic cubic, with 8 steps; momentum 0.8.',
         dict(lr=0.05, nsA=1.5, nsB=-0.5, nsC=0.0, nsSteps=8, momentum=0.8), seed=5),
    case('groups', 'Param groups: w and t override lr, momentum and adjust_lr_fn.', dict(lr=0.02),
         groups=[dict(params=['w', 't'], options=dict(lr=0.1, momentum=0.5, adjustLrFn='matchRmsAdamw'))], seed=6),
    case('missing-grads', 'Some steps have no gradient for some parameters (skipped, state untouched).',
         dict(lr=0.05), missing=MISSING, seed=7),
    case('zero-grads', 'Gradients with exact zeros, and an all-zero gradient on the first step of some parameters '
         '(U = 0: 0 / max(0, eps) = 0).', dict(lr=0.05), seed=8, zeros=True),
    case('tiny', 'Gradients ~1e-9 with eps = 1e-6: ||U||_F < eps, so the clamp max(||U||, eps) binds (where '
         'Keller\'s ||U|| + eps would differ).', dict(lr=0.05, eps=1e-6), seed=9, scale=1e-9),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full):
    return dict(lr=full['lr'], weight_decay=full['weightDecay'], momentum=full['momentum'], nesterov=full['nesterov'],
                ns_coefficients=(full['nsA'], full['nsB'], full['nsC']), eps=full['eps'], ns_steps=full['nsSteps'],
                adjust_lr_fn='match_rms_adamw' if full['adjustLrFn'] == 'matchRmsAdamw' else None)


def run_case(spec):
    gen = torch.Generator().manual_seed(4000 + spec['seed'])
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
    opt = Muon(torch_groups, **torch_kwargs(full))

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
        if st['updates'] != updates[n]:
            sys.exit(f'{spec["name"]}: {st["updates"]} torch updates != {updates[n]} of {n}')
        state_out[n] = dict(step=updates[n], scalars={}, slots=dict(momentumBuffer=floats(st['momentum_buffer'])))

    fixture = dict(description=spec['description'] + ' PyTorch 2.9 _single_tensor_muon transcribed; float64 '
                   '(no bfloat16), ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer='muonTorch',
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
