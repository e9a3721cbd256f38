#!/usr/bin/python3
"""Golden float64 trajectories of PyTorch 2.5's Adafactor for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/adafactor.py

It writes packages/core/test/fixtures/adafactor/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/shampoo-adafactor.test.ts
replays each file through the reference.

torch.optim.Adafactor first shipped in PyTorch 2.5; Debian has 1.13. Its for-loop kernel
`_single_tensor_adafactor` (torch/optim/_adafactor.py) uses only operations 1.13 has (linalg.vector_norm,
lerp_, matmul, mean, clamp_, rsqrt_), so it is transcribed below statement for statement, with the state
initialisation of `Adafactor._init_group` (row_var with the last dim reduced to 1, col_var with the
second-to-last reduced to 1, for grads of dim > 1; variance otherwise). The step count is a Python float here
rather than a 0-d tensor; `step_t.item()` is that float there.

eps1: PyTorch's default eps=(None, 1e-3) means eps1 = torch.finfo(param.dtype).eps, 2^-52 for these float64
parameters. descent's eps is a pair of numbers defaulting to (2^-23, 1e-3), PyTorch's value for float32
parameters, so every case passes eps explicitly, except `torch-float64-default`, which runs torch with
eps=(None, 1e-3) and records descent's options as eps = [2^-52, 1e-3] (the script checks that torch chose that).

Gradients are those of a noisy quadratic at torch's current parameters, recorded exactly (some cases scale
them or put exact zeros in them). ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in generate.py.
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
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'adafactor'
GENERATOR = f'tools/golden/adafactor.py, PyTorch {torch.__version__} running PyTorch 2.5\'s _single_tensor_adafactor'


# --------------------------------------------------------------------------------------------------------
# PyTorch 2.5's Adafactor, single-tensor path (transcribed).

class Adafactor(Optimizer):
    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False):
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)
        self.eps1_used = set()

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            eps1, eps2 = group['eps']
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state['step'] = 0.0
                    if p.grad.dim() > 1:
                        row_shape = list(p.grad.shape)
                        row_shape[-1] = 1
                        state['row_var'] = p.grad.new_zeros(row_shape)
                        col_shape = list(p.grad.shape)
                        col_shape[-2] = 1
                        state['col_var'] = p.grad.new_zeros(col_shape)
                    else:
                        state['variance'] = torch.zeros_like(p.grad, memory_format=torch.preserve_format)
                self.single_tensor(p, state, group, eps1, eps2)

    def single_tensor(self, param, state, group, eps1, eps2):
        lr, beta2_decay, d = group['lr'], group['beta2_decay'], group['d']
        weight_decay, maximize = group['weight_decay'], group['maximize']
        grad = param.grad if not maximize else -param.grad
        row_var = state.get('row_var')
        col_var = state.get('col_var')
        variance = state.get('variance')
        if eps1 is None:
            eps1 = torch.finfo(param.dtype).eps
        self.eps1_used.add(eps1)

        state['step'] += 1
        step_float = state['step']

        one_minus_beta2_t = step_float ** beta2_decay
        rho_t = min(lr, 1 / (step_float ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t

        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)

        if grad.dim() > 1:
            row_mean = torch.linalg.vector_norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
            row_var.lerp_(row_mean, one_minus_beta2_t)
            col_mean = torch.linalg.vector_norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
            col_var.lerp_(col_mean, one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            grad_squared = grad * grad
            variance.lerp_(grad_squared, one_minus_beta2_t)
            var_estimate = variance.clone()

        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        param.add_(update, alpha=-alpha / denom)


# --------------------------------------------------------------------------------------------------------
# Cases.

F32_EPS = 2.0 ** -23
DEFAULTS = dict(lr=1e-2, beta2Decay=-0.8, eps=[F32_EPS, 1e-3], d=1.0, weightDecay=0.0, maximize=False)

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('t', [2, 3, 2]), ('c', []), ('r', [4, 1])]
MISSING = {2: ['b'], 5: ['w', 's'], 6: ['w'], 9: ['t']}


def case(name, description, options=None, *, groups=None, steps=12, seed=0, scale=1.0, zeros=False,
         missing=None, torch_eps=None):
    return dict(name=name, description=description, options=options or {}, groups=groups, steps=steps, seed=seed,
                scale=scale, zeros=zeros, missing=missing or {}, torch_eps=torch_eps)


CASES = [
    case('defaults', 'All defaults (descent\'s eps = (2^-23, 1e-3), PyTorch\'s float32 eps1).', seed=1),
    case('lr-beta2-decay', 'Larger lr (the cap of rho_t) and beta2_decay -0.5.', dict(lr=0.1, beta2Decay=-0.5), seed=2),
    case('weight-decay', 'Decoupled weight decay.', dict(lr=0.05, weightDecay=0.2), seed=3),
    case('maximize', 'maximize with weight decay.', dict(lr=0.05, maximize=True, weightDecay=0.1), seed=4),
    case('clipping', 'Clipping threshold d = 1.2 and a gradient scale that changes every step, so RMS(U) > d on '
         'some steps.', dict(lr=0.05, d=1.2), seed=5, scale='alternating'),
    case('eps', 'Large eps (eps1 = 0.05 binds in the row mean and the variance clamp; eps2 = 2 binds in alpha).',
         dict(eps=[0.05, 2.0]), seed=6),
    case('torch-float64-default', 'PyTorch run with eps=(None, 1e-3), so eps1 = finfo(float64).eps = 2^-52; '
         'descent gets eps = [2^-52, 1e-3].', dict(eps=[2.0 ** -52, 1e-3]), seed=7, torch_eps=(None, 1e-3)),
    case('groups', 'Param groups: w and t override lr, beta2_decay and d.', dict(lr=0.02),
         groups=[dict(params=['w', 't'], options=dict(lr=0.1, beta2Decay=-0.6, d=1.5))], seed=8),
    case('missing-grads', 'Some steps have no gradient for some parameters (skipped, state untouched).',
         dict(lr=0.05), missing=MISSING, seed=9),
    case('zero-grads', 'Gradients with exact zeros (whole rows and columns sometimes: the eps1 clamps).',
         dict(lr=0.05), seed=10, zeros=True),
    case('tiny', 'Gradients ~1e-9: V-hat ~1e-18 is below eps1^2 ~1.4e-14, so the clamp sets the scale.',
         dict(lr=0.05), seed=11, scale=1e-9),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(full, torch_eps=None):
    return dict(lr=full['lr'], beta2_decay=full['beta2Decay'], eps=torch_eps or tuple(full['eps']), d=full['d'],
                weight_decay=full['weightDecay'], maximize=full['maximize'])


SLOTS = {'row_var': 'rowVar', 'col_var': 'colVar', 'variance': 'variance'}


def run_case(spec):
    gen = torch.Generator().manual_seed(3000 + spec['seed'])
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
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(opts, spec['torch_eps'])))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_kwargs(full, spec['torch_eps'])))
    opt = Adafactor(torch_groups, **torch_kwargs(full, spec['torch_eps']))

    grads_out, steps_out = [], []
    updates = {n: 0 for n in names}
    for k in range(spec['steps']):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            if spec['zeros']:
                mask = torch.rand(shapes[n], generator=gen) < 0.3
                if len(shapes[n]) >= 2 and k % 3 == 1:
                    mask[..., 0, :] = True  # a whole row of zeros
                if len(shapes[n]) >= 2 and k % 3 == 2:
                    mask[..., :, 0] = True  # a whole column of zeros
            else:
                mask = None
            if n in spec['missing'].get(k, []):
                p.grad = None
                step_grads.append(None)
                continue
            scale = (10.0 if k % 2 == 0 else 0.1) * (1 + k) if spec['scale'] == 'alternating' else spec['scale']
            with torch.no_grad():
                g = curve[n] * (p - target[n]) + 0.3 * noise
                if group_opts[n]['maximize']:
                    g = -g
                g = g * scale
                if mask is not None:
                    g[mask] = 0.0
            step_grads.append(floats(g))
            updates[n] += 1
            p.grad = g.clone()
        opt.step()
        grads_out.append(step_grads)
        steps_out.append(dict(params=[floats(params[n]) for n in names]))

    if spec['torch_eps'] is not None and opt.eps1_used != {2.0 ** -52}:
        sys.exit(f'{spec["name"]}: torch used eps1 {opt.eps1_used}, expected 2^-52')

    state_out = {}
    for n in names:
        st = opt.state.get(params[n], {})
        if not st:
            continue
        if st['step'] != updates[n]:
            sys.exit(f'{spec["name"]}: torch step {st["step"]} != {updates[n]} updates of {n}')
        slots = {SLOTS[k]: floats(v) for k, v in st.items() if k != 'step'}
        state_out[n] = dict(step=updates[n], scalars={}, slots=slots)

    fixture = dict(description=spec['description'] + ' PyTorch 2.5 _single_tensor_adafactor transcribed; float64, '
                   'ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer='adafactor', options=spec['options'])
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
