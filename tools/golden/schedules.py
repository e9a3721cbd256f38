#!/usr/bin/python3
"""Golden learning-rate trajectories for descent's schedules.

Run with Debian's PyTorch (apt-get install python3-torch):

    /usr/bin/python3 tools/golden/schedules.py

It writes one JSON file per case to packages/core/test/fixtures/schedules/<case>.json, which
packages/core/test/schedules.test.ts compares with the schedules' closed forms (relative error <= 1e-12).

How the trajectories are made
-----------------------------
* Every case is an SGD optimizer (PyTorch's default SGD, no momentum) with two param groups whose learning
  rates are `baseLrs`, and a torch.optim.lr_scheduler scheduler. For each of `steps` iterations the script
  records every group's `lr` *before* optimizer.step(), then calls optimizer.step() and scheduler.step(), as
  a training loop does. So `lr[n]` is the learning rate of the (n+1)-th update, after n scheduler steps:
  descent's `lrAt(options, baseLr, n)`.
* `lr` holds what PyTorch's scheduler.step() produced (the recursive, "chainable" form for StepLR,
  ExponentialLR, CosineAnnealingLR, LinearLR, PolynomialLR, MultiStepLR). Where the scheduler has a
  closed form (`_get_closed_form_lr`), `closedForm[n]` holds it, evaluated at the same last_epoch. For
  SequentialLR, `closedForm[n]` is the closed form of the part that is active at step n (whose last_epoch
  restarts at its milestone).
* Schedules PyTorch lacks (warmupCosine, warmupLinear, wsd) are run through LambdaLR with factor functions
  transcribed here from their sources (Hugging Face Transformers' get_cosine_schedule_with_warmup /
  get_cosine_with_min_lr_schedule_with_warmup / get_linear_schedule_with_warmup, generalised by a warmup
  start factor and a final factor; epfml/schedules-and-scaling's `wsd_schedule` for wsd, with its decay
  length given in steps and 1/init_div_factor = warmupStartFactor). LambdaLR computes base_lr * factor(n)
  directly, so these have no `closedForm`.
* OneCycleLR runs with cycle_momentum=False (descent schedules learning rates only) and is recorded for
  n < total_steps (PyTorch raises after total_steps + 1 steps; descent holds the final rate from
  n = total_steps - 1 on).
* Pure Python float arithmetic: the output is deterministic and independent of ATen's kernels.

Each file: { description, generator, source (the PyTorch call), schedule ({ name, options } in descent's
JSON form), baseLrs, lr: [[lr of group 0, lr of group 1], ...], closedForm?: same shape }.
Numbers are Python `repr` floats, which read back to the same double.
"""

import json
import math
import shutil
import warnings
from bisect import bisect_right
from pathlib import Path

import torch
from torch.optim import lr_scheduler as S

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / 'packages' / 'core' / 'test' / 'fixtures' / 'schedules'
GENERATOR = f'tools/golden/schedules.py, PyTorch {torch.__version__}'
BASE_LRS = [0.1, 0.03]


def make_optimizer(base_lrs):
    groups = [{'params': [torch.zeros(1, dtype=torch.float64, requires_grad=True)], 'lr': lr} for lr in base_lrs]
    return torch.optim.SGD(groups, lr=1e-3)


def closed_form(sched):
    if isinstance(sched, S.SequentialLR):
        idx = bisect_right(sched._milestones, sched.last_epoch)
        return closed_form(sched._schedulers[idx])
    if hasattr(sched, '_get_closed_form_lr'):
        return list(sched._get_closed_form_lr())
    return None


def record(make_scheduler, steps, base_lrs=BASE_LRS):
    opt = make_optimizer(base_lrs)
    sched = make_scheduler(opt)
    lrs, closed = [], []
    for _ in range(steps):
        lrs.append([g['lr'] for g in opt.param_groups])
        closed.append(closed_form(sched))
        for g in opt.param_groups:
            for p in g['params']:
                p.grad = torch.zeros_like(p)
        opt.step()
        sched.step()
    has_closed = all(c is not None for c in closed)
    return lrs, (closed if has_closed else None)


