#!/usr/bin/python3
"""Golden float64 trajectories of Schedule-Free SGD and AdamW for the descent Float64 reference.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/schedule_free.py

It writes packages/core/test/fixtures/schedule-free/<case>.json in the format of tools/golden/generate.py (the
`descent replay` input plus the expected trajectory and final state); packages/core/test/golden-schedule-free.test.ts
replays each file through the reference.

The schedulefree package is not in Debian. Its reference classes use only operations PyTorch 1.13 has, so they
are transcribed below statement for statement from facebookresearch/schedule_free:
- SGDScheduleFreeReference, schedulefree/sgd_schedulefree_reference.py at commit
  59ed9b662d5ec5799aded7390b2482758423653c;
- AdamWScheduleFreeReference, schedulefree/adamw_schedulefree_reference.py at commit
  1fb6be511a11a7901ee033fe63b5de7bb5ce1f68.
Left out: train()/eval() (the trajectories are recorded in train mode, where p = y), the `print`s, `foreach`, and
the in-place weight decay on p.grad (the gradient is a fresh clone each step). The redundant state['y'] is kept
here and checked equal to p; the fixtures record z, x (and exp_avg_sq) per parameter, with upstream's group
scalars lr_max and weight_sum recorded as each parameter's scalars lrMax and weightSum (descent keeps them per
parameter; every parameter gets a gradient every step here, so they are the same thing).

Gradients are those of a noisy quadratic at torch's current parameters (y), recorded exactly.
ATEN_CPU_CAPABILITY=default (portable kernels, no FMA) as in generate.py.
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
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'schedule-free'
GENERATOR = (f'tools/golden/schedule_free.py, PyTorch {torch.__version__} running facebookresearch/schedule_free\'s '
             'reference classes (transcribed)')


# --------------------------------------------------------------------------------------------------------
# Transcribed upstream reference classes (train mode only).

class SGDScheduleFreeReference(Optimizer):
    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0, warmup_steps=0, r=0.0, weight_lr_power=2):
        defaults = dict(lr=lr, momentum=momentum, r=r, k=0, warmup_steps=warmup_steps, train_mode=True,
                        weight_sum=0.0, lr_max=-1.0, scheduled_lr=0.0, weight_lr_power=weight_lr_power,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            momentum = group['momentum']
            lr = group['lr']
            weight_decay = group['weight_decay']
            k = group['k']
            warmup_steps = group['warmup_steps']
            if k < warmup_steps:
                sched = (k + 1) / warmup_steps
            else:
                sched = 1.0
            lr = group['lr'] * sched
            group['scheduled_lr'] = lr
            weight_lr_power = group['weight_lr_power']
            r = group['r']
            lr_max = group['lr_max'] = max(lr, group['lr_max'])
            weight = ((k + 1) ** r) * (lr_max ** weight_lr_power)
            weight_sum = group['weight_sum'] = group['weight_sum'] + weight
            try:
                ckp1 = weight / weight_sum
            except ZeroDivisionError:
                ckp1 = 0
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if 'z' not in state:
                    state['z'] = torch.clone(p)
                    state['x'] = torch.clone(p)
                    state['y'] = torch.clone(p)
                z = state['z']
                x = state['x']
                y = state['y']
                if weight_decay != 0:
                    grad.add_(y, alpha=weight_decay)
                z.sub_(grad, alpha=lr)
                x.mul_(1 - ckp1).add_(z, alpha=ckp1)
                y.copy_(x.mul(momentum).add_(z, alpha=1 - momentum))
                p.copy_(y)
            group['k'] = k + 1


class AdamWScheduleFreeReference(Optimizer):
    def __init__(self, params, lr=0.0025, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, warmup_steps=0, r=0,
                 weight_lr_power=2, decay_at_z=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, r=r, k=0, warmup_steps=warmup_steps, train_mode=True,
                        weight_sum=0.0, lr_max=-1.0, weight_lr_power=weight_lr_power, decay_at_z=decay_at_z,
                        weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            eps = group['eps']
            lr = max(group['lr'], eps)  # dead upstream too: overwritten below
            decay = group['weight_decay']
            beta1, beta2 = group['betas']
            k = group['k']
            r = group['r']
            warmup_steps = group['warmup_steps']
            weight_lr_power = group['weight_lr_power']
            decay_at_z = group['decay_at_z']
            if k < warmup_steps:
                sched = (k + 1) / warmup_steps
            else:
                sched = 1.0
            bias_correction2 = 1 - beta2 ** (k + 1)
            lr = group['lr'] * sched * math.sqrt(bias_correction2)
            lr_max = group['lr_max'] = max(lr, group['lr_max'])
            weight = ((k + 1) ** r) * (lr_max ** weight_lr_power)
            weight_sum = group['weight_sum'] = group['weight_sum'] + weight
            try:
                ckp1 = weight / weight_sum
            except ZeroDivisionError:
                ckp1 = 0
            for p in group['params']:
                if p.grad is None:
                    continue
                grad = p.grad.data
                state = self.state[p]
                if 'z' not in state:
                    state['z'] = torch.clone(p.data)
                    state['exp_avg_sq'] = torch.zeros_like(p.data)
                    state['x'] = torch.clone(p.data)
                    state['y'] = torch.clone(p.data)
                exp_avg_sq = state['exp_avg_sq']
                z = state['z']
                x = state['x']
                y = state['y']
                if decay != 0:
                    decay_point = z if decay_at_z else y
                    z.data.sub_(decay_point, alpha=lr * decay)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.sqrt().add_(eps)
                z.data.addcdiv_(grad, denom, value=-lr)
                x.mul_(1 - ckp1).add_(z, alpha=ckp1)
                y.copy_(x.mul(beta1).add_(z, alpha=1 - beta1))
                p.data.copy_(y)
            group['k'] = k + 1


# --------------------------------------------------------------------------------------------------------
# Cases.

SGD_DEFAULTS = dict(lr=1.0, momentum=0.9, weightDecay=0.0, warmupSteps=0, r=0.0, weightLrPower=2.0)
ADAMW_DEFAULTS = dict(lr=0.0025, betas=[0.9, 0.999], eps=1e-8, weightDecay=0.0, warmupSteps=0, r=0.0,
                      weightLrPower=2.0, decayAtZ=False)

SHAPES = [('w', [3, 4]), ('b', [5]), ('s', [1]), ('c', [])]


def case(name, optimizer, description, options=None, *, groups=None, steps=14, seed=0, scale=1.0):
    return dict(name=name, optimizer=optimizer, description=description, options=options or {}, groups=groups,
                steps=steps, seed=seed, scale=scale)


CASES = [
    case('sgd-defaults', 'scheduleFreeSgd', 'Schedule-Free SGD, all defaults except a smaller lr.', dict(lr=0.1), seed=1),
    case('sgd-warmup', 'scheduleFreeSgd', 'Warmup over 5 steps (the weights grow with lr_max^2 during it).',
         dict(lr=0.3, warmupSteps=5), seed=2),
    case('sgd-weight-decay-r', 'scheduleFreeSgd', 'L2 weight decay at y, polynomial weighting r = 1, '
         'weight_lr_power 1, momentum 0.5.', dict(lr=0.2, weightDecay=0.1, r=1.0, weightLrPower=1.0, momentum=0.5),
         seed=3, steps=10),
    case('sgd-groups', 'scheduleFreeSgd', 'Param groups: w and s override lr, momentum and warmup.',
         dict(lr=0.1, warmupSteps=3), groups=[dict(params=['w', 's'], options=dict(lr=0.05, momentum=0.8,
                                                                                 warmupSteps=6))], seed=4),
    case('sgd-lr-zero', 'scheduleFreeSgd', 'lr 0: every weight is 0, so c = 0 (upstream\'s ZeroDivisionError '
         'branch) and x stays at the initial point.', dict(lr=0.0), seed=5, steps=4),
    case('adamw-defaults', 'scheduleFreeAdamw', 'Schedule-Free AdamW, all defaults.', seed=11),
    case('adamw-warmup', 'scheduleFreeAdamw', 'Warmup over 6 steps, larger lr.', dict(lr=0.05, warmupSteps=6),
         seed=12),
    case('adamw-weight-decay', 'scheduleFreeAdamw', 'Weight decay at y.', dict(lr=0.02, weightDecay=0.3), seed=13),
    case('adamw-decay-at-z', 'scheduleFreeAdamw', 'Weight decay at z, r = 2, weight_lr_power 0.',
         dict(lr=0.02, weightDecay=0.3, decayAtZ=True, r=2.0, weightLrPower=0.0), seed=14),
    case('adamw-betas-eps', 'scheduleFreeAdamw', 'betas (0.5, 0.9), eps 0.01, tiny gradients (eps dominates).',
         dict(lr=0.01, betas=[0.5, 0.9], eps=0.01, warmupSteps=2), seed=15, scale=1e-3),
    case('adamw-groups', 'scheduleFreeAdamw', 'Param groups: b and c override lr, betas and decay.',
         dict(lr=0.01), groups=[dict(params=['b', 'c'], options=dict(lr=0.03, betas=[0.8, 0.99],
                                                                    weightDecay=0.05))], seed=16),
]


def floats(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def torch_kwargs(optimizer, full):
    if optimizer == 'scheduleFreeSgd':
        return dict(lr=full['lr'], momentum=full['momentum'], weight_decay=full['weightDecay'],
                    warmup_steps=full['warmupSteps'], r=full['r'], weight_lr_power=full['weightLrPower'])
    return dict(lr=full['lr'], betas=tuple(full['betas']), eps=full['eps'], weight_decay=full['weightDecay'],
                warmup_steps=full['warmupSteps'], r=full['r'], weight_lr_power=full['weightLrPower'],
                decay_at_z=full['decayAtZ'])


SLOTS = {'z': 'z', 'x': 'x', 'exp_avg_sq': 'expAvgSq'}


def run_case(spec):
    gen = torch.Generator().manual_seed(5000 + spec['seed'])
    optimizer = spec['optimizer']
    cls = SGDScheduleFreeReference if optimizer == 'scheduleFreeSgd' else AdamWScheduleFreeReference
    full = dict(SGD_DEFAULTS if optimizer == 'scheduleFreeSgd' else ADAMW_DEFAULTS, **spec['options'])
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
        torch_groups.append(dict(params=[params[n] for n in g['params']], **torch_kwargs(optimizer, opts)))
    rest = [params[n] for n in names if n not in grouped]
    if rest:
        torch_groups.insert(0, dict(params=rest, **torch_kwargs(optimizer, full)))
    opt = cls(torch_groups, **torch_kwargs(optimizer, full))

    grads_out, steps_out = [], []
    for _ in range(spec['steps']):
        step_grads = []
        for n in names:
            p = params[n]
            noise = torch.randn(shapes[n], generator=gen)
            with torch.no_grad():
                g = (curve[n] * (p - target[n]) + 0.3 * noise) * spec['scale']
            step_grads.append(floats(g))
            p.grad = g.clone()
        opt.step()
        grads_out.append(step_grads)
        steps_out.append(dict(params=[floats(params[n]) for n in names]))

    state_out = {}
    group_of = {id(p): g for g in opt.param_groups for p in g['params']}
    for n in names:
        st = opt.state[params[n]]
        if not torch.equal(st['y'], params[n].data):
            sys.exit(f'{spec["name"]}: state y of {n} differs from the parameter')
        group = group_of[id(params[n])]
        slots = {SLOTS[k]: floats(v) for k, v in st.items() if k in SLOTS}
        state_out[n] = dict(step=spec['steps'], scalars=dict(lrMax=group['lr_max'], weightSum=group['weight_sum']),
                            slots=slots)

    fixture = dict(description=spec['description'] + ' schedule_free reference class transcribed; float64, '
                   'ATEN_CPU_CAPABILITY=default.', generator=GENERATOR, optimizer=optimizer, options=spec['options'])
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