# --- factor functions for LambdaLR (schedules PyTorch lacks) ---------------------------------------------

def warmup_cosine_factor(W, T, s, f):
    # Transformers: step < W -> step / max(1, W); progress = (step - W) / max(1, T - W);
    # factor = 0.5 * (1 + cos(pi * 2 * num_cycles * progress)) * (1 - min_lr_rate) + min_lr_rate, num_cycles = 0.5.
    def factor(step):
        if step < W:
            return s + (1.0 - s) * (float(step) / float(max(1, W)))
        if step >= T:
            return f
        progress = float(step - W) / float(max(1, T - W))
        cos = 0.5 * (1.0 + math.cos(math.pi * 2.0 * 0.5 * progress))
        return cos * (1.0 - f) + f
    return factor


def warmup_linear_factor(W, T, s, f):
    # Transformers: step < W -> step / max(1, W); else max(0, (T - step) / max(1, T - W)), rescaled to [f, 1].
    def factor(step):
        if step < W:
            return s + (1.0 - s) * (float(step) / float(max(1, W)))
        return f + (1.0 - f) * max(0.0, float(T - step) / float(max(1, T - W)))
    return factor


def wsd_factor(W, D, T, shape, s, f):
    # epfml/schedules-and-scaling src/optim/utils.py wsd_schedule, with n_anneal_steps = D, n_iterations = T,
    # n_hold = T - D, and 1 / init_div_factor = s.
    n_hold = T - D

    def factor(step):
        if step < W:
            return (step / W) + (1 - step / W) * s
        elif step < n_hold:
            return 1.0
        elif step < T:
            if shape == 'linear':
                return f + (1 - f) * (1 - (step - n_hold) / D)
            elif shape == 'cosine':
                return f + (1 - f) * (1 + math.cos(math.pi * (step - n_hold) / D)) * 0.5
            elif shape == '1-sqrt':
                return f + (1 - f) * (1 - math.sqrt((step - n_hold) / D))
            raise ValueError(shape)
        else:
            return f
    return factor


# --- cases ---------------------------------------------------------------------------------------------------

def case(name, description, source, schedule, make_scheduler, steps):
    return dict(name=name, description=description, source=source, schedule=schedule, make=make_scheduler, steps=steps)


def spec(name, **options):
    return {'name': name, 'options': options}


CASES = [
    case('step', 'StepLR, decay by 0.5 every 7 steps', 'StepLR(step_size=7, gamma=0.5)',
         spec('step', stepSize=7, gamma=0.5), lambda o: S.StepLR(o, step_size=7, gamma=0.5), 60),
    case('step-default-gamma', 'StepLR with the default gamma 0.1 (inexact powers)', 'StepLR(step_size=10)',
         spec('step', stepSize=10), lambda o: S.StepLR(o, step_size=10), 70),
    case('multi-step', 'MultiStepLR with a milestone at 0', 'MultiStepLR(milestones=[0, 5, 17, 40], gamma=0.3)',
         spec('multiStep', milestones=[0, 5, 17, 40], gamma=0.3),
         lambda o: S.MultiStepLR(o, milestones=[0, 5, 17, 40], gamma=0.3), 60),
    case('exponential', 'ExponentialLR over 200 steps', 'ExponentialLR(gamma=0.97)',
         spec('exponential', gamma=0.97), lambda o: S.ExponentialLR(o, gamma=0.97), 200),
    case('cosine', 'CosineAnnealingLR past T_max (the cosine rises again)', 'CosineAnnealingLR(T_max=50, eta_min=0.001)',
         spec('cosine', tMax=50, etaMin=0.001), lambda o: S.CosineAnnealingLR(o, T_max=50, eta_min=0.001), 120),
    case('cosine-to-zero', 'CosineAnnealingLR to eta_min = 0', 'CosineAnnealingLR(T_max=40)',
         spec('cosine', tMax=40), lambda o: S.CosineAnnealingLR(o, T_max=40), 100),
    case('cosine-long', 'CosineAnnealingLR over two half periods of 300 steps: the recursive form drifts',
         'CosineAnnealingLR(T_max=300)',
         spec('cosine', tMax=300), lambda o: S.CosineAnnealingLR(o, T_max=300), 650),
    case('linear-warmup', 'LinearLR as a warmup', 'LinearLR(start_factor=0.25, total_iters=10)',
         spec('linear', startFactor=0.25, totalIters=10), lambda o: S.LinearLR(o, start_factor=0.25, total_iters=10), 30),
    case('linear-decay', 'LinearLR as a decay', 'LinearLR(start_factor=1.0, end_factor=0.1, total_iters=25)',
         spec('linear', startFactor=1, endFactor=0.1, totalIters=25),
         lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=25), 40),
    case('linear-default', 'LinearLR with its defaults', 'LinearLR()',
         spec('linear'), lambda o: S.LinearLR(o), 12),
    case('polynomial', 'PolynomialLR, power 2', 'PolynomialLR(total_iters=30, power=2.0)',
         spec('polynomial', totalIters=30, power=2), lambda o: S.PolynomialLR(o, total_iters=30, power=2.0), 50),
    case('polynomial-fractional', 'PolynomialLR, power 0.9', 'PolynomialLR(total_iters=40, power=0.9)',
         spec('polynomial', totalIters=40, power=0.9), lambda o: S.PolynomialLR(o, total_iters=40, power=0.9), 60),
    case('one-cycle', 'OneCycleLR, two phases, cosine', 'OneCycleLR(max_lr=0.5, total_steps=100, cycle_momentum=False)',
         spec('oneCycle', maxLr=0.5, totalSteps=100),
         lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=100, cycle_momentum=False), 100),
    case('one-cycle-linear', 'OneCycleLR, two phases, linear, pct_start 0.25',
         'OneCycleLR(max_lr=0.2, total_steps=90, pct_start=0.25, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, cycle_momentum=False)',
         spec('oneCycle', maxLr=0.2, totalSteps=90, pctStart=0.25, annealStrategy='linear', divFactor=10, finalDivFactor=100),
         lambda o: S.OneCycleLR(o, max_lr=0.2, total_steps=90, pct_start=0.25, anneal_strategy='linear', div_factor=10.0,
                                final_div_factor=100.0, cycle_momentum=False), 90),
    case('one-cycle-three-phase', 'OneCycleLR, three phases, cosine',
         'OneCycleLR(max_lr=1.0, total_steps=120, pct_start=0.3, three_phase=True, cycle_momentum=False)',
         spec('oneCycle', maxLr=1, totalSteps=120, threePhase=True),
         lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=120, pct_start=0.3, three_phase=True, cycle_momentum=False), 120),
    case('sequence-warmup-cosine', 'SequentialLR: LinearLR warmup, then CosineAnnealingLR',
         'SequentialLR([LinearLR(start_factor=0.1, total_iters=10), CosineAnnealingLR(T_max=40, eta_min=0.002)], milestones=[10])',
         spec('sequence', schedules=[spec('linear', startFactor=0.1, totalIters=10), spec('cosine', tMax=40, etaMin=0.002)],
              milestones=[10]),
         lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=10),
                                      S.CosineAnnealingLR(o, T_max=40, eta_min=0.002)], milestones=[10]), 60),
    case('sequence-three-parts', 'SequentialLR of ExponentialLR, StepLR, PolynomialLR',
         'SequentialLR([ExponentialLR(gamma=0.9), StepLR(step_size=5, gamma=0.5), PolynomialLR(total_iters=20, power=1.5)], milestones=[8, 30])',
         spec('sequence', schedules=[spec('exponential', gamma=0.9), spec('step', stepSize=5, gamma=0.5),
                                     spec('polynomial', totalIters=20, power=1.5)], milestones=[8, 30]),
         lambda o: S.SequentialLR(o, [S.ExponentialLR(o, gamma=0.9), S.StepLR(o, step_size=5, gamma=0.5),
                                      S.PolynomialLR(o, total_iters=20, power=1.5)], milestones=[8, 30]), 70),
    case('warmup-cosine', 'linear warmup from 0.1, cosine to 0.05 (LambdaLR, Transformers formula)',
         'LambdaLR(warmup_cosine_factor(W=10, T=80, s=0.1, f=0.05))',
         spec('warmupCosine', warmupSteps=10, totalSteps=80, warmupStartFactor=0.1, finalFactor=0.05),
         lambda o: S.LambdaLR(o, warmup_cosine_factor(10, 80, 0.1, 0.05)), 100),
    case('warmup-cosine-default', 'linear warmup from 0, cosine to 0 (Transformers get_cosine_schedule_with_warmup)',
         'LambdaLR(warmup_cosine_factor(W=5, T=50, s=0, f=0))',
         spec('warmupCosine', warmupSteps=5, totalSteps=50),
         lambda o: S.LambdaLR(o, warmup_cosine_factor(5, 50, 0.0, 0.0)), 60),
    case('warmup-linear', 'linear warmup from 0, linear decay to 0.1 (Transformers formula)',
         'LambdaLR(warmup_linear_factor(W=10, T=60, s=0, f=0.1))',
         spec('warmupLinear', warmupSteps=10, totalSteps=60, finalFactor=0.1),
         lambda o: S.LambdaLR(o, warmup_linear_factor(10, 60, 0.0, 0.1)), 80),
    case('wsd-linear', 'warmup-stable-decay, linear cooldown (epfml wsd_schedule)',
         'LambdaLR(wsd_factor(W=10, D=20, T=80, "linear", s=0.01, f=0))',
         spec('wsd', warmupSteps=10, decaySteps=20, totalSteps=80, warmupStartFactor=0.01),
         lambda o: S.LambdaLR(o, wsd_factor(10, 20, 80, 'linear', 0.01, 0.0)), 90),
    case('wsd-cosine', 'warmup-stable-decay, cosine cooldown to 0.1 (epfml wsd_schedule)',
         'LambdaLR(wsd_factor(W=8, D=30, T=70, "cosine", s=0, f=0.1))',
         spec('wsd', warmupSteps=8, decaySteps=30, totalSteps=70, decayShape='cosine', finalFactor=0.1),
         lambda o: S.LambdaLR(o, wsd_factor(8, 30, 70, 'cosine', 0.0, 0.1)), 80),
    case('wsd-1-sqrt', 'warmup-stable-decay, 1-sqrt cooldown (epfml wsd_schedule, the paper\'s best)',
         'LambdaLR(wsd_factor(W=0, D=25, T=60, "1-sqrt", s=0, f=0))',
         spec('wsd', warmupSteps=0, decaySteps=25, totalSteps=60, decayShape='1-sqrt'),
         lambda o: S.LambdaLR(o, wsd_factor(0, 25, 60, '1-sqrt', 0.0, 0.0)), 70),
]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    warnings.simplefilter('ignore')  # SequentialLR's milestone step(0) warns that the epoch argument is deprecated
    for c in CASES:
        lrs, closed = record(c['make'], c['steps'])
        out = {
            'description': c['description'],
            'generator': GENERATOR,
            'source': 'torch.optim.lr_scheduler.' + c['source'],
            'schedule': c['schedule'],
            'baseLrs': BASE_LRS,
            'lr': lrs,
        }
        if closed is not None:
            out['closedForm'] = closed
        for row in lrs + (closed or []):
            for x in row:
                if not math.isfinite(x):
                    raise SystemExit(f'{c["name"]}: non-finite learning rate {x}')
        (OUT / f'{c["name"]}.json').write_text(json.dumps(out, indent=None, separators=(', ', ': ')) + '\n')
    print(f'wrote {len(CASES)} files to {OUT.relative_to(ROOT)}')


if __name__ == '__main__':
    main()
